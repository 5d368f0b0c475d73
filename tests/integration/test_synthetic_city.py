"""The synthetic city: both ways of loading it give the same ledger, and it verifies clean."""

from __future__ import annotations

import pytest

from ledger.db import balance_queries, journal_queries
from ledger.db.bulk import BulkLoader
from ledger.db.unit_of_work import Database
from ledger.rules import LedgerError
from ledger.services.audit import verify_ledger
from scripts.synthetic_city import Shape, generate, load_bulk, load_use_cases, locations
from tests.conftest import PostgresSchema, sqlite_engine

SMALL = Shape(counties=3, townships_per_county=3, villages_per_township=3)
POSTINGS = 6_000


def ledger_state(database: Database) -> tuple:
    with database.read() as connection:
        balances = sorted(
            (row.location_code, row.item_code, row.batch_number, row.on_hand, row.reserved)
            for row in balance_queries.balances(connection, include_virtual=True, include_zero=True)
        )
        return (
            journal_queries.chain_digest(connection),
            journal_queries.counts(connection),
            balances,
        )


def test_the_generator_is_reproducible_and_shaped_like_a_city():
    first = [command for day in generate(3_000, seed=11, shape=SMALL) for command in day]
    again = [command for day in generate(3_000, seed=11, shape=SMALL) for command in day]
    other = [command for day in generate(3_000, seed=12, shape=SMALL) for command in day]
    assert first == again and first != other
    kinds = {type(command).__name__ for command in first}
    assert kinds >= {"Receive", "Issue", "Confirm", "Distribute", "WriteOff", "Adjust", "Reserve"}
    city = locations()
    levels = [location.level.value for location in city]
    assert levels.count("county") == 20 and levels.count("township") == 300
    assert levels.count("village") == 3_000


def test_bulk_and_use_cases_write_the_same_ledger(tmp_path):
    """Use cases on SQLite; the bulk loader on SQLite and on PostgreSQL: one ledger."""
    engines = []
    schema = PostgresSchema()
    try:
        for name in ("use-cases", "bulk"):
            (tmp_path / name).mkdir()
            engines.append(sqlite_engine(tmp_path / name))
        engines.append(schema.engine())
        use_cases, bulk_sqlite, bulk_postgres = (Database(engine) for engine in engines)
        for database in (use_cases, bulk_sqlite, bulk_postgres):
            database.upgrade()
        load_use_cases(use_cases, POSTINGS, seed=5, shape=SMALL)
        load_bulk(bulk_sqlite, POSTINGS, seed=5, shape=SMALL)
        load_bulk(bulk_postgres, POSTINGS, seed=5, shape=SMALL)
        digest, counts, balances = ledger_state(use_cases)
        assert counts[1] > POSTINGS * 0.8
        assert ledger_state(bulk_sqlite) == (digest, counts, balances)
        assert ledger_state(bulk_postgres) == (digest, counts, balances)
        for database in (use_cases, bulk_sqlite, bulk_postgres):
            report = verify_ledger(database)
            assert report.ok, report.findings[:3]
        with pytest.raises(LedgerError, match="empty ledger"):
            BulkLoader(bulk_postgres)
    finally:
        for engine in engines:
            engine.dispose()
        schema.drop()
