"""The database an entry point opens and hands to the use cases, its schema and its health.

The command line and the scripts hold a `Database` (from `open_database`) and ask these
questions of it; they import nothing of `ledger.db` themselves. `DatabaseError` is what the
database raises when it fails (the command line turns it into one line)."""

from __future__ import annotations

from ledger.db import DatabaseError
from ledger.db.engine import current_revision
from ledger.db.journal_queries import chain_digest, counts
from ledger.db.unit_of_work import Database

__all__ = [
    "Database",
    "DatabaseError",
    "dialect",
    "ledger_size",
    "open_database",
    "ping",
    "schema_revision",
]


def open_database(url: str) -> Database:
    """The ledger database at this SQLAlchemy URL (not migrated here: `ledger db upgrade`)."""
    return Database.from_url(url)


def ping(database: Database) -> None:
    """One cheap read of the chain head: raises whatever the database raises when it does not
    answer."""
    with database.read() as connection:
        chain_digest(connection)


def dialect(database: Database) -> str:
    """The database's kind: sqlite or postgresql."""
    return database.engine.dialect.name


def schema_revision(database: Database) -> str | None:
    """The migration the schema is at; None when the database holds no ledger's schema."""
    return current_revision(database.engine)


def ledger_size(database: Database) -> tuple[int, int]:
    """How many transactions and postings the ledger holds."""
    with database.read() as connection:
        return counts(connection)
