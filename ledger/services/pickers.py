"""What the workspace's movement forms offer to choose from: the items of the ledger, the
batches of an item at a location in the order a pick takes them (FEFO, `ledger.picking`),
the places of a subtree, what each item has available at a location, a location's latest
vouchers and whether a voucher was reversed. Reads only; who may read what is the caller's
decision (api/policy.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from ledger.db import movement_queries
from ledger.db.reference_queries import LocationRecord
from ledger.db.unit_of_work import Database
from ledger.limits import page_size_max
from ledger.model import Batch, Item, Transaction
from ledger.picking import pick_order_key
from ledger.services import lookups
from ledger.services.balances import BalanceQuery, balances
from ledger.services.picking import stock_candidates

T = TypeVar("T")


class BatchChoice(NamedTuple):
    """A batch of an item in stock at a location, as a picker lists it.

    available: on hand minus reserved, in base units. expired: past its expiry on the day asked
    about (a batch is usable through its expiry day): not to be issued or distributed."""

    number: str
    expires_on: dt.date | None
    produced_on: dt.date | None
    on_hand: int
    available: int
    expired: bool


def _every(read_page: Callable[[int, int], list[T]]) -> list[T]:
    """Every row of a paged listing."""
    found: list[T] = []
    while True:
        rows = read_page(page_size_max, len(found))
        found.extend(rows)
        if len(rows) < page_size_max:
            return found


def all_items(database: Database) -> list[Item]:
    """Every item of the ledger (shared by every city), in code order, with its packs."""
    return _every(lambda limit, offset: lookups.items(database, limit, offset))


def known_batches(database: Database, item_code: str) -> list[Batch]:
    """Every batch of the item ever registered, oldest first (a receipt may add to one)."""
    return _every(lambda limit, offset: lookups.batches(database, item_code, limit, offset))


def places(database: Database, under: str | None) -> list[LocationRecord]:
    """The physical locations of the subtree `under` (None: every one), in tree order."""
    return _every(
        lambda limit, offset: lookups.locations(database, under, None, False, limit, offset)
    )


def batch_choices(
    database: Database, location_code: str, item_code: str, on: dt.date
) -> list[BatchChoice]:
    """The batches of the item in stock at the location, in the order a pick takes them:
    earliest expiry first, then oldest print run (`ledger.picking.pick_order_key`); each
    marked expired when it is past its expiry on `on`."""

    def work(store) -> list[BatchChoice]:
        location = store.location(location_code, "location_code")
        item = store.item(item_code, "item_code")
        stocked = {
            batch_id: on_hand
            for batch_id, on_hand, _ in store.stocked_batches(location.id, item.id)
        }
        found = stock_candidates(store, location.id, item.id)
        found.sort(key=lambda pair: pick_order_key(pair[1]))
        return [
            BatchChoice(
                candidate.batch_number,
                candidate.expires_on,
                candidate.produced_on,
                stocked[entry.id],
                candidate.available,
                entry.batch.is_expired(on),
            )
            for entry, candidate in found
        ]

    return database.lookup(work)


def available_by_item(database: Database, location_code: str) -> dict[str, int]:
    """Base units available (on hand minus reserved) at the location, by item code."""
    rows = balances(database, BalanceQuery(location_code=location_code), "location")
    return {row.item_code: row.available for row in rows}


def recent_vouchers(database: Database, location_code: str, limit: int) -> list[Transaction]:
    """The location's latest vouchers (its own or addressed to it), newest first."""

    def work(store) -> list[Transaction]:
        sequences = movement_queries.latest_sequences(store.connection, location_code, limit)
        return store.transactions(sequences)

    return database.lookup(work)


def reversal_of(database: Database, number: str) -> str | None:
    """The number of the voucher that reversed voucher `number`, if any."""

    def work(store) -> str | None:
        return store.reversal_of(store.transaction_by_number(number).sequence)

    return database.lookup(work)
