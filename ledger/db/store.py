"""The ledger store: reference data, account states and the write path, on one connection.

A `LedgerStore` lives inside one database transaction (see `unit_of_work`). It loads and locks
the accounts a movement touches, runs the pure posting engine on them, and buffers the rows it
will write; `flush` writes them all with a handful of executemany statements. It never commits:
the unit of work does. Reference data (items, locations, batches) is cached per database in a
`Catalog`, and only rows known to be committed enter it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import NamedTuple

from sqlalchemy import Connection, and_, bindparam, func, insert, select, update

from ledger.chain import CHAIN_VERSION_CURRENT, canonical_encoding, chain_hash
from ledger.db import tables as t
from ledger.db import versions
from ledger.db.packs import PackTracker
from ledger.model import (
    VOUCHER_PREFIX,
    AccountKey,
    Batch,
    Item,
    ItemKind,
    Location,
    LocationLevel,
    Pack,
    Posting,
    Transaction,
    TransactionKind,
)
from ledger.posting import AccountState, Leg, apply_legs, check_period_open
from ledger.reference import ReferenceKind, batch_content, item_content, location_content
from ledger.rules import Code, LedgerError, require
from ledger.settings import office_today

LOCK_CHUNK = 300  # accounts per locking SELECT (3 parameters each)
POSTINGS_INSERT = (
    "INSERT INTO postings (transaction_id, location_id, item_id, batch_id, quantity, "
    "balance_after, occurred_on) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
TRANSACTIONS_INSERT = (
    "INSERT INTO transactions (id, number, kind, occurred_on, recorded_at, location_id, "
    "counterparty_id, reverses_id, shipment_id, reason, memo, previous_hash, hash, "
    "chain_version, maker_id, approver_id, receiver_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
UNKNOWN_PERSON = "未知"  # the people on a voucher recorded before they were kept (version 1)
NO_USER = "命令行"  # a voucher made from the command line or a loader, by no signed-in user
BALANCES_INSERT = (
    "INSERT INTO balances (on_hand, reserved, last_occurred_on, location_id, item_id, batch_id) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
BALANCES_UPDATE = (
    "UPDATE balances SET on_hand = ?, reserved = ?, last_occurred_on = ? "
    "WHERE location_id = ? AND item_id = ? AND batch_id = ?"
)
ACTIVE_CONFIRMATION = (
    "SELECT confirmation.number FROM transactions AS confirmation "
    "LEFT OUTER JOIN transactions AS reversal ON reversal.reverses_id = confirmation.id "
    "WHERE confirmation.shipment_id = ? AND confirmation.kind = 'confirmation' "
    "AND reversal.id IS NULL"
)
_TRANSLATED: dict[str, str] = {}  # statement with ? → with %s


class ItemEntry(NamedTuple):
    id: int
    item: Item


class LocationEntry(NamedTuple):
    id: int
    location: Location
    physical: bool
    path: str  # '/510100/510121/510121101/' — codes from the root down


class BatchEntry(NamedTuple):
    id: int
    item_id: int
    batch: Batch


catalog_check_seconds = 2.0  # another process's change of reference data is seen within this


class Catalog:
    """Committed reference data of one database, cached. Rows are never deleted; they change
    only by a new version (ledger/services/reference.py), whose transaction replaces their
    entries here after it commits. Another process's change is noticed within
    `catalog_check_seconds`: a store opened after that long reads the newest version's id and,
    when it moved, the cache is dropped (`generation` then stops a read begun before from
    putting an older row back)."""

    def __init__(self) -> None:
        self.items: dict[str, ItemEntry] = {}
        self.items_by_id: dict[int, ItemEntry] = {}
        self.locations: dict[str, LocationEntry] = {}
        self.locations_by_id: dict[int, LocationEntry] = {}
        self.batches: dict[tuple[int, str], BatchEntry] = {}
        self.batches_by_id: dict[int, BatchEntry] = {}
        self.generation = 0  # moves on when cached rows may have changed
        self.changed = False  # (a store's pending catalog) it changed existing rows
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


_PARENT = t.locations.alias("parent")
_LOCATION_ROWS = select(t.locations, _PARENT.c.code.label("parent_code")).outerjoin(
    _PARENT, _PARENT.c.id == t.locations.c.parent_id
)


class LedgerStore:
    """Reads and buffered writes inside one database transaction."""

    def __init__(
        self, connection: Connection, catalog: Catalog, maker_id: int | None = None
    ) -> None:
        self.connection = connection
        self.catalog = catalog
        catalog.check(connection)
        self.generation = catalog.generation  # entries read here are cached only if unchanged
        # Who: the user making every voucher of this transaction (None: the command line), and
        # the approver a flow names for the vouchers it posts (see `approved_by`).
        self.maker_id = maker_id
        self.approver_id: int | None = None
        self.today: dt.date | None = None  # the ledger clock's day, when a use case gave it
        self.user_labels: dict[int, str] = {}
        self.user_label_versions: dict[int, list[tuple[dt.date, str]]] = {}
        self.for_update = connection.dialect.name == "postgresql"
        self.as_text = connection.dialect.name == "sqlite"
        self.qmark = connection.dialect.paramstyle == "qmark"
        self.pending = Catalog()  # created in this transaction, not yet committed
        self.states: dict[AccountKey, AccountState] = {}
        self.dirty: set[AccountKey] = set()
        self.transaction_rows: list[dict] = []
        self.posting_rows: list[dict] = []
        self.reservation_inserts: list[dict] = []
        self.reservation_updates: dict[int, dict] = {}
        self.idempotency_rows: list[dict] = []
        self.counters: dict[tuple[str, int], list] = {}  # (prefix, year) → [last, stored]
        self.head: list | None = None  # [sequence, hash]
        self.counters_dirty: set[tuple[str, int]] = set()
        self.head_dirty = False
        self.recorded_at = dt.datetime.now(dt.UTC)
        self.packs = PackTracker(self)
        self.closed: dict[str, dt.date | None] = {}  # root code → last closed day, once read

    # ---- reference data -------------------------------------------------------------------

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
        require(entry is not None, f"item id {item_id} referenced but missing")
        return entry

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
        require(entry is not None, f"location id {location_id} referenced but missing")
        return entry

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
            for start in range(0, len(missing), 5_000):
                self._load_locations(column.in_(missing[start : start + 5_000]))

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
        require(entry is not None, f"batch id {batch_id} referenced but missing")
        return entry

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

    def _first_version(
        self, kind: ReferenceKind, object_id: int, content: str, valid_from: dt.date | None
    ) -> None:
        """Version 1 of a new item, location or batch, made by this transaction's user, in force
        from `valid_from` (default: the office's today). Changes write later versions
        (ledger/services/reference.py)."""
        day = valid_from or self.today or office_today()
        versions.write(self, kind, object_id, 1, content, day, self.maker_id)

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
        for entry in self.pending.locations.values():
            self.catalog.add_location(entry)
        for entry in self.pending.batches.values():
            self.catalog.add_batch(entry)

    def describe(self, key: AccountKey) -> str:
        location = self.location_by_id(key.location_id).location
        item = self.item_by_id(key.item_id).item
        batch = self.batch_by_id(key.batch_id).batch
        return f"{location.name}·{item.name}·批次{batch.number}"

    # ---- people ---------------------------------------------------------------------------

    def acting(self, user_id: int | None, today: dt.date | None = None) -> LedgerStore:
        """This store, making its vouchers as `user_id` (None: the command line), on the
        ledger's `today` (its clock's, which the use case read)."""
        if user_id is not None:  # a use case joined inside another keeps the outer user
            self.maker_id = user_id
        if today is not None:
            self.today = today
        return self

    @contextmanager
    def approved_by(self, approver_id: int | None) -> Iterator[None]:
        """Vouchers posted inside the block name `approver_id` as their approver (审核人)."""
        previous, self.approver_id = self.approver_id, approver_id
        try:
            yield
        finally:
            self.approver_id = previous

    def user_label(
        self,
        user_id: int | None,
        chain_version: int = CHAIN_VERSION_CURRENT,
        on: dt.date | None = None,
    ) -> str:
        """How a voucher names a user: the label of the user's version in force on `on` (the
        voucher's date; the first version for a day before it), the current label without a
        day; 未知 on version 1 vouchers. A user relabelled later keeps its old name on the
        vouchers it made before."""
        if user_id is None:
            return UNKNOWN_PERSON if chain_version < 2 else NO_USER
        if on is not None:
            labels = self.user_label_versions.get(user_id)
            if labels is None:
                labels = self.user_label_versions[user_id] = versions.user_labels(
                    self.connection, user_id
                )
            if labels:
                in_force = [label for valid_from, label in labels if valid_from <= on]
                return in_force[-1] if in_force else labels[0][1]
        label = self.user_labels.get(user_id)
        if label is None:
            label = self.connection.execute(
                select(t.users.c.label).where(t.users.c.id == user_id)
            ).scalar_one_or_none()
            label = self.user_labels[user_id] = label if label is not None else f"#{user_id}"
        return label

    # ---- account states -------------------------------------------------------------------

    def lock_states(self, keys: Iterable[AccountKey]) -> dict[AccountKey, AccountState]:
        """Load (and on PostgreSQL lock, in key order) the states of `keys` not yet loaded."""
        missing = sorted(key for key in set(keys) if key not in self.states)
        for start in range(0, len(missing), LOCK_CHUNK):
            chunk = missing[start : start + LOCK_CHUNK]
            rows = ", ".join(["(?, ?, ?)"] * len(chunk))
            statement = (
                "SELECT location_id, item_id, batch_id, on_hand, reserved, last_occurred_on "
                f"FROM balances WHERE (location_id, item_id, batch_id) IN (VALUES {rows}) "
                "ORDER BY location_id, item_id, batch_id"
                + (" FOR UPDATE" if self.for_update else "")
            )
            parameters = tuple(value for key in chunk for value in key)
            found = {
                AccountKey(row[0], row[1], row[2]): AccountState(
                    row[3], row[4], self._read_date(row[5])
                )
                for row in self._driver(statement, parameters)
            }
            for key in chunk:
                self.states[key] = found.get(key) or AccountState(is_new=True)
        return self.states

    def stocked_batches(self, location_id: int, item_id: int) -> list[tuple[int, int, int]]:
        """(batch id, on hand, reserved) of every batch of an item in stock at a location, as
        written so far (not yet locked: lock the ones you pick with `lock_states`)."""
        self.flush()
        b = t.balances.c
        return [
            (row[0], row[1], row[2])
            for row in self.connection.execute(
                select(b.batch_id, b.on_hand, b.reserved).where(
                    b.location_id == location_id, b.item_id == item_id, b.on_hand > 0
                )
            )
        ]

    def apply(self, legs: Sequence[Leg], occurred_on: dt.date) -> list[int]:
        self.lock_states(leg.key for leg in legs)
        balances_after = apply_legs(legs, self.states, occurred_on, self.describe)
        self.dirty.update(leg.key for leg in legs)
        return balances_after

    def change_reserved(self, key: AccountKey, change: int) -> None:
        """Reserve (+) or release (−) on an account already locked."""
        state = self.lock_states([key])[key]
        require(0 <= state.reserved + change <= state.on_hand, f"reserve out of range on {key}")
        state.reserved += change
        self.dirty.add(key)

    # ---- numbering and the chain ----------------------------------------------------------

    def next_number(self, kind: TransactionKind, year: int) -> str:
        return self.next_number_for(VOUCHER_PREFIX[kind], year)

    def next_number_for(self, prefix: str, year: int) -> str:
        """The next number of a gapless series per prefix and year: RK-2026-000001 …"""
        counter = self.counters.get((prefix, year))
        if counter is None:
            row = self._driver(
                "SELECT last FROM voucher_counters WHERE prefix = ? AND year = ?"
                + self._lock_clause,
                (prefix, year),
            ).first()
            last = row[0] if row else None
            counter = self.counters[(prefix, year)] = [last or 0, last is not None]
        counter[0] += 1
        self.counters_dirty.add((prefix, year))
        return f"{prefix}-{year}-{counter[0]:06d}"

    def closed_through(self, location: LocationEntry) -> dt.date | None:
        """The end of the last period closed (月结) for the root (city) `location` belongs to:
        its root's closes and those made for every root before roots were separate (root_id
        NULL). Read once per root per database transaction."""
        root = location.path.split("/")[1]
        if root not in self.closed:
            row = self._driver(
                "SELECT MAX(period_end) FROM period_closes WHERE root_id IS NULL "
                "OR root_id = (SELECT id FROM locations WHERE code = ?)",
                (root,),
            ).first()
            self.closed[root] = self._read_date(row[0]) if row else None
        return self.closed[root]

    def chain_head(self) -> list:
        if self.head is None:
            row = self._driver(
                "SELECT sequence, hash FROM chain_head WHERE id = 1" + self._lock_clause
            ).one()
            self.head = [row[0], row[1]]
        return self.head

    # ---- posting --------------------------------------------------------------------------

    def post(
        self,
        kind: TransactionKind,
        occurred_on: dt.date,
        location: LocationEntry,
        legs: Sequence[Leg],
        counterparty: LocationEntry | None = None,
        reverses: Transaction | None = None,
        shipment: Transaction | None = None,
        reason: str | None = None,
        memo: str = "",
    ) -> Transaction:
        """Check and apply `legs`, number and chain the transaction, and buffer its rows."""
        balances_after = self.apply(legs, occurred_on)
        number = self.next_number(kind, occurred_on.year)
        head = self.chain_head()
        # After the chain head is held (locked on PostgreSQL, as a period close holds it too).
        check_period_open(occurred_on, self.closed_through(location))
        sequence = head[0] + 1
        postings = tuple(
            Posting(
                self.location_by_id(leg.key.location_id).location.code,
                self.item_by_id(leg.key.item_id).item.code,
                self.batch_by_id(leg.key.batch_id).batch.number,
                leg.quantity,
                balance,
            )
            for leg, balance in zip(legs, balances_after, strict=True)
        )
        counterparty_code = counterparty.location.code if counterparty else None
        reverses_sequence = reverses.sequence if reverses else None
        shipment_sequence = shipment.sequence if shipment else None
        maker_id, approver_id = self.maker_id, self.approver_id
        receiver_id = maker_id if kind is TransactionKind.confirmation else None
        people = (maker_id, approver_id, receiver_id)
        encoding = canonical_encoding(
            sequence,
            number,
            kind.value,
            occurred_on,
            location.location.code,
            counterparty_code,
            reverses_sequence,
            shipment_sequence,
            reason,
            memo,
            ((p.location_code, p.item_code, p.batch_number, p.quantity) for p in postings),
            CHAIN_VERSION_CURRENT,
            people,
        )
        digest = chain_hash(head[1], encoding)
        self.transaction_rows.append(
            {
                "id": sequence,
                "number": number,
                "kind": kind.value,
                "occurred_on": occurred_on,
                "recorded_at": self.recorded_at,
                "location_id": location.id,
                "counterparty_id": counterparty.id if counterparty else None,
                "reverses_id": reverses_sequence,
                "shipment_id": shipment_sequence,
                "reason": reason,
                "memo": memo,
                "previous_hash": head[1],
                "hash": digest,
                "chain_version": CHAIN_VERSION_CURRENT,
                "maker_id": maker_id,
                "approver_id": approver_id,
                "receiver_id": receiver_id,
            }
        )
        for leg, balance in zip(legs, balances_after, strict=True):
            self.posting_rows.append(
                {
                    "transaction_id": sequence,
                    "location_id": leg.key.location_id,
                    "item_id": leg.key.item_id,
                    "batch_id": leg.key.batch_id,
                    "quantity": leg.quantity,
                    "balance_after": balance,
                    "occurred_on": occurred_on,
                }
            )
        transaction = Transaction(
            sequence=sequence,
            number=number,
            kind=kind,
            occurred_on=occurred_on,
            location_code=location.location.code,
            postings=postings,
            counterparty_code=counterparty_code,
            reverses_sequence=reverses_sequence,
            shipment_sequence=shipment_sequence,
            reason=reason,
            memo=memo,
            previous_hash=head[1],
            hash=digest,
            chain_version=CHAIN_VERSION_CURRENT,
            maker_id=maker_id,
            approver_id=approver_id,
            receiver_id=receiver_id,
            maker=self.user_label(maker_id),
            approver=self.user_label(approver_id) if approver_id is not None else None,
            receiver=self.user_label(receiver_id) if receiver_id is not None else None,
        )
        head[0], head[1] = sequence, digest
        self.head_dirty = True
        self.packs.follow(kind, occurred_on, legs, balances_after, sequence, reverses, shipment)
        return transaction

    # ---- reading transactions -------------------------------------------------------------

    def transaction_by_number(self, number: str, lock: bool = False) -> Transaction:
        row_id = self.connection.execute(
            select(t.transactions.c.id).where(t.transactions.c.number == number)
        ).scalar_one_or_none()
        if row_id is None:
            buffered = next((r for r in self.transaction_rows if r["number"] == number), None)
            if buffered is None:
                raise LedgerError(
                    Code.unknown_transaction, f"没有单据 {number!r} (unknown transaction)", "number"
                )
            return self.transaction(buffered["id"])
        return self.transaction(row_id, lock=lock)

    def transaction(self, sequence: int, lock: bool = False) -> Transaction:
        """A stored (or buffered, not yet flushed) transaction with its postings."""
        found = self.transactions([sequence], lock=lock)
        if not found:
            raise LedgerError(Code.unknown_transaction, f"没有序号 {sequence} 的单据", "sequence")
        return found[0]

    def transactions(self, sequences: Sequence[int], lock: bool = False) -> list[Transaction]:
        """Stored transactions with their postings, in the order of `sequences` (two queries)."""
        self.flush()
        if not sequences:
            return []
        tx = t.transactions.c
        query = select(t.transactions).where(tx.id.in_(list(sequences)))
        if lock and self.for_update:
            query = query.with_for_update()
        rows = {row.id: row for row in self.connection.execute(query)}
        p = t.postings.c
        postings: dict[int, list[Posting]] = {sequence: [] for sequence in rows}
        for r in self.connection.execute(
            select(
                p.transaction_id, p.location_id, p.item_id, p.batch_id, p.quantity, p.balance_after
            )
            .where(p.transaction_id.in_(list(rows)))
            .order_by(p.id)
        ):
            postings[r.transaction_id].append(
                Posting(
                    self.location_by_id(r.location_id).location.code,
                    self.item_by_id(r.item_id).item.code,
                    self.batch_by_id(r.batch_id).batch.number,
                    r.quantity,
                    r.balance_after,
                )
            )
        return [self._transaction(rows[s], postings[s]) for s in sequences if s in rows]

    def _transaction(self, row, postings: list[Posting]) -> Transaction:
        return Transaction(
            sequence=row.id,
            number=row.number,
            kind=TransactionKind(row.kind),
            occurred_on=row.occurred_on,
            location_code=self.location_by_id(row.location_id).location.code,
            postings=tuple(postings),
            counterparty_code=(
                self.location_by_id(row.counterparty_id).location.code
                if row.counterparty_id
                else None
            ),
            reverses_sequence=row.reverses_id,
            shipment_sequence=row.shipment_id,
            reason=row.reason,
            memo=row.memo,
            previous_hash=row.previous_hash,
            hash=row.hash,
            chain_version=row.chain_version,
            maker_id=row.maker_id,
            approver_id=row.approver_id,
            receiver_id=row.receiver_id,
            maker=self.user_label(row.maker_id, row.chain_version, row.occurred_on),
            approver=(
                self.user_label(row.approver_id, on=row.occurred_on)
                if row.approver_id is not None
                else None
            ),
            receiver=(
                self.user_label(row.receiver_id, on=row.occurred_on)
                if row.receiver_id is not None
                else None
            ),
        )

    def reversal_of(self, sequence: int) -> str | None:
        """The number of the transaction that reversed `sequence`, if any."""
        self.flush()
        return self.connection.execute(
            select(t.transactions.c.number).where(t.transactions.c.reverses_id == sequence)
        ).scalar_one_or_none()

    def opening_of(self, location_id: int) -> str | None:
        """The number of the location's opening transaction (期初建账) that has not been
        reversed, if any: stored, or buffered in this database transaction (read without a
        flush, so that an import posting an opening for each of thousands of places writes
        its rows in a few large batches)."""
        opening = TransactionKind.opening.value
        reversed_here = {row["reverses_id"] for row in self.transaction_rows}
        for row in self.transaction_rows:
            if (row["kind"], row["location_id"]) == (opening, location_id) and (
                row["id"] not in reversed_here
            ):
                return row["number"]
        tx = t.transactions.alias("tx")
        reversal = t.transactions.alias("reversal")
        stored = self.connection.execute(
            select(tx.c.id, tx.c.number)
            .outerjoin(reversal, reversal.c.reverses_id == tx.c.id)
            .where(
                tx.c.kind == opening,
                tx.c.location_id == location_id,
                reversal.c.id.is_(None),
            )
        ).all()
        return next((number for id_, number in stored if id_ not in reversed_here), None)

    def active_confirmation(self, shipment_sequence: int) -> str | None:
        """The number of the confirmation of a shipment that has not been reversed, if any."""
        self.flush()
        return self._driver(ACTIVE_CONFIRMATION, (shipment_sequence,)).scalar_one_or_none()

    # ---- reservations ---------------------------------------------------------------------

    def open_reservations(self, reference: str, location_id: int | None = None) -> list[dict]:
        self.flush()
        r = t.reservations.c
        query = select(r.id, r.location_id, r.item_id, r.batch_id, r.remaining).where(
            r.reference == reference, r.status == "open"
        )
        if location_id is not None:
            query = query.where(r.location_id == location_id)
        return [row._asdict() for row in self.connection.execute(query.order_by(r.id))]

    def add_reservation(self, reference: str, key: AccountKey, quantity: int) -> None:
        self.change_reserved(key, quantity)
        self.reservation_inserts.append(
            {
                "reference": reference,
                "location_id": key.location_id,
                "item_id": key.item_id,
                "batch_id": key.batch_id,
                "quantity": quantity,
                "remaining": quantity,
                "status": "open",
                "created_at": self.recorded_at,
            }
        )

    def reduce_reservation(self, reservation_id: int, remaining: int, released: bool) -> None:
        status = "open" if remaining else ("released" if released else "consumed")
        self.reservation_updates[reservation_id] = {
            "r_id": reservation_id,
            "remaining": remaining,
            "status": status,
        }

    # ---- idempotency ----------------------------------------------------------------------

    def idempotent(self, key: str, operation: str, digest: str):
        """The stored result row for `key`, None if new; refuses a key reused for other content."""
        i = t.idempotency_keys.c
        row = self.connection.execute(
            select(i.operation, i.request_digest, i.transaction_id, i.result).where(i.key == key)
        ).one_or_none()
        if row is None:
            buffered = next((r for r in self.idempotency_rows if r["key"] == key), None)
            if buffered is None:
                return None
            row = buffered
            operation_found, digest_found = row["operation"], row["request_digest"]
        else:
            operation_found, digest_found = row.operation, row.request_digest
        if (operation_found, digest_found) != (operation, digest):
            raise LedgerError(
                Code.idempotency_key_reused,
                "该幂等键已用于内容不同的请求 (idempotency key already used for a different request)",
                "idempotency_key",
            )
        return row

    def remember(
        self, key: str, operation: str, digest: str, transaction_id: int | None, result: str
    ) -> None:
        self.idempotency_rows.append(
            {
                "key": key,
                "operation": operation,
                "request_digest": digest,
                "transaction_id": transaction_id,
                "result": result,
                "created_at": self.recorded_at,
            }
        )

    # ---- writing --------------------------------------------------------------------------

    def flush(self) -> None:
        """Write everything buffered, in foreign-key order."""
        connection = self.connection
        if self.transaction_rows:
            self._insert_transactions()
        if self.posting_rows:
            self._insert_postings()
        if self.dirty:
            self._flush_balances()
        if self.reservation_inserts:
            connection.execute(insert(t.reservations), self.reservation_inserts)
            self.reservation_inserts = []
        if self.reservation_updates:
            r = t.reservations.c
            connection.execute(
                update(t.reservations).where(r.id == bindparam("r_id")),
                list(self.reservation_updates.values()),
            )
            self.reservation_updates = {}
        self._flush_counters()
        if self.head_dirty:
            self.head_dirty = False
            self._driver(
                "UPDATE chain_head SET sequence = ?, hash = ? WHERE id = 1", tuple(self.head)
            )
        if self.idempotency_rows:
            connection.execute(insert(t.idempotency_keys), self.idempotency_rows)
            self.idempotency_rows = []
        self.packs.flush()

    def _insert_postings(self) -> None:
        rows = [
            (
                row["transaction_id"],
                row["location_id"],
                row["item_id"],
                row["batch_id"],
                row["quantity"],
                row["balance_after"],
                self._write_date(row["occurred_on"]),
            )
            for row in self.posting_rows
        ]
        self._driver_many(POSTINGS_INSERT, rows)
        self.posting_rows = []

    def _insert_transactions(self) -> None:
        recorded_at = self._write_datetime(self.recorded_at)
        rows = [
            (
                row["id"],
                row["number"],
                row["kind"],
                self._write_date(row["occurred_on"]),
                recorded_at,
                row["location_id"],
                row["counterparty_id"],
                row["reverses_id"],
                row["shipment_id"],
                row["reason"],
                row["memo"],
                row["previous_hash"],
                row["hash"],
                row["chain_version"],
                row["maker_id"],
                row["approver_id"],
                row["receiver_id"],
            )
            for row in self.transaction_rows
        ]
        self._driver_many(TRANSACTIONS_INSERT, rows)
        self.transaction_rows = []

    # The hot path goes straight to the driver: no per-statement construction, cache-key or
    # per-row parameter processing. Statements are written with `?` and translated once for
    # drivers that use `%s`; dates go to SQLite as the ISO text SQLAlchemy's types store.

    @property
    def _lock_clause(self) -> str:
        return " FOR UPDATE" if self.for_update else ""

    def _statement(self, statement: str) -> str:
        if self.qmark:
            return statement
        translated = _TRANSLATED.get(statement)
        if translated is None:
            translated = _TRANSLATED[statement] = statement.replace("?", "%s")
        return translated

    def _driver(self, statement: str, parameters: tuple = ()):
        return self.connection.exec_driver_sql(self._statement(statement), parameters)

    def _driver_many(self, statement: str, rows: list[tuple]) -> None:
        if rows:
            self.connection.exec_driver_sql(self._statement(statement), rows)

    def _write_date(self, value: dt.date | None):
        return value.isoformat() if self.as_text and value is not None else value

    def _write_datetime(self, value: dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if self.as_text else value

    @staticmethod
    def _read_date(value) -> dt.date | None:
        return dt.date.fromisoformat(value) if isinstance(value, str) else value

    def _flush_balances(self) -> None:
        new_rows, changed_rows = [], []
        for key in self.dirty:
            state = self.states[key]
            values = (state.on_hand, state.reserved, self._write_date(state.last_on), *key)
            if state.is_new:
                new_rows.append(values)
                state.is_new = False
            else:
                changed_rows.append(values)
        self.dirty = set()
        self._driver_many(BALANCES_INSERT, new_rows)
        self._driver_many(BALANCES_UPDATE, changed_rows)

    def _flush_counters(self) -> None:
        c = t.voucher_counters.c
        for prefix, year in sorted(self.counters_dirty):
            counter = self.counters[(prefix, year)]
            last, stored = counter
            if stored:
                self.connection.execute(
                    update(t.voucher_counters).where(c.prefix == prefix, c.year == year),
                    {"last": last},
                )
            else:
                self.connection.execute(
                    insert(t.voucher_counters), {"prefix": prefix, "year": year, "last": last}
                )
                counter[1] = True
        self.counters_dirty = set()
