"""The database an entry point opens and hands to the use cases, and its health."""

from __future__ import annotations

from ledger.db import queries
from ledger.db.unit_of_work import Database

__all__ = ["Database", "dialect", "open_database", "ping"]


def open_database(url: str) -> Database:
    """The ledger database at this SQLAlchemy URL (not migrated here: `ledger db upgrade`)."""
    return Database.from_url(url)


def ping(database: Database) -> None:
    """One cheap read of the chain head: raises whatever the database raises when it does not
    answer."""
    with database.read() as connection:
        queries.chain_digest(connection)


def dialect(database: Database) -> str:
    """The database's kind: sqlite or postgresql."""
    return database.engine.dialect.name
