"""Reads that keep roots separate: one root's share of the virtual locations every root shares.

A virtual location (supplier, in-transit, distributed, scrapped, adjustment) has one stored
balance per item batch, which holds the movements of every root. A root's share of it is the
sum of the postings there made by the root's own transactions (those whose location lies in its
subtree). Every transaction has its location in exactly one root, so the shares of all roots add
up to the stored balance.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Connection, cast, func, select

from ledger.db import tables as t
from ledger.db.balance_queries import BalanceLine


def virtual_share(
    connection: Connection,
    location_code: str,
    root_path: str,
    item_code: str | None = None,
    batch_number: str | None = None,
    as_of: dt.date | None = None,
) -> list[BalanceLine]:
    """The balances at the virtual location `location_code` made by the transactions of the
    root at `root_path` (now, or at the end of `as_of`), by item and batch; nothing is reserved
    at a virtual location. Sums that root's postings there (one pass over them)."""
    p, tx, item, batch = t.postings.c, t.transactions.c, t.items.c, t.batches.c
    place, own = t.locations.alias("place"), t.locations.alias("own")
    total = cast(func.sum(p.quantity), BigInteger)  # an integer on every engine
    keys = [place.c.code, place.c.name, item.code, item.name, batch.number, batch.expires_on]
    query = (
        select(*keys, item.base_unit, total)
        .select_from(t.postings)
        .join(place, place.c.id == p.location_id)
        .join(t.transactions, tx.id == p.transaction_id)
        .join(own, own.c.id == tx.location_id)
        .join(t.items, item.id == p.item_id)
        .join(t.batches, batch.id == p.batch_id)
        .where(
            place.c.code == location_code,
            place.c.physical.is_(False),
            own.c.path.startswith(root_path, autoescape=True),
        )
        .group_by(*keys, item.base_unit)
        .having(func.sum(p.quantity) != 0)
        .order_by(item.code, batch.number)
    )
    if item_code is not None:
        query = query.where(item.code == item_code)
    if batch_number is not None:
        query = query.where(batch.number == batch_number)
    if as_of is not None:
        query = query.where(p.occurred_on <= as_of)
    return [BalanceLine(*row[:7], int(row[7]), 0, int(row[7])) for row in connection.execute(query)]


def root_count(connection: Connection) -> int:
    """How many roots (cities) the ledger holds."""
    loc = t.locations.c
    return connection.execute(
        select(func.count())
        .select_from(t.locations)
        .where(loc.parent_id.is_(None), loc.physical.is_(True))
    ).scalar_one()
