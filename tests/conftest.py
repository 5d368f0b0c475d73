"""Test fixtures: a fresh ledger database per test on SQLite, and on PostgreSQL when reachable.

PostgreSQL tests read LEDGER_TEST_PG_URL (default: the local `test` database). Each test gets
its own schema, dropped afterwards. When the server is unreachable they skip — unless
LEDGER_REQUIRE_PG=1 (as in CI), when they fail.

A migrated database is a copy of one migrated once per process (tests/clones.py), not a run of
every migration per test.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, create_engine, text

from ledger.db.engine import make_engine, upgrade
from ledger.db.unit_of_work import Database
from ledger.services import web_sign_in
from tests import clones
from tests.bound import Ledger

PG_URL = os.environ.get("LEDGER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("LEDGER_REQUIRE_PG") == "1"
# Label keys for every app the tests build (never the key file under ./data).
os.environ.setdefault("LEDGER_LABEL_KEYS", "T1:test-label-key-0123456789")

TODAY = dt.date(2026, 6, 30)

# Passwords: the app hashes with argon2id at RFC 9106's second recommended cost (64 MiB, three
# passes: about 0.2 s of CPU for each hash and each check), kept here as APP_HASHER and held to
# it by tests/unit/test_password_hashing.py. The tests sign in some 400 times a run, so in this
# process the app hashes with argon2id at its smallest cost instead: the same code, and a hash
# carries its own cost, so every check reads what it verifies from the hash as it does in use.
APP_HASHER = web_sign_in._hasher
web_sign_in._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

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
    """A throwaway schema in the test database, empty or `migrated` (a copy of the migrated
    template); engines made from it use it alone."""

    def __init__(self, migrated: bool = False) -> None:
        require_postgres()
        self.name = f"ledger_test_{uuid.uuid4().hex[:12]}"
        self.admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as connection:
            if migrated:  # one query: one transaction
                script = clones.postgres_schema_sql(PG_URL, self.name)
                connection.connection.driver_connection.execute(script)
            else:
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
    schema = PostgresSchema(migrated=True)
    engine = schema.engine(**engine_options)
    try:
        yield Ledger(Database(engine), clock=lambda: TODAY)
    finally:
        engine.dispose()
        schema.drop()


def sqlite_engine(tmp_path):
    """An engine on a new, empty SQLite file in `tmp_path`."""
    return make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")


def migrated_sqlite_engine(tmp_path, **options):
    """An engine on a migrated SQLite file in `tmp_path` (a copy of the migrated template)."""
    return make_engine(clones.copy_sqlite(tmp_path / "ledger.db"), **options)


@pytest.fixture(scope="session", autouse=True)
def _migrated_templates(tmp_path_factory) -> Iterator[None]:
    """The process's migrated SQLite template (tests/clones.py) lives in the session's
    temporary directory and is removed when the session ends."""
    clones.keep_templates_in(tmp_path_factory.mktemp("migrated"))
    yield
    clones.remove_templates()


ENGINE_KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def migrated_engine(kind: str, tmp_path, run_migrations: bool = False) -> Iterator[Engine]:
    """An engine on a new, migrated database of `kind` (sqlite, postgresql), dropped afterwards:
    a copy of the migrated template, or with `run_migrations` a database the whole Alembic
    history has just run on (for the tests of the migrations themselves)."""
    if kind == "sqlite":
        engine = sqlite_engine(tmp_path) if run_migrations else migrated_sqlite_engine(tmp_path)
        try:
            if run_migrations:
                upgrade(engine)
            yield engine
        finally:
            engine.dispose()
        return
    schema = PostgresSchema(migrated=not run_migrations)
    engine = schema.engine(pool_size=10, max_overflow=10)
    try:
        if run_migrations:
            upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        schema.drop()


@pytest.fixture(params=ENGINE_KINDS)
def engine(request, tmp_path) -> Iterator[Engine]:
    """An empty, migrated database engine on each engine kind."""
    with migrated_engine(request.param, tmp_path) as engine:
        yield engine


@pytest.fixture
def database(engine) -> Database:
    return Database(engine)


@pytest.fixture
def ledger(database) -> Ledger:
    return Ledger(database, clock=lambda: TODAY)
