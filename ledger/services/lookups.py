"""Reads the entry points answer with: reference data, transactions, requests, the chain head.

Each is a function of the database, so that the HTTP layer (and any other caller) neither
touches the store nor writes a query. Who may read what is the caller's decision (api/policy.py
for the API): these functions take the subtree to read (`under`, a location path prefix; None
reads everything) as a plain argument.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from ledger.db import journal_queries, reference_queries
from ledger.db.reference_queries import LocationRecord
from ledger.db.scans import DocumentRow
from ledger.db.store import LocationEntry
from ledger.db.unit_of_work import Database
from ledger.db.users import UserFilter
from ledger.model import Batch, Item, Transaction, TransactionKind
from ledger.services.request_models import AllocationRequest
from ledger.services.request_records import load_request, request_numbers

# The stored rows and filters the services take or answer with, for the entry points to name.
__all__ = ["DocumentRow", "LocationEntry", "LocationRecord", "UserFilter"]


# ---- reference data ------------------------------------------------------------------------------


def location(database: Database, code: str, field: str = "location_code") -> LocationEntry:
    """A location by code; `field` names the input in the refusal of an unknown code."""
    cached = database.catalog.locations.get(code)  # committed rows only, never change
    return cached or database.lookup(lambda store: store.location(code, field))


def location_by_id(database: Database, location_id: int) -> LocationEntry:
    return database.lookup(lambda store: store.location_by_id(location_id))


def locations(
    database: Database,
    under: str | None,
    level: str | None,
    include_virtual: bool,
    limit: int,
    offset: int,
) -> list[LocationRecord]:
    """Locations in tree order within `under`; the shared virtual ones when `include_virtual`."""
    with database.read() as connection:
        return reference_queries.locations(connection, under, level, include_virtual, limit, offset)


def location_record(database: Database, entry: LocationEntry) -> LocationRecord:
    """One location as listed (with its population)."""
    with database.read() as connection:  # the location first in its subtree
        found = reference_queries.locations(connection, entry.path, None, True, 1)
    if found:
        return found[0]
    place = entry.location
    return LocationRecord(
        place.code, place.name, place.level.value, place.parent_code, entry.physical, entry.path
    )


def items(database: Database, limit: int, offset: int) -> list[Item]:
    """Items in code order, with their packs."""

    def work(store):
        codes = reference_queries.item_codes(store.connection, limit, offset)
        return [store.item(code).item for code in codes]

    return database.lookup(work)


def item(database: Database, code: str, field: str = "code") -> Item:
    return database.lookup(lambda store: store.item(code, field).item)


def batches(database: Database, item_code: str | None, limit: int, offset: int) -> list[Batch]:
    """Batches in item order, then oldest first; `item_code` (checked to exist) keeps one
    item's."""

    def work(store):
        if item_code is not None:
            store.item(item_code, "item")
        keys = reference_queries.batch_keys(store.connection, item_code, limit, offset)
        return [store.batch(store.item(code), number).batch for code, number in keys]

    return database.lookup(work)


def batch(database: Database, item_code: str, number: str) -> Batch:
    return database.lookup(
        lambda store: store.batch(store.item(item_code, "item_code"), number, "number").batch
    )


# ---- transactions and the chain --------------------------------------------------------------------


class TransactionFilter(NamedTuple):
    """under: only transactions whose own location or counterparty lies in that subtree.
    location_code: the transaction's own location or its counterparty."""

    under: str | None = None
    kind: TransactionKind | None = None
    location_code: str | None = None
    item_code: str | None = None
    batch_number: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def transactions(
    database: Database, wanted: TransactionFilter, limit: int, offset: int
) -> list[Transaction]:
    """Transactions matching `wanted` with their postings, oldest first."""

    def work(store):
        sequences = journal_queries.transaction_sequences(
            store.connection,
            wanted.under,
            wanted.kind.value if wanted.kind else None,
            wanted.location_code,
            wanted.item_code,
            wanted.batch_number,
            wanted.date_from,
            wanted.date_to,
            limit,
            offset,
        )
        return store.transactions(sequences)

    return database.lookup(work)


def transaction(database: Database, number: str) -> Transaction:
    """A transaction by its number (unknown_transaction otherwise)."""
    return database.lookup(lambda store: store.transaction_by_number(number))


def chain_head(database: Database) -> tuple[int, str]:
    """The chain head to hand out as a checkpoint: (sequence, hash); chain_head_mismatch when
    the recorded head is not the last transaction stored."""
    with database.read() as connection:
        return journal_queries.checkpoint_head(connection)


# ---- allocation requests ---------------------------------------------------------------------------


def requests(
    database: Database, under: str | None, status: str | None, limit: int, offset: int
) -> list[AllocationRequest]:
    """Requests from or to the subtree `under`, with their lines and shipments."""

    def work(store):
        numbers = request_numbers(store, under, status, limit, offset)
        return [load_request(store, number) for number in numbers]

    return database.lookup(work)
