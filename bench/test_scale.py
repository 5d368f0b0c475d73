"""The ledger at scale: the synthetic city bulk-loaded to 1 million postings on SQLite and on
PostgreSQL (and 10 million on SQLite with LEDGER_BENCH_10M=1, as `python -m bench.run_all` sets;
10 million on PostgreSQL with LEDGER_BENCH_10M_POSTGRES=1, about 6 GB of disk).
On each: balances computed from the postings; the year's city-wide 收发存汇总表 before any close;
month ends closed January to November; verification since the November close; the summary from
that close and, December closed too, from the closes alone (both must equal the first); and
`verify` from genesis, checking the twelve closes on the way. Each result is checked.

Run: .venv/bin/python -m pytest bench/test_scale.py --benchmark-only -s
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import time

import pytest

from ledger import commands as c
from ledger.db import balance_queries, closes, journal_queries
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.services import reports
from ledger.services.audit import close_period, period_closes, verify_ledger
from scripts.synthetic_city import CLOCK, YEAR, load_bulk
from tests.bound import Ledger
from tests.conftest import PostgresSchema

CITIES = [("sqlite", 1_000_000), ("postgresql", 1_000_000)]
if os.environ.get("LEDGER_BENCH_10M") == "1":
    CITIES.append(("sqlite", 10_000_000))
if os.environ.get("LEDGER_BENCH_10M_POSTGRES") == "1":
    CITIES.append(("postgresql", 10_000_000))


@pytest.fixture(scope="module", params=CITIES, ids=lambda city: f"{city[0]}-{city[1]:,}")
def city(request, tmp_path_factory):
    kind, size = request.param
    schema = None
    if kind == "sqlite":
        path = tmp_path_factory.mktemp("scale") / "city.db"
        engine = make_engine(f"sqlite:///{path}")
    else:
        schema = PostgresSchema()
        engine = schema.engine()
    database = Database(engine)
    try:
        database.upgrade()
        started = time.perf_counter()
        load_bulk(database, size)
        seconds = time.perf_counter() - started
        with database.read() as connection:
            _, postings = journal_queries.counts(connection)
        print(f"\n{kind}: bulk-loaded {postings:,} postings in {seconds:.1f} s")
        yield database, postings, seconds
    finally:
        database.dispose()
        if schema is not None:
            schema.drop()


def test_bulk_load(benchmark, city):
    _, postings, seconds = city
    benchmark.extra_info.update(postings=postings, seconds=round(seconds, 1))
    benchmark.extra_info["postings_per_second"] = round(postings / seconds)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)  # timed in the fixture
    assert postings > 0


def test_balances_from_every_posting(benchmark, city):
    database, postings, _ = city

    def compute():
        with database.read() as connection:
            return balance_queries.balances_from_postings(connection)

    computed = benchmark.pedantic(compute, rounds=3, iterations=1)
    benchmark.extra_info["postings"] = postings
    with database.read() as connection:
        stored = {
            (row.location_code, row.item_code, row.batch_number): row.on_hand
            for row in balance_queries.balances(connection, include_virtual=True, include_zero=True)
        }
    assert {(loc, item, batch): total for loc, item, batch, total in computed} == stored


def test_balances_from_running_balances(benchmark, city):
    database, postings, _ = city

    def compute():
        with database.read() as connection:
            return balance_queries.balances_from_running(connection)

    computed = benchmark.pedantic(compute, rounds=5, iterations=1)
    benchmark.extra_info["postings"] = postings
    with database.read() as connection:
        summed = balance_queries.balances_from_postings(connection)
    assert sorted(computed) == sorted(summed)


SUMMARIES: dict = {}  # the year's summary from the November close, per database
YEAR_RANGE = (dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31))


def _summary(database):
    return database.lookup(
        lambda store: reports.period_summary(store, "510100", *YEAR_RANGE, rollup=True)
    )


def _closes_at_what_the_city_holds(database, report) -> None:
    """The city's roll-up of each item closes the year at what its whole tree holds now."""
    top = [r for r in report.records() if r["location_code"] == "510100"]
    with database.read() as connection:
        stored = balance_queries.balances(connection)
    assert top
    for record in top:
        assert record["closing"] == sum(
            b.on_hand for b in stored if b.item_code == record["item_code"]
        )


def test_city_wide_period_summary_for_the_year(benchmark, city):
    """Before any close: as-of balances at both ends and every posting of the year."""
    database, postings, _ = city
    report = benchmark.pedantic(lambda: _summary(database), rounds=1, iterations=1)
    benchmark.extra_info["postings"] = postings
    _closes_at_what_the_city_holds(database, report)


def _close(database, month: int):
    end = dt.date(YEAR, month, calendar.monthrange(YEAR, month)[1])
    return database.write(lambda store: close_period(store, end, None, CLOCK))


def test_close_january_to_november(benchmark, city):
    """月结 eleven times, a month at a time (the mean is per close)."""
    database, postings, _ = city
    months = iter(range(1, 12))
    benchmark.pedantic(lambda: _close(database, next(months)), rounds=11, iterations=1)
    benchmark.extra_info["postings"] = postings
    assert [c.period_end.month for c in period_closes(database)] == list(range(1, 12))


def _late_december(database, share: float = 0.01) -> int:
    """Distributions dated 31 December recorded after the November close (a close keeps the
    chain head when it is made, and the bulk load wrote the whole year before): one unit each
    from accounts holding printed matter, as many postings as `share` of the ledger's. Returns
    how many."""
    with database.read() as connection:
        held = [
            b
            for b in balance_queries.balances(connection)
            if b.expires_on is None and b.available > 0 and b.location_code.isdigit()
        ]
    with database.read() as connection:
        _, postings = journal_queries.counts(connection)
    chosen = held[: max(1, int(postings * share / 2))]
    ledger = Ledger(database, clock=lambda: CLOCK)
    for start in range(0, len(chosen), 5_000):
        ledger.execute_many(
            [
                c.Distribute(
                    b.location_code,
                    (c.LineSpec(b.item_code, 1, b.batch_number),),
                    dt.date(YEAR, 12, 31),
                    "年末补登",
                )
                for b in chosen[start : start + 5_000]
            ]
        )
    return len(chosen)


def test_verify_since_the_november_close(benchmark, city):
    """Only what was recorded after November's close is read, from its closing balances."""
    database, _, _ = city
    late = _late_december(database)
    report = benchmark.pedantic(
        lambda: verify_ledger(database, since_close=True), rounds=1, iterations=1
    )
    with database.read() as connection:
        december = closes.transactions_after(connection, report.from_sequence)
    benchmark.extra_info["postings"] = report.postings_checked
    assert report.ok and report.since_period_end == dt.date(YEAR, 11, 30)
    assert report.transactions_checked == december == late


def test_city_wide_period_summary_from_the_november_close(benchmark, city):
    """The year to 31 December from November's close plus December's postings."""
    database, postings, _ = city
    report = benchmark.pedantic(lambda: _summary(database), rounds=3, iterations=1)
    benchmark.extra_info["postings"] = postings
    _closes_at_what_the_city_holds(database, report)
    SUMMARIES[database] = report.rows


def test_city_wide_period_summary_for_a_closed_year(benchmark, city):
    """December closed too: the year is two sets of kept totals subtracted (the first empty),
    and must equal the summary from November's close."""
    database, postings, _ = city
    _close(database, 12)
    report = benchmark.pedantic(lambda: _summary(database), rounds=3, iterations=1)
    benchmark.extra_info["postings"] = postings
    assert report.rows == SUMMARIES[database]


REFERENCE_REPORTS: dict = {}  # verify from genesis by the reference path, per database


def test_verify_from_genesis(benchmark, city):
    """Every invariant over every posting, and each of the twelve closes checked on the way:
    the reference path (the Verifier fed one transaction at a time)."""
    database, postings, _ = city
    report = benchmark.pedantic(lambda: verify_ledger(database, fast=False), rounds=1, iterations=1)
    with database.read() as connection:
        _, stored = journal_queries.counts(connection)  # the bulk load's and the late December's
    benchmark.extra_info["postings"] = stored
    assert report.ok and report.postings_checked == stored > postings
    assert report.from_sequence == 0
    REFERENCE_REPORTS[database] = report


def test_verify_from_genesis_fast(benchmark, city):
    """The same verification over columns (ledger/services/verify_fast.py, what `ledger verify`
    runs): the same report as the reference's, field by field."""
    database, _, _ = city
    report = benchmark.pedantic(lambda: verify_ledger(database, fast=True), rounds=1, iterations=1)
    benchmark.extra_info["postings"] = report.postings_checked
    assert report.ok and report == REFERENCE_REPORTS[database]
