"""How the bulk loader writes: its bulk mode, and large batches of rows straight to the driver.

Bulk mode (the loader starts on an empty ledger and holds one database transaction to the end):
the secondary indexes of `transactions` and `postings` (not their primary keys or unique
constraints) are dropped when the load starts and made again, with the definitions the database
gave, before it commits — one sort instead of an index entry placed per row. The DDL is part of
the load's transaction: a load that fails leaves the schema as it was; one that commits leaves
it equal to the migrations' (a test checks it).

PostgreSQL: the foreign keys of the two tables are dropped and added again the same way (adding
one checks every row at once), as its manual advises for populating a database, and rows go in
with COPY. While a load runs, other sessions reading the two tables wait for it.

SQLite: rows go in with executemany. For the load's connection only, put back after the commit:
a rollback journal instead of the write-ahead log (`journal_mode=DELETE`: it holds only the few
pages of what was there before, so each new page is written once, not to the log and then to
the file; a process that dies mid-load is still rolled back), no waiting for the disk
(`synchronous=OFF`), a larger page cache, sorts in memory with a second thread, and the foreign
keys of the whole database checked once at the end (`PRAGMA foreign_key_check`) instead of at
every row.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.db.session import Session
from ledger.rules import require

TRANSACTION_COLUMNS = (
    "id, number, kind, occurred_on, recorded_at, location_id, counterparty_id, reverses_id, "
    "shipment_id, reason, memo, previous_hash, hash, chain_version, maker_id, approver_id, "
    "receiver_id"
)
POSTING_COLUMNS = (
    "transaction_id, location_id, item_id, batch_id, quantity, balance_after, occurred_on"
)
BALANCE_COLUMNS = "on_hand, reserved, last_occurred_on, location_id, item_id, batch_id"
# SQLite settings of the load's connection (put back after it).
SQLITE_LOAD_SETTINGS = {
    # A rollback journal: it keeps only the few pages the load changes of what was there (the
    # reference data), where WAL would write every page twice (to the log, then the file).
    "journal_mode": "DELETE",
    "synchronous": "OFF",
    "cache_size": -262_144,  # KiB: 256 MiB (the default is 2 MiB)
    "temp_store": "MEMORY",
    "threads": 2,  # sorts (CREATE INDEX, GROUP BY) may use a second thread
    "foreign_keys": "OFF",  # checked once, at the end
}

_SQLITE_INDEXES = (
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
    "AND sql NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN ('transactions', 'postings') "
    "ORDER BY name"
)
_POSTGRES_INDEXES = (
    "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
    "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class r ON r.oid = x.indrelid "
    "JOIN pg_namespace n ON n.oid = r.relnamespace "
    "WHERE n.nspname = current_schema() AND r.relname IN ('transactions', 'postings') "
    "AND NOT x.indisunique AND NOT x.indisprimary ORDER BY i.relname"
)
_POSTGRES_FOREIGN_KEYS = (
    "SELECT c.conname, r.relname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
    "JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace "
    "WHERE c.contype = 'f' AND n.nspname = current_schema() "
    "AND r.relname IN ('transactions', 'postings') ORDER BY r.relname, c.conname"
)


class BulkWriter:
    """Bulk mode and the rows' writing on one connection (`open`, then `begin` inside the
    load's transaction, `write_*` as the rows come, `end` before the commit, `close` after)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sqlite = session.as_text
        self.dropped: list[str] = []  # statements that make again what bulk mode dropped
        self.restore: list[str] = []  # connection settings to put back after the commit

    @property
    def _driver(self):
        return self.session.connection.connection.driver_connection

    def open(self) -> None:
        """Before the load's transaction begins: settings that cannot change inside one."""
        if self.sqlite:  # on the driver's connection: SQLAlchemy's would begin a transaction
            driver = self._driver
            for setting, value in SQLITE_LOAD_SETTINGS.items():
                before = driver.execute(f"PRAGMA {setting}").fetchone()[0]
                self.restore.append(f"PRAGMA {setting}={before}")
                driver.execute(f"PRAGMA {setting}={value}")

    def begin(self) -> None:
        """Drop the secondary indexes (and on PostgreSQL the foreign keys) of the two tables."""
        run = self.session.run
        if self.sqlite:
            for name, definition in run(_SQLITE_INDEXES).all():
                run(f'DROP INDEX "{name}"')
                self.dropped.append(definition)
            return
        run("SET LOCAL maintenance_work_mem = '256MB'")  # the indexes' sorts
        run("SET LOCAL work_mem = '128MB'")  # the movement totals' GROUP BY
        for name, table, definition in run(_POSTGRES_FOREIGN_KEYS).all():
            run(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            self.dropped.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        for name, definition in run(_POSTGRES_INDEXES).all():
            run(f'DROP INDEX "{name}"')
            self.dropped.insert(0, definition)  # indexes first: the keys' checks may use them

    def write_transactions(self, rows: Sequence[tuple]) -> None:
        self._write("transactions", TRANSACTION_COLUMNS, rows)

    def write_postings(self, rows: Sequence[tuple]) -> None:
        self._write("postings", POSTING_COLUMNS, rows)

    def write_balances(self, rows: Sequence[tuple]) -> None:
        self._write("balances", BALANCE_COLUMNS, rows)

    def _write(self, table: str, columns: str, rows: Sequence[tuple]) -> None:
        if not rows:
            return
        if self.sqlite:
            marks = ", ".join(["?"] * (columns.count(",") + 1))
            self.session.run_many(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
            return
        with (
            self._driver.cursor() as cursor,
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            write_row = copy.write_row
            for row in rows:
                write_row(row)

    def end(self) -> None:
        """Make again what `begin` dropped, and on SQLite check every foreign key (inside the
        load's transaction, before its commit)."""
        for statement in self.dropped:
            self.session.run(statement)
        self.dropped = []
        if self.sqlite:
            broken = self.session.run("PRAGMA foreign_key_check").fetchmany(3)
            require(not broken, f"foreign keys broken by the load: {broken}")

    def close(self) -> None:
        """After the commit (or the rollback): the connection's own settings again."""
        for statement in self.restore:
            self._driver.execute(statement)
        self.restore = []
