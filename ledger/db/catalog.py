"""The cache of a database's committed reference data (items, locations, batches).

Rows are never deleted; they change only by a new version (ledger/services/reference.py), whose
transaction replaces their entries here after it commits. Another process's change is noticed
within `catalog_check_seconds`: a unit of work opened after that long reads the newest version's
id and, when it moved, the cache is dropped (`generation` then stops a read begun before from
putting an older row back).
"""

from __future__ import annotations

import time

from sqlalchemy import Connection, func, select

from ledger.db import tables as t
from ledger.entries import BatchEntry, ItemEntry, LocationEntry

catalog_check_seconds = 2.0  # another process's change of reference data is seen within this


class Catalog:
    """Committed reference data of one database, cached (see the module's docstring)."""

    def __init__(self) -> None:
        self.items: dict[str, ItemEntry] = {}
        self.items_by_id: dict[int, ItemEntry] = {}
        self.locations: dict[str, LocationEntry] = {}
        self.locations_by_id: dict[int, LocationEntry] = {}
        self.batches: dict[tuple[int, str], BatchEntry] = {}
        self.batches_by_id: dict[int, BatchEntry] = {}
        self.generation = 0  # moves on when cached rows may have changed
        self.changed = False  # (a unit of work's pending catalog) it changed existing rows
        self.newest_version: int | None = None
        self.next_check = 0.0

    def check(self, connection: Connection) -> None:
        """Drop everything cached if reference data changed since the last look (at most one
        query per `catalog_check_seconds`)."""
        now = time.monotonic()
        if now < self.next_check:
            return
        self.next_check = now + catalog_check_seconds
        newest = connection.execute(select(func.max(t.reference_versions.c.id))).scalar()
        if self.newest_version is not None and newest != self.newest_version:
            self.clear()
        self.newest_version = newest

    def clear(self) -> None:
        self.generation += 1
        self.items, self.items_by_id = {}, {}
        self.locations, self.locations_by_id = {}, {}
        self.batches, self.batches_by_id = {}, {}

    def add_item(self, entry: ItemEntry) -> None:
        self.items[entry.item.code] = entry
        self.items_by_id[entry.id] = entry

    def add_location(self, entry: LocationEntry) -> None:
        self.locations[entry.location.code] = entry
        self.locations_by_id[entry.id] = entry

    def add_batch(self, entry: BatchEntry) -> None:
        self.batches[(entry.item_id, entry.batch.number)] = entry
        self.batches_by_id[entry.id] = entry
