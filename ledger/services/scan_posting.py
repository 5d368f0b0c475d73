"""Posting a scan document: its packs become one voucher (a receipt, an issue — against a
request, a shipment of it — or a confirmation with what was not scanned short); a count
closes with its totals and posts nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ledger import commands as c
from ledger.db import scans as db
from ledger.db.store import LedgerStore, LocationEntry
from ledger.model import ScanDocumentStatus, ScanPurpose, Transaction, VirtualLocation
from ledger.rules import Code, LedgerError
from ledger.services import request_models as rq
from ledger.services.checks import business_date, check_composed_memo
from ledger.services.confirmations import confirm
from ledger.services.movements import issue, receive
from ledger.services.request_shipments import confirm_shipment, ship_request
from ledger.services.scan_documents import (
    document_row,
    load_document,
    log_document,
    open_shipment,
    require_open,
)
from ledger.services.scan_models import ScanDocument


def post(
    store: LedgerStore,
    document_id: int,
    actor: int | None,
    today: dt.date,
    occurred_on: dt.date | None = None,
    check_document: Callable[[db.DocumentRow], None] = lambda row: None,
    shortage: c.Shortage | None = None,
) -> ScanDocument:
    """Post the document's packs as one transaction (a count just closes with its totals).

    shortage: on a confirmation with packs not scanned, the receiver's acknowledgement of what
    is missing (see `ledger.commands.Shortage`); only confirmations take one."""
    row = document_row(store, document_id, lock=True)
    check_document(row)
    require_open(row)
    if shortage is not None and row.purpose != ScanPurpose.confirm:
        raise LedgerError(
            Code.no_shortage_to_confirm,
            "只有到货签收单可以填写短少确认 (only a confirmation takes a shortage)",
            "shortage",
        )
    lines = db.live_lines(store, row.id)
    if not lines:
        raise LedgerError(Code.nothing_scanned, "还没有扫描任何包 (nothing scanned)", "document")
    on = business_date(occurred_on, today)
    location = store.location_by_id(row.location_id)
    by_batch: dict[int, list[db.LineRow]] = {}
    for line in lines:
        by_batch.setdefault(line.pack.batch_id, []).append(line)
    if row.purpose == ScanPurpose.confirm:  # every batch of the shipment: unscanned are short
        for pack in db.shipment_packs(store, row.shipment_id or 0):
            store.packs.pinned.setdefault(pack.batch_id, [])
    for batch_id, batch_lines in by_batch.items():
        store.packs.pinned[batch_id] = [line.pack.id for line in batch_lines]
    try:
        transaction = _post(store, row, location, by_batch, actor, today, on, shortage)
    finally:
        store.packs.pinned.clear()
    store.flush()
    posted = transaction.sequence if transaction else None
    db.close_document(store, row.id, ScanDocumentStatus.posted, posted)
    document = load_document(store, row.id)
    log_document(store, "scan_document.post", document, actor)
    return document


class _Scanned:
    """A document's live scans by batch: the base units of each, and its (item code, batch)."""

    def __init__(self, store: LedgerStore, by_batch: dict[int, list[db.LineRow]]) -> None:
        self.store, self.by_batch = store, by_batch

    def quantity(self, batch_id: int) -> int:
        return sum(line.pack.quantity for line in self.by_batch[batch_id])

    def names(self, batch_id: int) -> tuple[str, str]:
        batch = self.store.batch_by_id(batch_id)
        return self.store.item_by_id(batch.item_id).item.code, batch.batch.number


def _post(
    store: LedgerStore,
    row: db.DocumentRow,
    location: LocationEntry,
    by_batch: dict[int, list[db.LineRow]],
    actor: int | None,
    today: dt.date,
    on: dt.date,
    shortage: c.Shortage | None = None,
) -> Transaction | None:
    scanned = _Scanned(store, by_batch)
    memo = row.memo or f"扫描单 {row.id}"
    if row.purpose == ScanPurpose.count:
        return None
    if row.purpose == ScanPurpose.receive:
        lines = tuple(
            c.ReceiptLine(*scanned.names(batch_id), scanned.quantity(batch_id))
            for batch_id in by_batch
        )
        return receive(store, c.Receive(location.location.code, lines, on, memo), today)
    if row.purpose == ScanPurpose.issue:
        return _post_issue(store, row, location, scanned, actor, today, on, memo)
    return _post_confirmation(store, row, scanned, actor, today, on, memo, shortage)


def _post_issue(
    store: LedgerStore,
    row: db.DocumentRow,
    location: LocationEntry,
    scanned: _Scanned,
    actor: int | None,
    today: dt.date,
    on: dt.date,
    memo: str,
) -> Transaction:
    """An issue of the scanned packs: a shipment of the document's request, or to its
    destination (the reasons for batches scanned out of FEFO order in the memo)."""
    by_batch, names, quantity = scanned.by_batch, scanned.names, scanned.quantity
    overrides = {
        batch_id: next((line.override_reason for line in ls if line.override_reason), None)
        for batch_id, ls in by_batch.items()
    }
    if row.request_number is not None:
        ship = rq.Ship(
            tuple(
                rq.ShipLine(
                    names(batch_id)[0],
                    quantity(batch_id),
                    batch_number=names(batch_id)[1],
                    override_reason=overrides[batch_id],
                )
                for batch_id in by_batch
            ),
            on,
            row.memo,
        )
        return ship_request(store, row.request_number, ship, actor, today)
    noted = [f"{'/'.join(names(b))}: {reason}" for b, reason in overrides.items() if reason]
    if noted:
        memo = f"{memo}；未按近效期先出：{'；'.join(noted)}"
    destination = store.location_by_id(row.destination_id or 0)
    command = c.Issue(
        location.location.code,
        destination.location.code,
        tuple(c.LineSpec(names(b)[0], quantity(b), names(b)[1]) for b in by_batch),
        on,
        check_composed_memo(memo, "改发原因"),
    )
    return issue(store, command, today)


def _post_confirmation(
    store: LedgerStore,
    row: db.DocumentRow,
    scanned: _Scanned,
    actor: int | None,
    today: dt.date,
    on: dt.date,
    memo: str,
    shortage: c.Shortage | None,
) -> Transaction:
    """What arrived is what was scanned plus the loose units that travelled unpacked; packs of
    the shipment that were not scanned are short — written off only with the receiver's
    explicit `shortage` (else shortage_unconfirmed names the missing packs)."""
    shipment = open_shipment(store, store.transaction(row.shipment_id or 0).number)
    packed = db.shipment_packs(store, shipment.sequence)
    unscanned: dict[tuple[str, str], int] = {}
    missing_packs = []
    scanned_ids = {line.pack.id for ls in scanned.by_batch.values() for line in ls}
    in_transit = store.location(VirtualLocation.in_transit.value).id
    for pack in packed:
        if pack.id not in scanned_ids and pack.location_id == in_transit and not pack.opened_on:
            key = scanned.names(pack.batch_id)
            unscanned[key] = unscanned.get(key, 0) + pack.quantity
            missing_packs.append(
                {
                    "item_code": key[0],
                    "batch_number": key[1],
                    "serial": pack.serial,
                    "quantity": pack.quantity,
                }
            )
    received = tuple(
        c.ReceivedLine(p.item_code, p.batch_number, p.quantity - unscanned[key])
        for p in shipment.postings
        if p.location_code == VirtualLocation.in_transit.value
        and unscanned.get(key := (p.item_code, p.batch_number))
    )
    request_number = db.request_of_shipment(store, shipment.sequence)
    try:
        if request_number is not None:
            return confirm_shipment(
                store,
                request_number,
                rq.ConfirmShipment(shipment.number, received, on, row.memo, shortage),
                actor,
                today,
            )
        command = c.Confirm(shipment.number, received, on, memo, shortage=shortage)
        return confirm(store, command, today)
    except LedgerError as error:
        if error.code is Code.shortage_unconfirmed and error.details is not None:
            missing_packs.sort(key=lambda p: (p["item_code"], p["batch_number"], p["serial"]))
            error.details["missing_packs"] = missing_packs
        raise
