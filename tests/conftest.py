"""Test fixtures: a fresh ledger database per test on SQLite, and on PostgreSQL when reachable.

PostgreSQL tests read LEDGER_TEST_PG_URL (default: the local `test` database). Each test gets
its own schema, dropped afterwards. When the server is unreachable they skip — unless
LEDGER_REQUIRE_PG=1 (as in CI), when they fail.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from ledger.db.engine import make_engine, upgrade
from ledger.db.unit_of_work import Database
from ledger.services.ledger import Ledger

PG_URL = os.environ.get("LEDGER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("LEDGER_REQUIRE_PG") == "1"
# Label keys for every app the tests build (never the key file under ./data).
os.environ.setdefault("LEDGER_LABEL_KEYS", "T1:test-label-key-0123456789")

TODAY = dt.date(2026, 6, 30)

_pg_state: dict[str, object] = {}


def postgres_reachable() -> tuple[bool, str]:
    if "ok" not in _pg_state:
        try:
            engine = create_engine(PG_URL)
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            engine.dispose()
            _pg_state.update(ok=True, why="")
        except Exception as error:  # unreachable, wrong credentials, no driver …
            _pg_state.update(ok=False, why=str(error).splitlines()[0])
    return bool(_pg_state["ok"]), str(_pg_state["why"])


def require_postgres() -> None:
    ok, why = postgres_reachable()
    if ok:
        return
    if REQUIRE_PG:
        pytest.fail(f"PostgreSQL required (LEDGER_REQUIRE_PG=1) but unreachable at {PG_URL}: {why}")
    pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {why}")


class PostgresSchema:
    """A throwaway schema in the test database; engines made from it use it alone."""

    def __init__(self) -> None:
        require_postgres()
        self.name = f"ledger_test_{uuid.uuid4().hex[:12]}"
        self.admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.name}"'))

    def engine(self, **options):
        return make_engine(
            PG_URL, connect_args={"options": f"-csearch_path={self.name}"}, **options
        )

    def drop(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
        self.admin.dispose()


@contextmanager
def postgres_ledger(**engine_options) -> Iterator[Ledger]:
    """A migrated ledger in a throwaway PostgreSQL schema, dropped afterwards."""
    schema = PostgresSchema()
    engine = schema.engine(**engine_options)
    try:
        upgrade(engine)
        yield Ledger(Database(engine), clock=lambda: TODAY)
    finally:
        engine.dispose()
        schema.drop()


def sqlite_engine(tmp_path):
    return make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path) -> Iterator:
    """An empty, migrated database engine on each engine kind."""
    if request.param == "sqlite":
        engine = sqlite_engine(tmp_path)
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    schema = PostgresSchema()
    engine = schema.engine(pool_size=10, max_overflow=10)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        schema.drop()


@pytest.fixture
def database(engine) -> Database:
    return Database(engine)


@pytest.fixture
def ledger(database) -> Ledger:
    return Ledger(database, clock=lambda: TODAY)
