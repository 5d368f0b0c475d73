"""The ledger at scale: the synthetic city bulk-loaded to 1 million postings (and 10 million with
LEDGER_BENCH_10M=1, as `python -m bench.run_all` sets), then the full balance computation from the
postings and `verify` from genesis, each checked.

Run: .venv/bin/python -m pytest bench/test_scale.py --benchmark-only -s
"""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest

from ledger.db import queries
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.services import reports
from ledger.services.audit import verify_ledger
from scripts.synthetic_city import YEAR, load_bulk

SIZES = [1_000_000] + ([10_000_000] if os.environ.get("LEDGER_BENCH_10M") == "1" else [])


@pytest.fixture(scope="module", params=SIZES, ids=lambda size: f"{size:,}")
def city(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("scale") / "city.db"
    database = Database(make_engine(f"sqlite:///{path}"))
    database.upgrade()
    started = time.perf_counter()
    load_bulk(database, request.param)
    seconds = time.perf_counter() - started
    with database.read() as connection:
        _, postings = queries.counts(connection)
    print(f"\nbulk-loaded {postings:,} postings in {seconds:.1f} s ({postings / seconds:,.0f}/s)")
    yield database, postings, seconds
    database.dispose()


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
            return queries.balances_from_postings(connection)

    computed = benchmark.pedantic(compute, rounds=3, iterations=1)
    benchmark.extra_info["postings"] = postings
    with database.read() as connection:
        stored = {
            (row.location_code, row.item_code, row.batch_number): row.on_hand
            for row in queries.balances(connection, include_virtual=True, include_zero=True)
        }
    assert {(loc, item, batch): total for loc, item, batch, total in computed} == stored


def test_balances_from_running_balances(benchmark, city):
    database, postings, _ = city

    def compute():
        with database.read() as connection:
            return queries.balances_from_running(connection)

    computed = benchmark.pedantic(compute, rounds=5, iterations=1)
    benchmark.extra_info["postings"] = postings
    with database.read() as connection:
        summed = queries.balances_from_postings(connection)
    assert sorted(computed) == sorted(summed)


def test_city_wide_period_summary_for_the_year(benchmark, city):
    database, postings, _ = city
    year = (dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31))

    def summary():
        return database.lookup(
            lambda store: reports.period_summary(store, "510100", *year, rollup=True)
        )

    report = benchmark.pedantic(summary, rounds=1, iterations=1)
    benchmark.extra_info["postings"] = postings
    top = [r for r in report.records() if r["location_code"] == "510100"]
    with database.read() as connection:
        stored = queries.balances(connection)
    for record in top:  # the city's roll-up closes at what its whole tree holds
        assert record["closing"] == sum(
            b.on_hand for b in stored if b.item_code == record["item_code"]
        )


def test_verify_from_genesis(benchmark, city):
    database, postings, _ = city
    report = benchmark.pedantic(lambda: verify_ledger(database), rounds=1, iterations=1)
    benchmark.extra_info["postings"] = postings
    assert report.ok and report.postings_checked == postings
