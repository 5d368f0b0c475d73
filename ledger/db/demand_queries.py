"""What a 年度需求计划 reads besides the figures of the suggestions (ledger/db/norm_queries.py):
the populations (人口) of a subtree's places, the weights of its population shares."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, and_, case, func, select
from sqlalchemy.orm import aliased

from ledger.db import tables as t
from ledger.db.raw_reads import driver_tuples
from ledger.totals import MONTH


def populations_under(connection: Connection, path: str) -> dict[int, int]:
    """Location id → 人口, for the physical places under `path` that have one above 0."""
    loc = t.locations.c
    rows = connection.execute(
        select(loc.id, loc.population).where(
            loc.physical, loc.population > 0, loc.path.startswith(path, autoescape=True)
        )
    )
    return {location_id: int(population) for location_id, population in rows}


def month_moves_by_row(
    connection: Connection,
    path: str,
    first: dt.date,
    rolled: tuple[str, ...],
    into: tuple[str, ...],
) -> list[tuple[int, int, dt.date, int, bool, int]]:
    """What moved under `path` in each month from `first` on, from the month totals per place
    and item (item_movement_totals): (place id, item id, month start, in − out, something came
    in, handed to the public), one row per place, item and month — a place of a `rolled` level
    whose parent is of an `into` level counted as its parent (a village in its township's row),
    so the database adds up what the plan would add up row by row."""
    m, loc = t.item_movement_totals.c, t.locations.c
    parent = aliased(t.locations)
    owner = case(
        (and_(loc.level.in_(rolled), parent.c.level.in_(into)), loc.parent_id), else_=loc.id
    )
    signed = case((m.incoming, m.quantity), else_=-m.quantity)
    came_in = case((m.incoming, 1), else_=0)
    given = case((and_(m.kind == "distribution", ~m.incoming), m.quantity), else_=0)
    query = (
        select(owner, m.item_id, m.starts_on)
        .add_columns(func.sum(signed), func.max(came_in), func.sum(given))
        .join(t.locations, loc.id == m.location_id)
        .outerjoin(parent, parent.c.id == loc.parent_id)
        .where(m.grain == MONTH, m.starts_on >= first, loc.path.startswith(path, autoescape=True))
        .group_by(owner, m.item_id, m.starts_on)
    )
    days: dict = {}  # SQLite gives dates as text: each month is parsed once
    out = []
    for place, item_id, start, net, came, distributed in driver_tuples(connection, query):
        day = days.get(start) or days.setdefault(start, _date(start))
        out.append((place, item_id, day, int(net), bool(came), int(distributed)))
    return out


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
