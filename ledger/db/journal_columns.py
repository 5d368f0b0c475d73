"""The ledger's rows read in bulk as Arrow columns, for the fast verifier (ledger/verify_fast.py):
rows are decoded into arrays in C, never into a Python tuple each. Two readers work at once
(one per core), both in the snapshot of the verification's connection:

- SQLite (ledger/db/sqlite_columns.py, Python's own sqlite3): one reader is the verification's
  own connection; the other's read transaction must end at the chain head the verification
  read (every write to the journal moves the head in the same commit), else `SnapshotMoved`
  and the caller starts again;
- PostgreSQL (adbc-driver-postgresql, COPY in binary): each reader imports the snapshot the
  verification's REPEATABLE READ transaction exports (`pg_export_snapshot`).

A database that cannot be read so (SQLite in memory, a URL with options) raises
`ColumnsUnavailable`: the caller verifies with the reference path instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, select
from sqlalchemy.engine import URL

from ledger.db import tables as t
from ledger.db.engine import SQLITE_BUSY_TIMEOUT_MS
from ledger.db.sqlite_columns import Column, ColumnsUnusual, read_table
from ledger.verify_journal import Codes

SLICE_ROWS = 1_000_000  # SQLite rows aggregated per query (a string stays far below its limit)


class ColumnsUnavailable(Exception):
    """The database cannot be read in columns here, or holds what they do not take."""


class SnapshotMoved(Exception):
    """A reader saw another chain head than the verification: a write committed in between."""


class Read(NamedTuple):
    """A table's columns, all its rows, sorted by `order` (columns among those read)."""

    table: str
    columns: tuple[Column, ...]
    order: tuple[str, ...] = ()
    rowids: bool = True  # False: a table WITHOUT ROWID, read in one query


def _integers(*names: str, nullable: bool = False) -> list[Column]:
    return [Column(name, "integer", nullable) for name in names]


TRANSACTIONS = Read(
    "transactions",
    (
        *_integers("id"),
        Column("number", "text"),
        Column("kind", "text"),
        Column("occurred_on", "date"),
        *_integers("location_id"),
        *_integers("counterparty_id", "reverses_id", "shipment_id", nullable=True),
        Column("reason", "text", True),
        Column("memo", "text"),
        Column("previous_hash", "text"),
        Column("hash", "text"),
        *_integers("chain_version"),
        *_integers("maker_id", "approver_id", "receiver_id", nullable=True),
    ),
    ("id",),
)
POSTINGS = Read(
    "postings",
    (
        *_integers("transaction_id", "id", "location_id", "item_id", "batch_id"),
        *_integers("quantity", "balance_after"),
        Column("occurred_on", "date"),
    ),
    ("transaction_id", "id"),
)
CLOSING_BALANCES = Read(
    "closing_balances", tuple(_integers("close_id", "location_id", "batch_id", "on_hand"))
)
_MOVEMENT = (
    *_integers("close_id", "location_id", "item_id"),
    Column("kind", "text"),
    *_integers("incoming"),
)
CLOSE_MOVEMENTS = Read(
    "close_movements", (*_MOVEMENT, *_integers("batch_id", "quantity")), rowids=False
)
CLOSE_ITEM_MOVEMENTS = Read(
    "close_item_movements", (*_MOVEMENT, *_integers("quantity")), rowids=False
)


class ColumnReader:
    """Reads tables into Arrow in the verification's snapshot.

    connection: the verification's connection, inside its (snapshot) transaction.
    head: the chain head it read, (sequence, hash)."""

    def __init__(self, connection: Connection, head: tuple[int, str]) -> None:
        self.connection = connection
        self.head = head
        url = connection.engine.url
        self.dialect = url.get_backend_name()
        if self.dialect == "sqlite":
            if not url.database or url.database == ":memory:" or url.query:
                raise ColumnsUnavailable("SQLite in memory or with URL options")
            self.target = url.database
        elif self.dialect == "postgresql":
            self.target = _libpq_uri(url)
            self.snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            self.search_path = connection.exec_driver_sql(
                "SELECT current_setting('search_path')"
            ).scalar_one()
        else:
            raise ColumnsUnavailable(f"no column reader for {self.dialect}")

    def read(self, mine: Sequence[Read], other: Sequence[Read]) -> list[pa.Table]:
        """`mine` on the verification's side and `other` on a second reader, at once; the
        tables in the order given, each sorted by its `order`."""
        with ThreadPoolExecutor(1) as pool:
            theirs = pool.submit(self._read_aside, other)
            try:
                tables = self._read_here(mine)
            finally:
                tables_aside = theirs.result()
        return [
            _sorted(table, read.order)
            for table, read in zip(tables + tables_aside, [*mine, *other], strict=True)
        ]

    def _read_here(self, reads: Sequence[Read]) -> list[pa.Table]:
        if self.dialect == "postgresql":
            return self._read_aside(reads)
        raw = self.connection.connection.dbapi_connection
        assert raw is not None  # an open connection has its driver connection
        cursor = raw.cursor()
        try:
            return [_sqlite_table(cursor, read) for read in reads]
        finally:
            cursor.close()

    def _read_aside(self, reads: Sequence[Read]) -> list[pa.Table]:
        """On a connection of its own, checked to see the verification's chain head."""
        if not reads:
            return []
        if self.dialect == "postgresql":
            return self._read_postgresql(reads)
        connection = sqlite3.connect(self.target, isolation_level=None, check_same_thread=False)
        try:
            cursor = connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("BEGIN")
            self._check_head(cursor.execute("SELECT sequence, hash FROM chain_head").fetchall())
            tables = [_sqlite_table(cursor, read) for read in reads]
            cursor.execute("COMMIT")
            return tables
        except sqlite3.Error as error:
            raise ColumnsUnavailable(str(error)) from error
        finally:
            connection.close()

    def _check_head(self, rows: list) -> None:
        head = tuple(rows[0]) if rows else None
        if head != tuple(self.head):
            raise SnapshotMoved(f"chain head {head} read, {self.head} expected")

    def _read_postgresql(self, reads: Sequence[Read]) -> list[pa.Table]:
        import adbc_driver_postgresql.dbapi as driver

        try:
            return self._read_postgresql_on(driver.connect(self.target, autocommit=True), reads)
        except driver.Error as error:  # what the driver cannot take: the reference reads it
            raise ColumnsUnavailable(str(error)) from error

    def _read_postgresql_on(self, connection: Any, reads: Sequence[Read]) -> list[pa.Table]:
        try:
            cursor = connection.cursor()
            try:
                cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                cursor.execute(f"SET TRANSACTION SNAPSHOT '{self.snapshot}'")
                cursor.execute("SELECT set_config('search_path', $1, true)", (self.search_path,))
                cursor.fetchall()
                cursor.execute("SELECT sequence, hash FROM chain_head")
                self._check_head(cursor.fetchall())
                tables = []
                for read in reads:
                    names = ", ".join(column.name for column in read.columns)
                    order = f" ORDER BY {', '.join(read.order)}" if read.order else ""
                    cursor.execute(f"SELECT {names} FROM {read.table}{order}")
                    tables.append(cursor.fetch_arrow_table())
                cursor.execute("COMMIT")
                return tables
            finally:
                cursor.close()
        finally:
            connection.close()


def _sqlite_table(cursor: Any, read: Read) -> pa.Table:
    """A table in slices of rowids (each slice one aggregate query)."""
    try:
        if not read.rowids:
            return read_table(cursor, read.table, read.columns)
        last = cursor.execute(f"SELECT max(rowid) FROM {read.table}").fetchone()[0] or 0
        slices = [
            read_table(
                cursor,
                read.table,
                read.columns,
                "rowid > ? AND rowid <= ?",
                (low, low + SLICE_ROWS),
            )
            for low in range(0, max(last, 1), SLICE_ROWS)
        ]
    except ColumnsUnusual as error:
        raise ColumnsUnavailable(str(error)) from error
    return pa.concat_tables(slices) if len(slices) > 1 else slices[0]


def _sorted(table: pa.Table, order: tuple[str, ...]) -> pa.Table:
    """The table in `order` (read in rowid order, it usually is already)."""
    if not order or table.num_rows < 2:
        return table
    keys = [table.column(name).to_numpy() for name in order]
    if len(keys) == 1:
        ordered = bool(np.all(keys[0][1:] > keys[0][:-1]))
    else:
        first, second = keys
        step = np.diff(first)
        ordered = bool(np.all((step > 0) | ((step == 0) & (np.diff(second) > 0))))
    if ordered:
        return table
    indices = pc.sort_indices(table, [(name, "ascending") for name in order])
    return table.take(indices)


def _libpq_uri(url: URL) -> str:
    """The SQLAlchemy URL as libpq takes it (no driver name)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def read_codes(connection: Connection) -> Codes:
    """Reference data by id, in the verification's snapshot."""
    loc, item, batch = t.locations.c, t.items.c, t.batches.c
    items: dict[int, str] = dict(connection.execute(select(item.id, item.code)).all())
    batches, batch_items = {}, {}
    for id_, number, expires, item_id in connection.execute(
        select(batch.id, batch.number, batch.expires_on, batch.item_id)
    ):
        batches[id_] = (number, expires)
        batch_items[id_] = items.get(item_id, "")
    locations = {
        id_: (code, bool(physical))
        for id_, code, physical in connection.execute(select(loc.id, loc.code, loc.physical))
    }
    return Codes(locations, items, batches, batch_items)


def location_paths(connection: Connection) -> dict[int, str]:
    """Each location's path, by id."""
    loc = t.locations.c
    paths: dict[int, str] = dict(connection.execute(select(loc.id, loc.path)).all())
    return paths
