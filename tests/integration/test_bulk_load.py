"""The bulk loader against the posting path, row by row, and its bulk mode (indexes and foreign
keys dropped during the load and made again) leaving the schema the migrations made."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from ledger import commands as c
from ledger.db.bulk import BulkLoader
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.rules import Code, LedgerError
from ledger.services.audit import verify_ledger
from ledger.services.bulk import load_in_bulk
from ledger.services.ledger import execute_many
from scripts.synthetic_city import (
    CLOCK,
    Shape,
    generate,
    generate_ahead,
    load_bulk,
    load_use_cases,
)
from scripts.synthetic_city import reference_commands as city_reference
from tests.conftest import ENGINE_KINDS, migrated_engine

SMALL = Shape(counties=2, townships_per_county=3, villages_per_township=3)
POSTINGS = 4_000

# Every row of what a load writes, in a fixed order (the time a transaction was recorded is
# the one column that differs between two loads).
TABLES = {
    "transactions": (
        "SELECT id, number, kind, occurred_on, location_id, counterparty_id, reverses_id, "
        "shipment_id, reason, memo, previous_hash, hash, chain_version, maker_id, approver_id, "
        "receiver_id FROM transactions ORDER BY id"
    ),
    "postings": "SELECT * FROM postings ORDER BY id",
    "balances": "SELECT * FROM balances ORDER BY location_id, item_id, batch_id",
    "voucher_counters": "SELECT * FROM voucher_counters ORDER BY prefix, year",
    "chain_head": "SELECT * FROM chain_head",
    "movement_totals": (
        "SELECT * FROM movement_totals ORDER BY grain, starts_on, location_id, item_id, kind, "
        "incoming, batch_id"
    ),
    "item_movement_totals": (
        "SELECT * FROM item_movement_totals ORDER BY grain, starts_on, location_id, item_id, "
        "kind, incoming"
    ),
    "batches": "SELECT * FROM batches ORDER BY id",
}


def rows(database: Database) -> dict[str, list[tuple]]:
    with database.engine.connect() as connection:
        return {
            table: [tuple(row) for row in connection.execute(text(query))]
            for table, query in TABLES.items()
        }


def schema(database: Database) -> set[tuple]:
    """The indexes and constraints of the ledger's tables, as the database describes them."""
    with database.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            query = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type <> 'table'"
        else:
            query = (
                "SELECT 'index', indexname, tablename, indexdef FROM pg_indexes "
                "WHERE schemaname = current_schema() UNION ALL "
                "SELECT 'constraint', c.conname, r.relname, pg_get_constraintdef(c.oid) "
                "FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid "
                "JOIN pg_namespace n ON n.oid = r.relnamespace "
                "WHERE n.nspname = current_schema()"
            )
        return {tuple(row) for row in connection.execute(text(query))}


@pytest.mark.parametrize("kind", ENGINE_KINDS)
def test_the_bulk_loader_writes_the_rows_the_posting_path_writes(kind, tmp_path):
    """The same commands through the use cases and through the bulk loader: every row of the
    ledger's tables equal, each ledger verified clean, and the schema after the bulk load equal
    to the migrations' (what bulk mode dropped was made again)."""
    (tmp_path / "posting").mkdir()
    (tmp_path / "bulk").mkdir()
    with (
        migrated_engine(kind, tmp_path / "posting") as posting_engine,
        migrated_engine(kind, tmp_path / "bulk") as bulk_engine,
    ):
        posting, bulk = Database(posting_engine), Database(bulk_engine)
        migrated = schema(bulk)
        load_use_cases(posting, POSTINGS, seed=3, shape=SMALL)
        made = load_bulk(bulk, POSTINGS, seed=3, shape=SMALL)
        expected, found = rows(posting), rows(bulk)
        assert made == len(expected["transactions"]) > 1_000
        assert len(expected["postings"]) > POSTINGS * 0.8
        for table in TABLES:
            assert found[table] == expected[table], table
        assert schema(bulk) == migrated
        for database in (posting, bulk):
            report = verify_ledger(database)
            assert report.ok, report.findings[:3]
            assert report.postings_checked == len(expected["postings"])


def city_loader(database: Database) -> BulkLoader:
    execute_many(database, city_reference(SMALL), today=CLOCK)
    return BulkLoader(database)


def receipt(quantity: int, day: dt.date) -> c.Receive:
    return c.Receive("510100", (c.ReceiptLine("NH2014", "2014-01", quantity),), day, "入库")


def distribution(quantity: int, day: dt.date) -> c.Distribute:
    return c.Distribute("510100", (c.LineSpec("NH2014", quantity, "2014-01"),), day, "发放")


@pytest.mark.parametrize(
    ("late", "code"),
    [
        (distribution(101, dt.date(2025, 3, 2)), Code.exceeds_on_hand),
        (distribution(1, dt.date(2025, 3, 1)), Code.date_before_last_movement),
    ],
)
@pytest.mark.parametrize("kind", ENGINE_KINDS)
def test_a_refused_command_ends_the_load_and_leaves_the_ledger_as_it_was(
    kind, late, code, tmp_path
):
    """Refused with the posting engine's code; nothing of the load is kept, and the indexes
    and keys bulk mode dropped are there again."""
    with migrated_engine(kind, tmp_path) as engine:
        database = Database(engine)
        migrated = schema(database)
        loader = city_loader(database)
        loader.add([receipt(100, dt.date(2025, 3, 1)), distribution(40, dt.date(2025, 3, 2))])
        with pytest.raises(LedgerError) as refused:
            loader.add([distribution(60, dt.date(2025, 3, 2)), late])
        assert refused.value.code is code
        assert schema(database) == migrated
        found = rows(database)
        assert found["chain_head"] == [(1, 0, "0" * 64)]
        assert not found["transactions"] and not found["postings"] and not found["balances"]
        load_in_bulk(database, [[receipt(100, dt.date(2025, 3, 1))]])  # and it can start again
        assert verify_ledger(database).ok


def test_sqlite_settings_are_put_back_after_a_load(tmp_path):
    """The load's connection goes back to the pool as it came (it waits for the disk again)."""
    names = ("synchronous", "cache_size", "temp_store", "threads", "journal_mode", "foreign_keys")
    with migrated_engine("sqlite", tmp_path) as engine:
        loader = city_loader(Database(engine))
        driver = loader.connection.connection.driver_connection
        during = [driver.execute(f"PRAGMA {name}").fetchone()[0] for name in names]
        assert during == [0, -262_144, 2, 2, "delete", 0]

        def settings() -> list:
            return [driver.execute(f"PRAGMA {name}").fetchone()[0] for name in names]

        loader.add(next(iter(generate(2_000, shape=SMALL))))
        loader.finish()
        after = settings()
        other = make_engine(engine.url.render_as_string(hide_password=False))
        try:
            with other.connect() as connection:  # a connection that never loaded
                fresh = connection.connection.driver_connection
                expected = [fresh.execute(f"PRAGMA {name}").fetchone()[0] for name in names]
        finally:
            other.dispose()
        assert after == expected and after[0] == 1


def test_the_days_generated_ahead_are_the_days_generated():
    """The synthetic city's second process sends the same commands, in order, and says when it
    failed."""
    assert list(generate_ahead(3_000, seed=4, shape=SMALL)) == list(
        generate(3_000, seed=4, shape=SMALL)
    )
    with pytest.raises(RuntimeError, match="the generator failed: IndexError"):
        list(generate_ahead(3_000, shape=Shape(counties=0)))
