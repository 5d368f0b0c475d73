"""The reference-data repository: items, locations and batches of one unit of work.

Reads go to the committed `Catalog` first, then to the database (a row read while the catalog
is unchanged enters it). Rows created or changed in this unit of work stay in `pending` until it
commits (`commit_catalog`): only rows known to be committed enter the shared cache.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import and_, insert, select, true

from ledger.db import tables as t
from ledger.db import versions
from ledger.db.catalog import BatchEntry, Catalog, ItemEntry, LocationEntry
from ledger.db.people import People
from ledger.db.session import Session
from ledger.model import AccountKey, Batch, Item, ItemKind, Location, LocationLevel, Pack
from ledger.reference import ReferenceKind, batch_content, item_content, location_content
from ledger.rules import Code, LedgerError, present
from ledger.settings import office_today

LOCATIONS_PER_READ = 5_000

_PARENT = t.locations.alias("parent")
_LOCATION_ROWS = select(t.locations, _PARENT.c.code.label("parent_code")).outerjoin(
    _PARENT, _PARENT.c.id == t.locations.c.parent_id
)


class ReferenceData:
    def __init__(self, session: Session, catalog: Catalog, people: People) -> None:
        self.session = session
        self.connection = session.connection
        self.people = people
        self.catalog = catalog
        catalog.check(self.connection)
        self.generation = catalog.generation  # entries read here are cached only if unchanged
        self.pending = Catalog()  # created in this transaction, not yet committed

    # ---- items ------------------------------------------------------------------------------

    def item(self, code: str, field: str = "item_code") -> ItemEntry:
        entry = self.pending.items.get(code) or self.catalog.items.get(code)
        if entry is None:
            entry = self._load_item(t.items.c.code == code)
        if entry is None:
            raise LedgerError(
                Code.unknown_item, f"没有编码为 {code!r} 的物资 (unknown item)", field
            )
        return entry

    def item_by_id(self, item_id: int) -> ItemEntry:
        entry = self.pending.items_by_id.get(item_id) or self.catalog.items_by_id.get(item_id)
        if entry is None:
            entry = self._load_item(t.items.c.id == item_id)
        return present(entry, f"item id {item_id} referenced but missing")

    def _load_item(self, condition) -> ItemEntry | None:
        row = self.connection.execute(select(t.items).where(condition)).one_or_none()
        if row is None:
            return None
        packs = self.connection.execute(
            select(t.item_packs.c.name, t.item_packs.c.base_units)
            .where(t.item_packs.c.item_id == row.id)
            .order_by(t.item_packs.c.position)
        ).all()
        item = Item(
            code=row.code,
            name=row.name,
            kind=ItemKind(row.kind),
            category=row.category,
            base_unit=row.base_unit,
            packs=tuple(Pack(name, base_units) for name, base_units in packs),
            expiry_tracked=row.expiry_tracked,
        )
        entry = ItemEntry(row.id, item)
        if self.catalog.generation == self.generation:
            self.catalog.add_item(entry)
        return entry

    def add_item(self, item: Item, valid_from: dt.date | None = None) -> ItemEntry:
        if self.pending.items.get(item.code) or self._exists(t.items, t.items.c.code == item.code):
            raise LedgerError(
                Code.item_exists, f"物资编码 {item.code} 已存在 (item exists)", "code"
            )
        item_id = self.connection.execute(
            insert(t.items).returning(t.items.c.id),
            {
                "code": item.code,
                "name": item.name,
                "kind": item.kind.value,
                "category": item.category,
                "base_unit": item.base_unit,
                "expiry_tracked": item.expiry_tracked,
            },
        ).scalar_one()
        if item.packs:
            self.connection.execute(
                insert(t.item_packs),
                [
                    {"item_id": item_id, "position": i, "name": p.name, "base_units": p.base_units}
                    for i, p in enumerate(item.packs)
                ],
            )
        self._first_version(ReferenceKind.item, item_id, item_content(item), valid_from)
        entry = ItemEntry(item_id, item)
        self.pending.add_item(entry)
        return entry

    # ---- locations --------------------------------------------------------------------------

    def location(self, code: str, field: str = "location_code") -> LocationEntry:
        entry = self.pending.locations.get(code) or self.catalog.locations.get(code)
        if entry is None:
            entry = self._load_location(t.locations.c.code == code)
        if entry is None:
            raise LedgerError(
                Code.unknown_location, f"没有编码为 {code!r} 的库点 (unknown location)", field
            )
        return entry

    def location_by_id(self, location_id: int) -> LocationEntry:
        entry = self.pending.locations_by_id.get(location_id) or self.catalog.locations_by_id.get(
            location_id
        )
        if entry is None:
            entry = self._load_location(t.locations.c.id == location_id)
        return present(entry, f"location id {location_id} referenced but missing")

    def _load_location(self, condition) -> LocationEntry | None:
        found = self._load_locations(condition)
        return found[0] if found else None

    def _load_locations(self, condition) -> list[LocationEntry]:
        found = []
        for row in self.connection.execute(_LOCATION_ROWS.where(condition)):
            location = Location(row.code, row.name, LocationLevel(row.level), row.parent_code)
            entry = LocationEntry(row.id, location, row.physical, row.path)
            if self.catalog.generation == self.generation:
                self.catalog.add_location(entry)
            found.append(entry)
        return found

    def cache_locations(self, ids: Iterable[int] = (), codes: Iterable[str] = ()) -> None:
        """Read the locations of these ids and codes that are not cached yet, a few thousand to
        a query: a report over a city names thousands of places (one query each took seconds)."""
        pending, catalog = self.pending, self.catalog
        missing_ids = [
            i for i in ids if i not in pending.locations_by_id and i not in catalog.locations_by_id
        ]
        missing_codes = [
            c for c in codes if c not in pending.locations and c not in catalog.locations
        ]
        for column, missing in (
            (t.locations.c.id, missing_ids),
            (t.locations.c.code, missing_codes),
        ):
            for start in range(0, len(missing), LOCATIONS_PER_READ):
                self._load_locations(column.in_(missing[start : start + LOCATIONS_PER_READ]))

    def cache_every_location(self) -> None:
        """Read every location in one query (for a loader about to post at most of them)."""
        self._load_locations(true())

    def add_location(self, location: Location, valid_from: dt.date | None = None) -> LocationEntry:
        if self.pending.locations.get(location.code) or self._exists(
            t.locations, t.locations.c.code == location.code
        ):
            raise LedgerError(
                Code.location_exists, f"库点编码 {location.code} 已存在 (location exists)", "code"
            )
        parent_id = None
        path = f"/{location.code}/"
        if location.parent_code is not None:
            parent = self.location(location.parent_code, "parent_code")
            if not parent.physical:
                raise LedgerError(
                    Code.location_must_be_physical, "上级库点不能是虚拟库点", "parent_code"
                )
            parent_id = parent.id
            path = f"{parent.path}{location.code}/"
        physical = location.level is not LocationLevel.virtual
        location_id = self.connection.execute(
            insert(t.locations).returning(t.locations.c.id),
            {
                "code": location.code,
                "name": location.name,
                "level": location.level.value,
                "physical": physical,
                "parent_id": parent_id,
                "path": path,
            },
        ).scalar_one()
        self._first_version(
            ReferenceKind.location, location_id, location_content(location), valid_from
        )
        entry = LocationEntry(location_id, location, physical, path)
        self.pending.add_location(entry)
        return entry

    # ---- batches ----------------------------------------------------------------------------

    def batch(self, item: ItemEntry, number: str, field: str = "batch_number") -> BatchEntry:
        key = (item.id, number)
        entry = self.pending.batches.get(key) or self.catalog.batches.get(key)
        if entry is None:
            entry = self._load_batch(
                and_(t.batches.c.item_id == item.id, t.batches.c.number == number)
            )
        if entry is None:
            raise LedgerError(
                Code.unknown_batch,
                f"{item.item.name} 没有批次 {number!r} (unknown batch)",
                field,
            )
        return entry

    def batch_by_id(self, batch_id: int) -> BatchEntry:
        entry = self.pending.batches_by_id.get(batch_id) or self.catalog.batches_by_id.get(batch_id)
        if entry is None:
            entry = self._load_batch(t.batches.c.id == batch_id)
        return present(entry, f"batch id {batch_id} referenced but missing")

    def find_batch(self, item: ItemEntry, number: str) -> BatchEntry | None:
        try:
            return self.batch(item, number)
        except LedgerError:
            return None

    def _load_batch(self, condition) -> BatchEntry | None:
        row = self.connection.execute(
            select(t.batches, t.items.c.code.label("item_code"))
            .join(t.items, t.items.c.id == t.batches.c.item_id)
            .where(condition)
        ).one_or_none()
        if row is None:
            return None
        entry = BatchEntry(
            row.id, row.item_id, Batch(row.item_code, row.number, row.produced_on, row.expires_on)
        )
        if self.catalog.generation == self.generation:
            self.catalog.add_batch(entry)
        return entry

    def add_batch(
        self, item: ItemEntry, batch: Batch, valid_from: dt.date | None = None
    ) -> BatchEntry:
        batch_id = self.connection.execute(
            insert(t.batches).returning(t.batches.c.id),
            {
                "item_id": item.id,
                "number": batch.number,
                "produced_on": batch.produced_on,
                "expires_on": batch.expires_on,
            },
        ).scalar_one()
        self._first_version(ReferenceKind.batch, batch_id, batch_content(batch), valid_from)
        entry = BatchEntry(batch_id, item.id, batch)
        self.pending.add_batch(entry)
        return entry

    # ---- versions and the cache -------------------------------------------------------------

    def _first_version(
        self, kind: ReferenceKind, object_id: int, content: str, valid_from: dt.date | None
    ) -> None:
        """Version 1 of a new item, location or batch, made by this transaction's user, in force
        from `valid_from` (default: the office's today). Changes write later versions
        (ledger/services/reference.py)."""
        day = valid_from or self.people.today or office_today()
        versions.write(self.session, kind, object_id, 1, content, day, self.people.maker_id)

    def _exists(self, table, condition) -> bool:
        return (
            self.connection.execute(select(1).select_from(table).where(condition)).first()
            is not None
        )

    def reload_changed(self, kind: ReferenceKind, condition) -> None:
        """This transaction changed these reference rows (a new version): read them again for
        its own later reads, and for the catalog to take once it commits."""
        committed, self.catalog = self.catalog, self.pending
        generation, self.generation = self.generation, self.pending.generation
        try:
            if kind is ReferenceKind.item:
                self._load_item(condition)
            elif kind is ReferenceKind.location:
                self._load_locations(condition)
            else:
                self._load_batch(condition)
        finally:
            self.catalog, self.generation = committed, generation
        self.pending.changed = True

    def commit_catalog(self) -> None:
        """After commit: what this transaction created is committed reference data."""
        if self.pending.changed:  # rows others may be reading from an older snapshot
            self.catalog.generation += 1
        for entry in self.pending.items.values():
            self.catalog.add_item(entry)
        for location in self.pending.locations.values():
            self.catalog.add_location(location)
        for batch in self.pending.batches.values():
            self.catalog.add_batch(batch)

    def describe(self, key: AccountKey) -> str:
        location = self.location_by_id(key.location_id).location
        item = self.item_by_id(key.item_id).item
        batch = self.batch_by_id(key.batch_id).batch
        return f"{location.name}·{item.name}·批次{batch.number}"
