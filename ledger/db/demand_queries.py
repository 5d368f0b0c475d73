"""What a 年度需求计划 reads besides the figures of the suggestions (ledger/db/norm_queries.py):
the populations (人口) of a subtree's places, the weights of its population shares."""

from __future__ import annotations

from sqlalchemy import Connection, select

from ledger.db import tables as t


def populations_under(connection: Connection, path: str) -> dict[int, int]:
    """Location id → 人口, for the physical places under `path` that have one above 0."""
    loc = t.locations.c
    rows = connection.execute(
        select(loc.id, loc.population).where(
            loc.physical, loc.population > 0, loc.path.startswith(path, autoescape=True)
        )
    )
    return {location_id: int(population) for location_id, population in rows}
