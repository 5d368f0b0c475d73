"""The database an entry point opens and hands to the use cases, its schema and its health.

The command line and the scripts hold a `Database` (from `open_database`) and ask these
questions of it; they import nothing of `ledger.db` themselves. `DatabaseError` is what the
database raises when it fails (the command line turns it into one line)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ledger.db import DatabaseError

# Storage itself is imported when first used: the command line imports this module to start
# and to report a database error, and `ledger --help` should not load the tables.
if TYPE_CHECKING:
    from ledger.db.unit_of_work import Database

__all__ = [
    "Database",
    "DatabaseError",
    "dialect",
    "ledger_size",
    "listen_to_commits",
    "open_database",
    "ping",
    "schema_revision",
]


def __getattr__(name: str) -> Any:
    if name == "Database":
        from ledger.db.unit_of_work import Database

        return Database
    raise AttributeError(name)


def open_database(url: str) -> Database:
    """The ledger database at this SQLAlchemy URL (not migrated here: `ledger db upgrade`)."""
    from ledger.db.unit_of_work import Database

    return Database.from_url(url)


def ping(database: Database) -> None:
    """One cheap read of the chain head: raises whatever the database raises when it does not
    answer."""
    from ledger.db.journal_queries import chain_digest

    with database.read() as connection:
        chain_digest(connection)


def listen_to_commits(listener: Callable[[int, int], None]) -> None:
    """Have `listener(transactions, postings)` told of every commit of this process that wrote
    transactions, right after it (the service's metrics); once, however often it is asked."""
    from ledger.db.unit_of_work import commit_listeners

    if listener not in commit_listeners:
        commit_listeners.append(listener)


def dialect(database: Database) -> str:
    """The database's kind: sqlite or postgresql."""
    return database.engine.dialect.name


def schema_revision(database: Database) -> str | None:
    """The migration the schema is at; None when the database holds no ledger's schema."""
    from ledger.db.engine import current_revision

    return current_revision(database.engine)


def ledger_size(database: Database) -> tuple[int, int]:
    """How many transactions and postings the ledger holds."""
    from ledger.db.journal_queries import counts

    with database.read() as connection:
        return counts(connection)


def open_replica(url: str) -> Database:
    """A read-only copy of the ledger at this URL (a PostgreSQL streaming replica): reports,
    balances and verification may read there; it refuses writes (`read_only_replica`)."""
    from ledger.db.replica import ReplicaDatabase

    return ReplicaDatabase.from_url(url)


def reads_for(primary: Database, replica: Database | None, at_least: int = 0):
    """Where a read goes: (database, the sequence it holds at least, "replica" or "primary");
    see ledger/db/replica.py."""
    from ledger.db import replica as replicas

    return replicas.reads_for(primary, replica, at_least)
