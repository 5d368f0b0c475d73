"""The queries behind the home page's key figures (首页·关键指标): stock on hand per item at the
ends of recent months, and which villages received an item, each computed once and then brought
forward by the postings of later transactions (see ledger/services/work_figures.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Connection, case, cast, func, select

from ledger.db import tables as t
from ledger.db.raw_reads import driver_tuples


def watermark(connection: Connection) -> tuple[int, int]:
    """What the figures read so far depends on: the last transaction of the chain (postings are
    append-only and numbered with their transaction in commit order) and the newest version of
    reference data (a location moved to another parent moves its stock between subtrees)."""
    head = connection.execute(select(t.chain_head.c.sequence)).scalar() or 0
    version = connection.execute(select(func.max(t.reference_versions.c.id))).scalar() or 0
    return int(head), int(version)


def _physical_under(path: str | None) -> list:
    loc = t.locations.c
    conditions: list = [loc.physical.is_(True)]
    if path is not None:
        conditions.append(loc.path.startswith(path, autoescape=True))
    return conditions


def on_hand_by_item(connection: Connection, path: str | None) -> dict[int, int]:
    """Stock on hand now per item, summed over the physical places under `path` (the stored
    balances)."""
    b = t.balances.c
    query = (
        select(b.item_id, cast(func.sum(b.on_hand), BigInteger))
        .join(t.locations, t.locations.c.id == b.location_id)
        .where(*_physical_under(path))
        .group_by(b.item_id)
    )
    return {item_id: int(total) for item_id, total in driver_tuples(connection, query)}


def net_by_item_after(
    connection: Connection, path: str | None, bounds: tuple[dt.date, ...]
) -> list[tuple[int, int, int]]:
    """What moved at the physical places under `path` after `bounds[0]`, per item and span:
    (item id, span, net quantity), span k (1 ≤ k < len(bounds)) being the days after
    bounds[k-1] up to bounds[k], span len(bounds) the days after the last bound. Read through
    the transactions' date index."""
    p, tx = t.postings.c, t.transactions.c
    whens = [(tx.occurred_on > bounds[-1], len(bounds))]
    whens += [(tx.occurred_on > bounds[k - 1], k) for k in range(len(bounds) - 1, 0, -1)]
    span = case(*whens, else_=0)
    query = (
        select(p.item_id, span, cast(func.sum(p.quantity), BigInteger))
        .select_from(t.transactions)
        .join(t.postings, p.transaction_id == tx.id)
        .join(t.locations, t.locations.c.id == p.location_id)
        .where(tx.occurred_on > bounds[0], *_physical_under(path))
        .group_by(p.item_id, span)
    )
    return [(int(a), int(b), int(c)) for a, b, c in driver_tuples(connection, query)]


def moved_since(
    connection: Connection, path: str | None, after: int, through: int
) -> list[tuple[int, dt.date, int]]:
    """What the transactions after `after` up to `through` (chain sequences) moved at the
    physical places under `path`: (item id, day, net quantity)."""
    p = t.postings.c
    query = (
        select(p.item_id, p.occurred_on, cast(func.sum(p.quantity), BigInteger))
        .join(t.locations, t.locations.c.id == p.location_id)
        .where(p.transaction_id > after, p.transaction_id <= through, *_physical_under(path))
        .group_by(p.item_id, p.occurred_on)
    )
    return [(int(item), day, int(net)) for item, day, net in connection.execute(query)]


def villages_under(connection: Connection, path: str | None) -> list[tuple[int, str]]:
    """The villages under `path`: (id, path), in tree order."""
    loc = t.locations.c
    query = select(loc.id, loc.path).where(loc.level == "village").order_by(loc.path)
    if path is not None:
        query = query.where(loc.path.startswith(path, autoescape=True))
    return [(int(i), p) for i, p in connection.execute(query)]


def villages_reached(
    connection: Connection,
    path: str | None,
    date_from: dt.date,
    date_to: dt.date,
    after: int = 0,
    through: int | None = None,
) -> set[tuple[int, int]]:
    """(village id, item id) of the villages under `path` that received the item in the range
    (a posting in, as the coverage report counts it), of the transactions after `after` up to
    `through`."""
    loc, p = t.locations.c, t.postings.c
    query = (
        select(p.location_id, p.item_id)
        .join(t.locations, loc.id == p.location_id)
        .where(
            loc.level == "village",
            p.quantity > 0,
            p.occurred_on >= date_from,
            p.occurred_on <= date_to,
        )
        .distinct()
    )
    if path is not None:
        query = query.where(loc.path.startswith(path, autoescape=True))
    if after:
        query = query.where(p.transaction_id > after)
    if through is not None:
        query = query.where(p.transaction_id <= through)
    return {(int(v), int(i)) for v, i in driver_tuples(connection, query)}
