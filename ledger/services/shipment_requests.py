"""Which allocation request a shipment belongs to, if any: a request's shipment is confirmed
through the request (`requests.confirm`, which also counts the arrival on the request's lines);
any other shipment (出库, 分配方案) by the ledger's plain confirmation (`c.Confirm`)."""

from __future__ import annotations

from ledger.db.scans import request_of_shipment
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database

__all__ = ["request_of"]


def request_of(database: Database, shipment_number: str) -> str | None:
    """The number of the request the shipment was made for, None for a shipment of no
    request (unknown_transaction for an unknown number)."""

    def work(store: LedgerStore) -> str | None:
        shipment = store.transaction_by_number(shipment_number)
        return request_of_shipment(store, shipment.sequence)

    return database.lookup(work)
