"""The ledger's rows read in bulk as Arrow columns, for the fast verifier (ledger/verify_fast.py):
rows are decoded into arrays in C, never into a Python tuple each. Two readers work at once
(one per core), both in the snapshot of the verification's connection:

- SQLite (ledger/db/sqlite_columns.py, Python's own sqlite3): one reader is the verification's
  own connection; the other's read transaction must end at the chain head the verification
  read (every write to the journal moves the head in the same commit), else `SnapshotMoved`
  and the caller starts again;
- PostgreSQL (adbc-driver-postgresql, COPY in binary): each reader imports the snapshot the
  verification's REPEATABLE READ transaction exports (`pg_export_snapshot`).

A database that cannot be read so (SQLite in memory or with URL options, a PostgreSQL standby,
which exports no snapshot) raises `ColumnsUnavailable`: the caller verifies with the reference
path instead.
"""

from __future__ import annotations

import sqlite3
import threading
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

SLICE_ROWS = 250_000  # SQLite rows aggregated per query: the readers' share of the work


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
        *_integers("transaction_id", "location_id", "item_id", "batch_id"),
        *_integers("quantity", "balance_after"),
        Column("occurred_on", "date"),
    ),
    ("transaction_id", "id"),  # id: the rowid, the order SQLite reads them in
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
            if connection.exec_driver_sql("SELECT pg_is_in_recovery()").scalar_one():
                raise ColumnsUnavailable("a standby exports no snapshot")
            self.target = _libpq_uri(url)
            self.snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            self.search_path = connection.exec_driver_sql(
                "SELECT current_setting('search_path')"
            ).scalar_one()
        else:
            raise ColumnsUnavailable(f"no column reader for {self.dialect}")

    def read(self, reads: Sequence[Read]) -> list[pa.Table]:
        """The tables, each sorted by its `order`, read by two readers at once."""
        if self.dialect == "postgresql":
            halves = [reads[0::2], reads[1::2]]
            with ThreadPoolExecutor(1) as pool:
                theirs = pool.submit(self._read_postgresql, halves[1])
                try:
                    mine = self._read_postgresql(halves[0])
                finally:
                    others = theirs.result()
            tables = [None] * len(reads)
            tables[0::2], tables[1::2] = mine, others
        else:
            tables = self._read_sqlite(reads)
        return [_sorted(table, read.order) for table, read in zip(tables, reads, strict=True)]

    def _read_sqlite(self, reads: Sequence[Read]) -> list[pa.Table]:
        """Slices of rowids, taken in turn by the verification's connection and by a second
        one (checked to see the same chain head) until none is left."""
        raw = self.connection.connection.dbapi_connection
        assert raw is not None  # an open connection has its driver connection
        cursor = raw.cursor()
        try:
            jobs = [
                (index, where)
                for index, read in enumerate(reads)
                for where in _slices(cursor, read)
            ]
            pending = iter(range(len(jobs)))
            lock = threading.Lock()
            done: dict[int, pa.Table] = {}

            def work(on: Any) -> None:
                while True:
                    with lock:
                        job = next(pending, None)
                    if job is None:
                        return
                    index, (where, parameters) = jobs[job]
                    read = reads[index]
                    done[job] = read_table(on, read.table, read.columns, where, parameters)

            with ThreadPoolExecutor(1) as pool:
                aside = pool.submit(self._aside, work)
                try:
                    work(cursor)
                finally:
                    aside.result()
        except ColumnsUnusual as error:
            raise ColumnsUnavailable(str(error)) from error
        finally:
            cursor.close()
        parts: list[list[pa.Table]] = [[] for _ in reads]
        for job, (index, _) in enumerate(jobs):
            parts[index].append(done[job])
        return [pa.concat_tables(tables) if len(tables) > 1 else tables[0] for tables in parts]

    def _aside(self, work) -> None:
        """`work` on a connection of its own, checked to see the verification's chain head."""
        connection = sqlite3.connect(self.target, isolation_level=None, check_same_thread=False)
        try:
            cursor = connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("BEGIN")
            self._check_head(cursor.execute("SELECT sequence, hash FROM chain_head").fetchall())
            work(cursor)
            cursor.execute("COMMIT")
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


def _slices(cursor: Any, read: Read) -> list[tuple[str, tuple]]:
    """A table's slices of rowids as (condition, parameters); one for a table WITHOUT ROWID."""
    if not read.rowids:
        return [("", ())]
    last = cursor.execute(f"SELECT max(rowid) FROM {read.table}").fetchone()[0] or 0
    return [
        ("rowid > ? AND rowid <= ?", (low, low + SLICE_ROWS))
        for low in range(0, max(last, 1), SLICE_ROWS)
    ]


def _sorted(table: pa.Table, order: tuple[str, ...]) -> pa.Table:
    """The table in `order` (read in rowid order, it usually is already; a key not read is
    the rowid itself, the order the rows come in: a stable sort by the keys before it)."""
    keys = [name for name in order if name in table.column_names]
    if not keys or table.num_rows < 2:
        return table
    values = [table.column(name).to_numpy() for name in keys]
    step = np.diff(values[0])
    if len(keys) == len(order) == 1:
        ordered = bool(np.all(step > 0))
    elif len(keys) == 1:
        ordered = bool(np.all(step >= 0))
    else:
        ordered = bool(np.all((step > 0) | ((step == 0) & (np.diff(values[1]) > 0))))
    if ordered:
        return table
    return table.take(pc.sort_indices(table, [(name, "ascending") for name in keys]))


def _libpq_uri(url: URL) -> str:
    """The SQLAlchemy URL as libpq takes it (no driver name)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def read_codes(connection: Connection) -> Codes:
    """Reference data by id, in the verification's snapshot."""
    loc, item, batch = t.locations.c, t.items.c, t.batches.c
    items: dict[int, str] = dict(connection.execute(select(item.id, item.code)).all())
    batches, batch_items, batch_item_ids = {}, {}, {}
    for id_, number, expires, item_id in connection.execute(
        select(batch.id, batch.number, batch.expires_on, batch.item_id)
    ):
        batches[id_] = (number, expires)
        batch_items[id_] = items.get(item_id, "")
        batch_item_ids[id_] = item_id
    locations = {
        id_: (code, bool(physical))
        for id_, code, physical in connection.execute(select(loc.id, loc.code, loc.physical))
    }
    return Codes(locations, items, batches, batch_items, batch_item_ids)


def location_paths(connection: Connection) -> dict[int, str]:
    """Each location's path, by id."""
    loc = t.locations.c
    paths: dict[int, str] = dict(connection.execute(select(loc.id, loc.path)).all())
    return paths
