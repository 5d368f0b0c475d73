"""Whether a database holds a ledger already: `ledger init` and `ledger restore` go only into
empty ones."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import Connection, func, select, text
from sqlalchemy.engine import URL

from ledger.db import tables as t
from ledger.db.engine import make_engine


class Held(NamedTuple):
    roots: list[tuple[str, str]]  # (code, name) of each city, by code
    users: int
    transactions: int


def held(connection: Connection) -> Held:
    """The cities, users and transactions a migrated ledger database holds."""
    loc = t.locations.c
    roots = connection.execute(
        select(loc.code, loc.name)
        .where(loc.parent_id.is_(None), loc.physical.is_(True))
        .order_by(loc.code)
    ).all()
    users = connection.execute(select(func.count()).select_from(t.users)).scalar_one()
    transactions = connection.execute(select(func.count()).select_from(t.transactions)).scalar_one()
    return Held([(code, name) for code, name in roots], users, transactions)


def sqlite_tables(path: Path) -> int:
    """How many tables the SQLite file holds (-1: a file that is not a database)."""
    try:
        connection = sqlite3.connect(path)  # read only; a read-only open would leave -shm
        try:
            return connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()[0]
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return -1


def postgres_tables(url: URL) -> int:
    """How many tables the PostgreSQL database holds outside the system schemas."""
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            return connection.execute(
                text(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema "
                    "NOT IN ('pg_catalog', 'information_schema')"
                )
            ).scalar_one()
    finally:
        engine.dispose()
