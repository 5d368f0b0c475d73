"""凭证 as the workspace reads them: a search newest first within a subtree, and one voucher with
what a reader needs beside it — the names of its places, its items (with their packs), when it
was recorded, the reversal that cancelled it or the original it cancels, the confirmation of a
shipment or the shipment a confirmation confirms, and whether it may still be reversed.

Who may read which voucher is the caller's decision (api/policy.py: require_sees_transaction);
`search` takes the subtree to read (`under`) as a plain argument."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from ledger.db import voucher_queries
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database
from ledger.db.voucher_queries import VoucherSearch
from ledger.model import Item, Posting, Transaction, TransactionKind

__all__ = ["VoucherLine", "VoucherSearch", "VoucherView", "lines_of", "search", "voucher"]

SHIPMENTS = (TransactionKind.issue, TransactionKind.transfer)


class VoucherView(NamedTuple):
    """One voucher and what is read beside it. names: location code → name (its own places,
    its counterparty's and every posting's). items: item code → item. expiries: (item code,
    batch number) → expiry date."""

    transaction: Transaction
    recorded_at: dt.datetime | None
    names: dict[str, str]
    items: dict[str, Item]
    expiries: dict[tuple[str, str], dt.date | None]
    original: str | None = None  # a reversal: the voucher it cancels
    reversed_by: str | None = None  # the reversal that cancelled this voucher
    shipment: str | None = None  # a confirmation: the shipment it confirms
    confirmation: str | None = None  # a shipment: its confirmation not reversed

    @property
    def reversible(self) -> bool:
        """What the ledger would reverse now: not a reversal, not reversed already, not a
        shipment whose confirmation stands (reverses.py refuses those)."""
        return (
            self.transaction.kind is not TransactionKind.reversal
            and self.reversed_by is None
            and self.confirmation is None
        )


class VoucherLine(NamedTuple):
    """A movement of a voucher as a reader says it: so much of an item's batch from one place
    to another. from_code / to_code: None where the voucher names no such side."""

    item_code: str
    batch_number: str
    from_code: str | None
    to_code: str | None
    quantity: int


def search(database: Database, wanted: VoucherSearch, limit: int, offset: int) -> list[Transaction]:
    """Vouchers matching `wanted` with their postings, newest first (part of a number matches
    whatever its letters' case)."""
    if wanted.number:
        wanted = wanted._replace(number=wanted.number.strip().upper())

    def work(store: LedgerStore) -> list[Transaction]:
        sequences = voucher_queries.voucher_sequences(store.connection, wanted, limit, offset)
        return store.transactions(sequences)

    return database.lookup(work)


def voucher(database: Database, number: str) -> VoucherView:
    """One voucher by its number (unknown_transaction otherwise) and what is read beside it."""
    return database.lookup(lambda store: _view(store, store.transaction_by_number(number)))


def _view(store: LedgerStore, transaction: Transaction) -> VoucherView:
    codes = {transaction.location_code, *(p.location_code for p in transaction.postings)}
    if transaction.counterparty_code:
        codes.add(transaction.counterparty_code)
    items = {p.item_code: store.item(p.item_code).item for p in transaction.postings}
    expiries = {
        (p.item_code, p.batch_number): store.batch(
            store.item(p.item_code), p.batch_number
        ).batch.expires_on
        for p in transaction.postings
    }
    sequence = transaction.sequence
    return VoucherView(
        transaction,
        voucher_queries.recorded_at(store.connection, sequence),
        {code: store.location(code).location.name for code in sorted(codes)},
        items,
        expiries,
        original=(
            store.transaction(transaction.reverses_sequence).number
            if transaction.reverses_sequence is not None
            else None
        ),
        reversed_by=store.reversal_of(sequence),
        shipment=(
            store.transaction(transaction.shipment_sequence).number
            if transaction.shipment_sequence is not None
            else None
        ),
        confirmation=(
            store.active_confirmation(sequence) if transaction.kind in SHIPMENTS else None
        ),
    )


def lines_of(postings: tuple[Posting, ...]) -> list[VoucherLine]:
    """A voucher's postings as movements, per item and batch: where one place gives, each
    receiving place gets its line from it; where one place receives, each giving place gives
    it its line; otherwise (several on both sides) each posting is a line of its own side."""
    groups: dict[tuple[str, str], list[Posting]] = {}
    for posting in postings:
        groups.setdefault((posting.item_code, posting.batch_number), []).append(posting)
    lines: list[VoucherLine] = []
    for (item, batch), group in groups.items():
        givers = [p for p in group if p.quantity < 0]
        takers = [p for p in group if p.quantity > 0]
        if len(givers) == 1:
            source = givers[0].location_code
            lines += [VoucherLine(item, batch, source, p.location_code, p.quantity) for p in takers]
        elif len(takers) == 1:
            target = takers[0].location_code
            lines += [
                VoucherLine(item, batch, p.location_code, target, -p.quantity) for p in givers
            ]
        else:
            lines += [
                VoucherLine(item, batch, p.location_code, None, -p.quantity) for p in givers
            ] + [VoucherLine(item, batch, None, p.location_code, p.quantity) for p in takers]
    return lines
