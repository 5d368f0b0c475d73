"""The movement totals (day, month and year per physical account, month and year per location ×
item; per kind and direction) equal a recomputation from the stored postings — after random postings, refusals and reversals through
the use cases, after a bulk load, after the migration that adds them to a populated ledger —
on both engines; and `verify` names a total that was changed, removed or added behind the
ledger's back."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import literal, select, text

from ledger import commands as c
from ledger.db import journal_queries
from ledger.db import tables as t
from ledger.db.engine import alembic_config
from ledger.db.unit_of_work import Database
from ledger.services.audit import close_period, verify_ledger
from scripts.synthetic_city import Shape, load_bulk, load_use_cases
from tests.bound import Ledger
from tests.conftest import ENGINE_KINDS, migrated_engine
from tests.random_ledger import RandomLedger

GRAINS = {1: "day", 2: "month", 3: "year"}
SMALL = Shape(counties=2, townships_per_county=2, villages_per_township=3)


def recomputed(connection) -> dict:
    """Every total the stored postings call for, computed here in Python: (grain, start,
    location code, item code, batch number — None per location × item —, kind, incoming) ->
    sum of |quantity|."""
    totals: dict = {}
    for tx in journal_queries.stored_transactions(connection):
        day = tx.occurred_on
        starts = ((1, day), (2, day.replace(day=1)), (3, day.replace(month=1, day=1)))
        for p in tx.postings:
            if not p.physical:
                continue
            for grain, start in starts:
                for batch in (p.batch_number, None) if grain > 1 else (p.batch_number,):
                    key = (grain, start, p.location_code, p.item_code, batch, tx.kind)
                    key += (p.quantity > 0,)
                    totals[key] = totals.get(key, 0) + abs(p.quantity)
    return totals


def stored(connection) -> dict:
    """Both tables' rows, keyed as `recomputed` keys them."""
    loc, item, batch = t.locations.c, t.items.c, t.batches.c
    found = {}
    for table in (t.movement_totals, t.item_movement_totals):
        m = table.c
        per_account = table is t.movement_totals
        number = batch.number if per_account else literal(None)
        query = (
            select(m.grain, m.starts_on, loc.code, item.code, number, m.kind, m.incoming)
            .add_columns(m.quantity)
            .select_from(table)
            .join(t.locations, loc.id == m.location_id)
            .join(t.items, item.id == m.item_id)
        )
        if per_account:
            query = query.join(t.batches, batch.id == m.batch_id)
        found.update({(*row[:6], bool(row[6])): row[7] for row in connection.execute(query)})
    return found


def assert_totals_recomputed(database: Database) -> dict:
    with database.read() as connection:
        expected, found = recomputed(connection), stored(connection)
    assert found == expected
    return found


@pytest.fixture(params=ENGINE_KINDS)
def random_ledger(request, tmp_path):
    with migrated_engine(request.param, tmp_path) as engine:
        yield RandomLedger(Ledger(Database(engine)), seed=18).walk(160)


@pytest.fixture(scope="module", params=ENGINE_KINDS)
def walked_once(request, tmp_path_factory):
    """The same walk as `random_ledger`, once per engine for the module (the walk is most of a
    test's time on PostgreSQL)."""
    with migrated_engine(request.param, tmp_path_factory.mktemp("walked")) as engine:
        yield RandomLedger(Ledger(Database(engine)), seed=18).walk(160)


TOTALS_TABLES = (t.movement_totals, t.item_movement_totals)


def totals_rows(connection) -> dict:
    """Both totals tables' rows, sorted."""
    return {
        table.name: sorted(tuple(row) for row in connection.execute(select(table)))
        for table in TOTALS_TABLES
    }


@pytest.fixture
def walked_ledger(walked_once):
    """The module's walked ledger for a test that reads it or changes only the totals tables
    behind the ledger's back: both tables are put back row for row afterwards (and checked)."""
    database = walked_once.ledger.database
    with database.read() as connection:
        before = totals_rows(connection)
    yield walked_once
    with database.engine.begin() as connection:
        for table in TOTALS_TABLES:
            connection.execute(table.delete())
            columns = [column.name for column in table.columns]
            connection.execute(
                table.insert(), [dict(zip(columns, row, strict=True)) for row in before[table.name]]
            )
    with database.read() as connection:
        assert totals_rows(connection) == before


def test_the_totals_equal_the_postings_after_random_postings_and_reversals(walked_ledger):
    walked = walked_ledger
    found = assert_totals_recomputed(walked.ledger.database)
    assert walked.posted > 60
    assert {key[5] for key in found} >= {"opening", "receipt", "issue", "reversal"}
    assert {key[1].year for key in found} == {2025, 2026}  # across the end of a year
    assert {grain for grain, *_ in found} == set(GRAINS)
    assert verify_ledger(walked.ledger.database).ok


def test_the_totals_are_written_with_the_postings_or_not_at_all(random_ledger):
    """A refused batch of commands leaves no total behind (one database transaction)."""
    database = random_ledger.ledger.database
    before = assert_totals_recomputed(database)
    random_ledger._run_many(
        [
            random_ledger._command(),
            random_ledger._command(),
            c.Distribute("510100", (c.LineSpec("NH2014", 10**9, "2014-01"),)),  # refused
        ]
    )
    assert assert_totals_recomputed(database) == before


@pytest.fixture(scope="module")
def city_through_the_use_cases(tmp_path_factory) -> dict:
    """The totals of a small synthetic city loaded command by command through the use cases."""
    with migrated_engine("sqlite", tmp_path_factory.mktemp("use-cases")) as engine:
        database = Database(engine)
        load_use_cases(database, 2_000, seed=5, shape=SMALL)
        return assert_totals_recomputed(database)


@pytest.mark.parametrize("kind", ENGINE_KINDS)
def test_the_bulk_loader_writes_the_totals_the_use_cases_write(
    kind, tmp_path, city_through_the_use_cases
):
    with migrated_engine(kind, tmp_path) as engine:
        database = Database(engine)
        load_bulk(database, 2_000, seed=5, shape=SMALL)
        found = assert_totals_recomputed(database)
    assert found == city_through_the_use_cases
    assert len({key[1] for key in found if key[0] == 2}) == 12  # every month of the year


@pytest.mark.parametrize("kind", ENGINE_KINDS)
def test_the_migration_computes_the_totals_of_a_populated_ledger(kind, tmp_path):
    """Upgrading a ledger with postings from 0011 (no totals) fills them in."""
    with migrated_engine(kind, tmp_path, run_migrations=True) as engine:
        walked = RandomLedger(Ledger(Database(engine)), seed=7).walk(60)
        expected = assert_totals_recomputed(walked.ledger.database)
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection=connection), "0011")
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection=connection), "head")
        assert assert_totals_recomputed(walked.ledger.database) == expected
        assert expected


# ---- verify -------------------------------------------------------------------------------------


def sql(database: Database, statement: str) -> None:
    with database.engine.begin() as connection:
        connection.execute(text(statement))


def total_findings(database: Database, **options) -> list:
    report = verify_ledger(database, **options)
    return [f for f in report.findings if f.code == "movement_total_mismatch"]


TAMPERINGS = {
    "changed": ("UPDATE {table} SET quantity = quantity + 1 WHERE {one}", 1),
    "removed": ("DELETE FROM {table} WHERE {one}", None),
}
TOTALS = [  # (table, grain, how verify names the grain)
    ("movement_totals", 1, "day"),
    ("movement_totals", 2, "month"),
    ("movement_totals", 3, "year"),
    ("item_movement_totals", 2, "item month"),
    ("item_movement_totals", 3, "item year"),
]


@pytest.mark.parametrize("tampering", sorted(TAMPERINGS))
@pytest.mark.parametrize("table, grain, name", TOTALS, ids=[name for _, _, name in TOTALS])
def test_verify_names_a_changed_or_removed_total(walked_ledger, tampering, table, grain, name):
    database = walked_ledger.ledger.database
    totals = t.Base.metadata.tables[table]
    with database.read() as connection:
        row = connection.execute(select(totals).where(totals.c.grain == grain).limit(1)).one()
    one = (
        f"grain = {grain} AND starts_on = '{row.starts_on.isoformat()}' "
        f"AND location_id = {row.location_id} AND item_id = {row.item_id} "
        f"AND kind = '{row.kind}' AND incoming = {str(bool(row.incoming)).lower()}"
    )
    if table == "movement_totals":
        one += f" AND batch_id = {row.batch_id}"
    statement, change = TAMPERINGS[tampering]
    sql(database, statement.format(table=table, one=one))
    findings = total_findings(database)
    assert [(f.invariant, f.expected, f.found) for f in findings] == [
        (4, str(row.quantity), "none" if change is None else str(row.quantity + change))
    ]
    subject = findings[0].subject
    assert f"total {name} {row.starts_on.isoformat()}" in subject and row.kind in subject


def test_verify_names_a_total_with_no_postings_behind_it(walked_ledger):
    database = walked_ledger.ledger.database
    with database.read() as connection:
        ids = connection.execute(select(t.batches.c.id, t.batches.c.item_id).limit(1)).one()
        place = connection.execute(
            select(t.locations.c.id).where(t.locations.c.code == "510181")
        ).scalar_one()
    sql(
        database,
        "INSERT INTO movement_totals (grain, starts_on, location_id, item_id, kind, incoming, "
        f"batch_id, quantity) VALUES (2, '2031-03-01', {place}, {ids.item_id}, 'receipt', "
        f"true, {ids.id}, 77)",
    )
    findings = total_findings(database)
    assert [(f.subject.split()[2:4], f.expected, f.found) for f in findings] == [
        (["month", "2031-03-01"], "none", "77")
    ]


def test_verify_since_a_close_rechecks_the_totals_of_the_days_recorded_since(random_ledger):
    """Since a close: the totals of the days posted to after the close are recomputed (one
    changed is named, its month's and year's too if they were changed), those of other days
    are not re-read (a verification from genesis names them)."""
    walked = random_ledger
    database = walked.ledger.database
    database.write(lambda store: close_period(store, dt.date(2025, 12, 31), None, walked.today))
    walked.ledger.execute(c.Receive("510100", (c.ReceiptLine("NH2014", "2014-01", 9),)))
    today = walked.today.isoformat()
    assert not total_findings(database, since_close=True)
    for grain, start in ((1, today), (2, today[:8] + "01"), (3, today[:5] + "01-01")):
        changed = (
            f"grain = {grain} AND starts_on = '{start}' AND kind = 'receipt' AND batch_id = "
            "(SELECT id FROM batches WHERE number = '2014-01') AND location_id = "
            "(SELECT id FROM locations WHERE code = '510100')"
        )
        sql(database, f"UPDATE movement_totals SET quantity = quantity + 5 WHERE {changed}")
        findings = total_findings(database, since_close=True)
        assert [f.subject.split()[2:4] for f in findings] == [[GRAINS[grain], start]]
        sql(database, f"UPDATE movement_totals SET quantity = quantity - 5 WHERE {changed}")
    untouched = (
        "grain = 1 AND starts_on = (SELECT MIN(starts_on) FROM movement_totals WHERE grain = 1)"
    )
    sql(database, f"UPDATE movement_totals SET quantity = quantity + 5 WHERE {untouched}")
    assert not total_findings(database, since_close=True)
    assert total_findings(database)


def test_verify_names_a_day_and_its_month_changed_together_and_nothing_else(walked_ledger):
    """Each changed total is named once: not again in the year and the totals per location ×
    item that add it up (they are compared with what the postings make of the level below)."""
    database = walked_ledger.ledger.database
    m = t.movement_totals.c
    with database.read() as connection:
        day = connection.execute(select(t.movement_totals).where(m.grain == 1).limit(1)).one()
    same = (
        f"location_id = {day.location_id} AND item_id = {day.item_id} AND kind = '{day.kind}' "
        f"AND incoming = {str(bool(day.incoming)).lower()} AND batch_id = {day.batch_id}"
    )
    month = day.starts_on.replace(day=1).isoformat()
    for grain, start in ((1, day.starts_on.isoformat()), (2, month)):
        sql(
            database,
            "UPDATE movement_totals SET quantity = quantity + 5 "
            f"WHERE grain = {grain} AND starts_on = '{start}' AND {same}",
        )
    findings = total_findings(database)
    assert [f.subject.split()[2:4] for f in findings] == [
        ["day", day.starts_on.isoformat()],
        ["month", month],
    ]
    assert findings[0].found == str(int(findings[0].expected) + 5)


def test_verify_names_a_month_total_that_does_not_start_on_the_first(walked_ledger):
    database = walked_ledger.ledger.database
    sql(
        database,
        "INSERT INTO item_movement_totals (grain, starts_on, location_id, item_id, kind, "
        "incoming, quantity) SELECT 2, '2025-12-15', location_id, item_id, kind, incoming, 3 "
        "FROM item_movement_totals LIMIT 1",
    )
    findings = total_findings(database)
    assert [(f.subject.split()[2:5], f.expected, f.found) for f in findings] == [
        (["item", "month", "2025-12-15"], "none", "3")
    ]
