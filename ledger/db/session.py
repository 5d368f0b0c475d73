"""One database transaction as the repositories see it (not SQLAlchemy's ORM session).

The repositories of a unit of work share one `Session`: the connection, when the transaction
was recorded, the statements of the hot paths sent straight to the driver, and the buffered
writes, flushed in foreign-key order by `flush`. A repository that reads tables others may
have buffered rows for calls `flush` first. Nothing here commits: the unit of work does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from sqlalchemy import Connection

_TRANSLATED: dict[str, str] = {}  # statement with ? → with %s


class Session:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.for_update = connection.dialect.name == "postgresql"
        self.as_text = connection.dialect.name == "sqlite"
        self.qmark = connection.dialect.paramstyle == "qmark"
        self.recorded_at = dt.datetime.now(dt.UTC)
        # The repositories' buffered writes, in foreign-key order (set by who assembles them).
        self.buffers: list[Callable[[], None]] = []
        self.head: list | None = None  # [sequence, hash] of the chain head, once read

    def chain_head(self) -> list:
        """[sequence, hash] of the chain head, read once (locked FOR UPDATE on PostgreSQL until
        the transaction ends); the journal moves it on as it posts."""
        if self.head is None:
            row = self.run(
                "SELECT sequence, hash FROM chain_head WHERE id = 1" + self.lock_clause
            ).one()
            self.head = [row[0], row[1]]
        return self.head

    def lock_ledger(self) -> None:
        """PostgreSQL: hold the chain head before the first ledger row (a balance, a
        transaction) this transaction locks. Every transaction that posts holds it to chain;
        taken first, it is the first lock of every writer of the ledger, so writers queue on it
        and never wait for each other's rows in a cycle (no deadlock), whatever order their
        accounts come in. (SQLite: a write transaction already holds the whole database.)"""
        if self.for_update:
            self.chain_head()

    def flush(self) -> None:
        """Write everything buffered, in foreign-key order."""
        for flush in self.buffers:
            flush()

    # The hot paths go straight to the driver: no per-statement construction, cache-key or
    # per-row parameter processing. Statements are written with `?` and translated once for
    # drivers that use `%s`; dates go to SQLite as the ISO text SQLAlchemy's types store.

    @property
    def lock_clause(self) -> str:
        """` FOR UPDATE` on PostgreSQL (SQLite's writes already hold the database)."""
        return " FOR UPDATE" if self.for_update else ""

    def statement(self, statement: str) -> str:
        if self.qmark:
            return statement
        translated = _TRANSLATED.get(statement)
        if translated is None:
            translated = _TRANSLATED[statement] = statement.replace("?", "%s")
        return translated

    def run(self, statement: str, parameters: tuple = ()):
        return self.connection.exec_driver_sql(self.statement(statement), parameters)

    def run_many(self, statement: str, rows: Sequence[tuple]) -> None:
        if rows:
            self.connection.exec_driver_sql(self.statement(statement), rows)

    def write_date(self, value: dt.date | None):
        return value.isoformat() if self.as_text and value is not None else value

    def write_datetime(self, value: dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if self.as_text else value

    @staticmethod
    def read_date(value) -> dt.date | None:
        return dt.date.fromisoformat(value) if isinstance(value, str) else value
