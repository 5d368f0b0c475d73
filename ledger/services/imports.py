"""Master data from spreadsheets: `ledger import locations|items|opening-balances FILE` and
`POST /api/v1/imports/{kind}` (see docs/import.md).

A file (.xlsx, or .csv in UTF-8 with or without a BOM; headers in Chinese or English) is read
and checked whole before anything is written: every problem is collected with its row number
and a Chinese message, and then nothing is imported. A clean file is written in one database
transaction through the ledger's own use cases; a row identical to what is stored is skipped,
so the same file imported twice changes nothing the second time. Locations:
`ledger.services.import_locations`; items: `ledger.services.import_items`; opening balances:
`ledger.services.import_opening`.

An import that changed something also leaves one `import.<kind>` entry in the operations log
(per city it touched) naming the file and what it did.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import msgspec

from ledger.db.import_lock import hold_import_lock
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database
from ledger.rules import Code, LedgerError
from ledger.services.import_common import (
    Imported,
    ImportInvalid,
    OutsideScope,
    Problem,
    Progress,
    Rows,
    ignored_columns,
    log_import,
    read_table,
    records,
    table_of,
)
from ledger.services.import_items import ITEM_COLUMNS, import_items
from ledger.services.import_locations import LOCATION_COLUMNS, import_locations
from ledger.services.import_opening import OPENING_COLUMNS, import_openings
from ledger.services.import_read import Table
from ledger.services.import_templates import template
from ledger.settings import office_today

__all__ = ["ImportInvalid", "Imported", "OutsideScope", "Problem", "import_file", "template"]

KINDS = ("locations", "items", "opening-balances")

# ---- the import -------------------------------------------------------------------------------


def import_file(
    database: Database,
    kind: str,
    path: Path,
    clock: Callable[[], dt.date] = office_today,
    progress: Progress | None = None,
    length: Progress | None = None,
    actor: int | None = None,
    as_of: dt.date | None = None,
) -> Imported:
    """Check the file at `path` whole, then write it in one database transaction (or raise
    ImportInvalid). See `import_data`."""
    check_kind(kind)
    return import_data(
        database,
        kind,
        path.name,
        read_table(path),
        clock=clock,
        progress=progress,
        length=length,
        actor=actor,
        as_of=as_of,
    )


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise LedgerError(Code.invalid_usage, f"只能导入 {'、'.join(KINDS)}，不是 {kind!r}", "kind")


def import_upload(
    database: Database,
    kind: str,
    name: str,
    data: bytes,
    actor: int | None,
    scope: str | None,
    clock: Callable[[], dt.date] = office_today,
    as_of: dt.date | None = None,
) -> Imported:
    """A file sent over the API (its name gives the format), as user `actor` whose reach is
    the subtree `scope` (None: everywhere)."""
    check_kind(kind)
    return import_data(
        database,
        kind,
        name,
        table_of(name, data),
        clock=clock,
        actor=actor,
        as_of=as_of,
        scope=scope,
    )


def import_data(
    database: Database,
    kind: str,
    name: str,
    table: Table,
    *,
    clock: Callable[[], dt.date] = office_today,
    progress: Progress | None = None,
    length: Progress | None = None,
    actor: int | None = None,
    as_of: dt.date | None = None,
    scope: str | None = None,
) -> Imported:
    """Check the rows of file `name` whole, then write them in one database transaction (or
    raise ImportInvalid, or OutsideScope when a row reaches outside `scope`).

    `length(n)` is told how many rows will be written; `progress(k)` is called as k more are.
    The header's columns no import reads come back as `ignored_columns`."""
    spec = {
        "opening-balances": OPENING_COLUMNS,
        "locations": LOCATION_COLUMNS,
        "items": ITEM_COLUMNS,
    }[kind]
    done = _import_rows(
        database, kind, name, records(spec, table), clock, progress, length, actor, as_of, scope
    )
    return msgspec.structs.replace(done, ignored_columns=ignored_columns(spec, table))


def _import_rows(
    database: Database,
    kind: str,
    name: str,
    rows: Rows,
    clock: Callable[[], dt.date],
    progress: Progress | None,
    length: Progress | None,
    actor: int | None,
    as_of: dt.date | None,
    scope: str | None,
) -> Imported:
    if kind == "opening-balances":
        if as_of is None:
            raise LedgerError(
                Code.invalid_usage, "期初余额需要建账日期 --as-of (as_of is required)", "as_of"
            )
        return import_openings(database, name, rows, as_of, clock(), actor, scope, progress, length)
    today = clock()

    def work(store: LedgerStore) -> Imported:
        hold_import_lock(store)  # a second import of the same file plans on the first's rows
        store = store.acting(actor, today)
        if kind == "locations":
            done = import_locations(store, name, rows, actor, today, scope, progress, length)
        else:
            done = import_items(store, name, rows, actor, today, scope, progress, length)
        if done.changed:
            log_import(store, done, name, scope, [])
        return done

    return database.write(work)
