"""The database behind the ledger: engine, reference-data catalog and units of work.

A unit of work is one database transaction holding a `LedgerStore`. The caller commits;
leaving the block without committing rolls everything back (nothing half-written).

`Database.write` runs its work in one unit of work. While it runs, every other `write` and
`lookup` of the same thread on the same database joins that unit of work instead of opening a
transaction of its own, so a use case made of several steps commits once: all of it, or
nothing. Its `before_commit` hook runs last in that transaction; the HTTP layer stores the
answer to an Idempotency-Key there, so the answer and the work it describes commit together.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from ledger.db.catalog import Catalog
from ledger.db.engine import WRITE_OPTION, make_engine, upgrade
from ledger.db.store import LedgerStore
from ledger.limits import retries_max

T = TypeVar("T")

# PostgreSQL: serialization_failure, deadlock_detected, unique_violation (a racing insert),
# lock_not_available. A retried attempt sees the winner's rows and succeeds or refuses cleanly.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "23505", "55P03"})

# Told of every commit that wrote transactions: (transactions, postings) it made durable. The
# HTTP service's metrics listen (api/metrics.py); the ledger itself keeps no figures.
CommitListener = Callable[[int, int], None]
commit_listeners: list[CommitListener] = []


class UnitOfWork:
    def __init__(self, database: Database, connection: Connection | None = None) -> None:
        """connection: a write connection the caller keeps open across units of work (the
        group commit's writer); by default one from the pool, returned at the end."""
        self.database = database
        self.connection: Connection | None = connection
        self.kept = connection is not None
        self.store: LedgerStore | None = None
        self.committed = False

    def __enter__(self) -> UnitOfWork:
        connection = self.connection or self.database.engine.connect().execution_options(
            **{WRITE_OPTION: True}
        )
        connection.begin()
        self.connection = connection
        self.store = LedgerStore(connection, self.database.catalog)
        return self

    def commit(self) -> None:
        assert self.connection is not None and self.store is not None
        self.store.flush()
        self.connection.commit()
        self.store.commit_catalog()
        self.committed = True
        journal = self.store.journal
        if journal.transactions_appended:  # after the commit: only what is durable is counted
            for listener in commit_listeners:
                listener(journal.transactions_appended, journal.postings_appended)

    def __exit__(self, *exc_info) -> None:
        assert self.connection is not None
        try:
            if not self.committed:
                self.connection.rollback()
        finally:
            if not self.kept:
                self.connection.close()


def is_retryable(error: DBAPIError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return True
    message = str(error.orig).lower()
    return isinstance(error, OperationalError) and "database is locked" in message


class Database:
    """One ledger database: its engine and the cache of its committed reference data."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.catalog = Catalog()
        # SQLite admits one writer at a time; threads of this process queue here rather than
        # in SQLite's busy handler, which polls with sleeps and makes latency spiky.
        self.write_lock = threading.RLock() if engine.dialect.name == "sqlite" else nullcontext()
        self._joined = threading.local()  # .uow: the unit of work this thread's writes join
        self.writer: Any = None  # the group commit writer posting for this process, if one runs

    @classmethod
    def from_url(cls, url: str, **engine_options) -> Database:
        return cls(make_engine(url, **engine_options))

    def upgrade(self) -> None:
        upgrade(self.engine)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self)

    def joined(self) -> UnitOfWork | None:
        """The unit of work that this thread's writes join now, if any."""
        return getattr(self._joined, "uow", None)

    def write(
        self,
        work: Callable[[LedgerStore], T],
        before_commit: Callable[[LedgerStore, T], Any] | None = None,
    ) -> T:
        """Run `work` in one write transaction and commit; retry conflicts a bounded number of
        times. A LedgerError from `work` rolls back and propagates at once.

        Writes and lookups that `work` makes on this database (in this thread) join its
        transaction. `before_commit(store, result)` runs after `work`, in the same transaction:
        what it writes commits with the work or not at all. Inside another `write`, `work`
        just runs in the enclosing transaction (whose retry redoes the whole)."""
        joined = self.joined()
        if joined is not None:
            assert joined.store is not None
            result = work(joined.store)
            joined.store.flush()  # later statements of the enclosing work see what this wrote
            if before_commit is not None:
                before_commit(joined.store, result)
            return result
        for attempt in range(retries_max):
            try:
                with self.write_lock, self.unit_of_work() as uow:
                    assert uow.store is not None
                    self._joined.uow = uow
                    try:
                        result = work(uow.store)
                        if before_commit is not None:
                            before_commit(uow.store, result)
                    finally:
                        self._joined.uow = None
                    uow.commit()
                    return result
            except (IntegrityError, OperationalError, DBAPIError) as error:
                if attempt + 1 >= retries_max or not is_retryable(error):
                    raise
                time.sleep(random.uniform(0, 0.002 * 2**attempt))  # back off, de-synchronised
        raise AssertionError("unreachable")

    def lookup(self, work: Callable[[LedgerStore], T]) -> T:
        """Run read-only `work` on a store in a read transaction (nothing is written); inside a
        `write` of this thread, in that write's transaction (it sees what the write did)."""
        joined = self.joined()
        if joined is not None:
            assert joined.store is not None
            return work(joined.store)
        with self.engine.connect() as connection, connection.begin():
            return work(LedgerStore(connection, self.catalog))

    def read(self, snapshot: bool = False) -> Connection:
        """A connection for reads (the caller closes it: `with database.read() as c:`).

        snapshot: every statement of its transaction sees the same committed state (SQLite's
        WAL read transactions always do; PostgreSQL needs REPEATABLE READ).
        """
        connection = self.engine.connect()
        if snapshot and self.engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        return connection

    def dispose(self) -> None:
        if self.writer is not None:
            self.writer.stop()
        self.engine.dispose()
