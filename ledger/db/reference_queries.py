"""Reference-data reads for listings: locations in tree order, their populations, item codes
and batch keys, paged. Reads never lock and never write."""

from __future__ import annotations

import msgspec
from sqlalchemy import Connection, select

from ledger.db import tables as t


class LocationRecord(msgspec.Struct, frozen=True):
    """population: 人口, the default weight of the location's share in an allocation plan
    (None: not known)."""

    code: str
    name: str
    level: str
    parent_code: str | None
    physical: bool
    path: str
    population: int | None = None


def locations(
    connection: Connection,
    under_path: str | None = None,
    level: str | None = None,
    include_virtual: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[LocationRecord]:
    """Locations in tree order (by path)."""
    loc = t.locations.c
    parent = t.locations.alias("parent")
    query = (
        select(loc.code, loc.name, loc.level, parent.c.code, loc.physical, loc.path, loc.population)
        .outerjoin(parent, parent.c.id == loc.parent_id)
        .order_by(loc.physical.desc(), loc.path)
        .limit(limit)
        .offset(offset)
    )
    if under_path is not None:
        query = query.where(loc.path.startswith(under_path, autoescape=True))
    if level is not None:
        query = query.where(loc.level == level)
    if not include_virtual:
        query = query.where(loc.physical.is_(True))
    return [
        LocationRecord(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6])
        for r in connection.execute(query)
    ]


def populations(connection: Connection, codes: list[str]) -> dict[str, int | None]:
    """人口 of these locations, by code."""
    loc = t.locations.c
    query = select(loc.code, loc.population).where(loc.code.in_(codes))
    return {code: population for code, population in connection.execute(query)}


def item_codes(connection: Connection, limit: int = 50, offset: int = 0) -> list[str]:
    return list(
        connection.execute(
            select(t.items.c.code).order_by(t.items.c.code).limit(limit).offset(offset)
        ).scalars()
    )


def batch_keys(
    connection: Connection, item_code: str | None = None, limit: int = 50, offset: int = 0
) -> list[tuple[str, str]]:
    """(item code, batch number) in item order, then oldest batch first."""
    query = (
        select(t.items.c.code, t.batches.c.number)
        .join(t.items, t.items.c.id == t.batches.c.item_id)
        .order_by(t.items.c.code, t.batches.c.id)
        .limit(limit)
        .offset(offset)
    )
    if item_code is not None:
        query = query.where(t.items.c.code == item_code)
    return [(row[0], row[1]) for row in connection.execute(query)]
