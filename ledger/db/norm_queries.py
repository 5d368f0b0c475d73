"""Reads and writes of the stock norms, and the figures a suggestion needs: month totals of a
subtree, the write-offs and reversals that change its consumption, balances, minimums."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import Connection, and_, func, insert, select
from sqlalchemy.orm import aliased

from ledger.db import tables as t
from ledger.norms import NormSetting
from ledger.totals import MONTH


class NormRow(NamedTuple):
    setting: NormSetting
    set_by: int | None
    set_at: dt.datetime


def norm_rows(connection: Connection, through: dt.date | None = None) -> list[NormRow]:
    """Every norm set (valid from `through` or before, when given), in the order set."""
    n = t.stock_norms.c
    query = select(
        n.id, n.level, n.location_id, n.item_id, n.min_months, n.max_months, n.valid_from
    ).add_columns(n.set_by, n.set_at)
    if through is not None:
        query = query.where(n.valid_from <= through)
    rows = connection.execute(query.order_by(n.id))
    return [NormRow(NormSetting(*row[:7]), row[7], row[8]) for row in rows]


def insert_norm(connection: Connection, **values) -> int:
    return connection.execute(
        insert(t.stock_norms).returning(t.stock_norms.c.id), values
    ).scalar_one()


class Place(NamedTuple):
    id: int
    path: str
    level: str


def places_under(connection: Connection, path: str) -> list[Place]:
    """The physical locations of `path`'s subtree, in tree order."""
    loc = t.locations.c
    rows = connection.execute(
        select(loc.id, loc.path, loc.level)
        .where(loc.physical, loc.path.startswith(path, autoescape=True))
        .order_by(loc.path)
    )
    return [Place(*row) for row in rows]


class MonthMove(NamedTuple):
    location_id: int
    item_id: int
    start: dt.date
    kind: str
    incoming: bool
    quantity: int


def month_moves(connection: Connection, path: str, first: dt.date) -> list[MonthMove]:
    """What moved in and out of each physical place under `path` per kind in each month from
    `first` on (the movement totals, batches added together)."""
    m, loc = t.movement_totals.c, t.locations.c
    rows = connection.execute(
        select(m.location_id, m.item_id, m.starts_on, m.kind, m.incoming, func.sum(m.quantity))
        .join(t.locations, loc.id == m.location_id)
        .where(m.grain == MONTH, m.starts_on >= first, loc.path.startswith(path, autoescape=True))
        .group_by(m.location_id, m.item_id, m.starts_on, m.kind, m.incoming)
    )
    return [MonthMove(*row[:5], int(row[5])) for row in rows]


class UseChange(NamedTuple):
    """A posting at a physical place that changes consumption by −quantity: a write-off for a
    reason that counts as use, or the reversal of such a write-off or of a distribution."""

    location_id: int
    item_id: int
    occurred_on: dt.date
    quantity: int


def use_changes(
    connection: Connection, path: str, first: dt.date, reasons: frozenset[str]
) -> list[UseChange]:
    """The write-offs for `reasons` and the reversals of those and of distributions, dated from
    `first` on, at physical places under `path`."""
    tx, p, loc = t.transactions.c, t.postings.c, t.locations.c
    original = aliased(t.transactions)
    reverses_use = and_(
        tx.kind == "reversal",
        (original.c.kind == "distribution")
        | and_(original.c.kind == "write_off", original.c.reason.in_(sorted(reasons))),
    )
    write_off_for_use = and_(tx.kind == "write_off", tx.reason.in_(sorted(reasons)))
    rows = connection.execute(
        select(p.location_id, p.item_id, p.occurred_on, p.quantity)
        .select_from(t.transactions)
        .outerjoin(original, original.c.id == tx.reverses_id)
        .join(t.postings, p.transaction_id == tx.id)
        .join(t.locations, loc.id == p.location_id)
        .where(
            tx.kind.in_(("write_off", "reversal")),
            tx.occurred_on >= first,
            write_off_for_use | reverses_use,
            loc.physical,
            loc.path.startswith(path, autoescape=True),
        )
    )
    return [UseChange(*row) for row in rows]


def on_hand_under(connection: Connection, path: str) -> dict[tuple[int, int], int]:
    """(location id, item id) → on hand, every batch, at the physical places under `path`."""
    b, loc = t.balances.c, t.locations.c
    rows = connection.execute(
        select(b.location_id, b.item_id, func.sum(b.on_hand))
        .join(t.locations, loc.id == b.location_id)
        .where(loc.physical, loc.path.startswith(path, autoescape=True))
        .group_by(b.location_id, b.item_id)
    )
    return {(row[0], row[1]): int(row[2]) for row in rows if row[2]}


def minimums_under(connection: Connection, path: str) -> dict[tuple[int, int], int]:
    """(location id, item id) → the 最低库存 set there (0: none), under `path`."""
    s, loc = t.stock_minimums.c, t.locations.c
    rows = connection.execute(
        select(s.location_id, s.item_id, s.minimum)
        .join(t.locations, loc.id == s.location_id)
        .where(s.minimum > 0, loc.path.startswith(path, autoescape=True))
    )
    return {(row[0], row[1]): row[2] for row in rows}
