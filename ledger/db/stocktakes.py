"""Storage of stocktakes: headers, counted lines, the frozen book side and the adjustments."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import delete, insert, select, update

from ledger.db import report_queries
from ledger.db import tables as t
from ledger.db.session import Session
from ledger.db.store import LedgerStore
from ledger.model import StocktakeStatus

_S, _L, _B = t.stocktakes.c, t.stocktake_lines.c, t.stocktake_book.c


class StocktakeRow(NamedTuple):
    id: int
    number: str
    location_id: int
    item_codes: str
    cut_off: dt.date
    blind: bool
    subtree: bool  # the scope: the whole subtree, or the location (and location_codes) alone
    location_codes: str
    status: str
    memo: str
    created_by: int | None
    created_at: dt.datetime
    closed_at: dt.datetime | None
    approved_by: int | None
    approved_at: dt.datetime | None
    approval_reason: str | None


class CountRow(NamedTuple):
    id: int
    location_id: int
    item_id: int
    batch_id: int
    quantity: int
    source: str
    counted_by: int | None
    counted_at: dt.datetime


def insert_stocktake(store: LedgerStore, **values) -> int:
    return store.connection.execute(
        insert(t.stocktakes).returning(_S.id), {"status": StocktakeStatus.counting, **values}
    ).scalar_one()


def stocktake(store: LedgerStore, number: str, lock: bool = False) -> StocktakeRow | None:
    query = select(*t.stocktakes.c).where(_S.number == number)
    if lock and store.for_update:
        query = query.with_for_update()
    row = store.connection.execute(query).first()
    if row is None:
        return None
    values = list(row)
    values[4] = Session.read_date(values[4])
    return StocktakeRow(*values)


def set_status(store: LedgerStore, stocktake_id: int, status: StocktakeStatus, **values) -> None:
    store.connection.execute(
        update(t.stocktakes).where(_S.id == stocktake_id).values(status=status, **values)
    )


def add_counts(store: LedgerStore, rows: list[dict]) -> None:
    if rows:
        store.connection.execute(insert(t.stocktake_lines), rows)


def live_counts(store: LedgerStore, stocktake_id: int) -> list[CountRow]:
    rows = store.connection.execute(
        select(
            _L.id,
            _L.location_id,
            _L.item_id,
            _L.batch_id,
            _L.quantity,
            _L.source,
            _L.counted_by,
            _L.counted_at,
        )
        .where(_L.stocktake_id == stocktake_id, _L.superseded_at.is_(None))
        .order_by(_L.id)
    )
    return [CountRow(*row) for row in rows]


def sources(store: LedgerStore, stocktake_id: int) -> set[str]:
    return set(
        store.connection.execute(
            select(_L.source).where(_L.stocktake_id == stocktake_id).distinct()
        ).scalars()
    )


def supersede(
    store: LedgerStore, stocktake_id: int, keys: list[tuple[int, int, int]], at: dt.datetime
) -> int:
    """Mark the live lines of these accounts superseded; returns how many."""
    done = 0
    for location_id, item_id, batch_id in keys:
        done += store.connection.execute(
            update(t.stocktake_lines)
            .where(
                _L.stocktake_id == stocktake_id,
                _L.location_id == location_id,
                _L.item_id == item_id,
                _L.batch_id == batch_id,
                _L.superseded_at.is_(None),
            )
            .values(superseded_at=at)
        ).rowcount
    return done


def replace_book(store: LedgerStore, stocktake_id: int, rows: list[tuple]) -> None:
    """(location id, item id, batch id, book, after cut-off) for every account in scope."""
    store.connection.execute(delete(t.stocktake_book).where(_B.stocktake_id == stocktake_id))
    if rows:
        store.connection.execute(
            insert(t.stocktake_book),
            [
                {
                    "stocktake_id": stocktake_id,
                    "location_id": location_id,
                    "item_id": item_id,
                    "batch_id": batch_id,
                    "book": book,
                    "after_cut_off": after,
                }
                for location_id, item_id, batch_id, book, after in rows
            ],
        )


def book(store: LedgerStore, stocktake_id: int) -> list[tuple[int, int, int, int, int]]:
    return [
        tuple(row)
        for row in store.connection.execute(
            select(_B.location_id, _B.item_id, _B.batch_id, _B.book, _B.after_cut_off).where(
                _B.stocktake_id == stocktake_id
            )
        )
    ]


paths_queried_apart_max = 50  # a scope of more named places reads the top's subtree once


def scope_balances(
    store: LedgerStore,
    path: str,
    item_ids: list[int] | None,
    cut_off: dt.date,
    locations: dict[int, str] | None = None,
) -> list[tuple[int, int, int, int, int]]:
    """Every physical account under `path` (of these items; only those at `locations`, id →
    path, unless None): its balance at the end of the cut-off day and the net of its postings
    after it."""
    if locations is None or len(locations) > paths_queried_apart_max:
        paths = [path]
    else:
        paths = sorted(set(locations.values()))
    book: dict[tuple[int, int, int], int] = {}
    after: dict[tuple[int, int, int], int] = {}
    for each in paths:
        book |= report_queries.physical_accounts_as_of(store.connection, each, cut_off, item_ids)
        after |= report_queries.net_after(store.connection, each, cut_off, item_ids)
    keys = set(book) | set(after)
    if locations is not None:
        keys = {key for key in keys if key[0] in locations}
    return [(*key, book.get(key, 0), after.get(key, 0)) for key in sorted(keys)]


def add_adjustment(store: LedgerStore, stocktake_id: int, transaction_id: int) -> None:
    store.connection.execute(
        insert(t.stocktake_adjustments),
        {"stocktake_id": stocktake_id, "transaction_id": transaction_id},
    )


def adjustments(store: LedgerStore, stocktake_id: int) -> list[str]:
    a, tx = t.stocktake_adjustments.c, t.transactions.c
    return list(
        store.connection.execute(
            select(tx.number)
            .join(t.stocktake_adjustments, a.transaction_id == tx.id)
            .where(a.stocktake_id == stocktake_id)
            .order_by(tx.id)
        ).scalars()
    )
