"""Changing reference data by dated versions: a batch's dates, a location's name or parent, an
item's name, category, packs or base unit.

History keeps its meaning only while the reference data it points at does, so these rows are
never changed silently: each change writes the object's next version (`reference_versions`,
append-only) and an operations-log entry in the same database transaction as the row it
changes, and `ledger verify` checks that every current row equals its last version. A change is
refused when it would make recorded history wrong (an expiry moved before an issue already
made, a base unit changed under stored quantities) or when the row no longer equals its last
version (changed outside the ledger: `verify` names it; a new version must not hide it).

After commit the process's reference cache takes the new rows; other processes notice within
`catalog_check_seconds` (ledger/db/store.py).

Here are the use cases, `change(database, kind, code, change, user_id, today)` and
`history(database, kind, code)`; the steps are in `reference_corrections` (per kind) and
`reference_versions` (the next version).
"""

from __future__ import annotations

import datetime as dt

import msgspec

from ledger.db import versions
from ledger.db.moments import as_utc
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database
from ledger.reference import ReferenceKind
from ledger.services.reference_corrections import (
    change_batch,
    change_item,
    change_location,
)
from ledger.services.reference_models import (
    BatchChange,
    ItemChange,
    LocationChange,
    ReferenceVersionOut,
)

# ---- reading the history ----------------------------------------------------------------------


def history(
    database: Database, kind: ReferenceKind, code: str, number: str | None = None
) -> list[ReferenceVersionOut]:
    """Every version of an item (code), location (code) or batch (code = item code, number)."""

    def work(store: LedgerStore) -> list[ReferenceVersionOut]:
        if kind is ReferenceKind.item:
            object_id, key = store.item(code, "code").id, code
        elif kind is ReferenceKind.location:
            object_id, key = store.location(code, "code").id, code
        else:
            item = store.item(code, "item_code")
            object_id = store.batch(item, number or "", "batch_number").id
            key = f"{item.item.code}/{number}"
        return [
            ReferenceVersionOut(
                kind.value,
                key,
                record.version,
                record.valid_from,
                as_utc(record.recorded_at),
                record.user_id,
                store.user_label(record.user_id),
                msgspec.json.decode(record.content),
            )
            for record in versions.history(store.connection, kind, object_id)
        ]

    return database.lookup(work)


def change(
    database: Database,
    kind: ReferenceKind,
    code: str,
    change: BatchChange | LocationChange | ItemChange,
    user_id: int | None,
    today: dt.date,
    number: str | None = None,
) -> ReferenceVersionOut:
    """Carry out one change in its own database transaction."""
    if kind is ReferenceKind.batch:
        assert isinstance(change, BatchChange)
        return database.write(
            lambda store: change_batch(store, code, number or "", change, user_id, today)
        )
    if kind is ReferenceKind.location:
        assert isinstance(change, LocationChange)
        return database.write(lambda store: change_location(store, code, change, user_id, today))
    assert isinstance(change, ItemChange)
    return database.write(lambda store: change_item(store, code, change, user_id, today))
