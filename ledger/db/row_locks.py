"""Row locks a use case takes before it decides (PostgreSQL; SQLite's one writer already
serialises writes)."""

from __future__ import annotations

from sqlalchemy import select

from ledger.db import tables as t
from ledger.db.store import LedgerStore


def lock_location(store: LedgerStore, location_id: int) -> None:
    """Hold the location's row until commit (e.g. a city's root while its admins change)."""
    query = select(t.locations.c.id).where(t.locations.c.id == location_id)
    if store.for_update:
        query = query.with_for_update()
    store.connection.execute(query).one()
