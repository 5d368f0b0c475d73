"""The ledger at scale: the synthetic city bulk-loaded to 1 million postings (and 10 million with
LEDGER_BENCH_10M=1, as `python -m bench.run_all` sets), then the full balance computation from the
postings and `verify` from genesis, each checked.

Run: .venv/bin/python -m pytest bench/test_scale.py --benchmark-only -s
"""

from __future__ import annotations

import os
import time

import pytest

from ledger.db import queries
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.services.audit import verify_ledger
from scripts.synthetic_city import load_bulk

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


def test_verify_from_genesis(benchmark, city):
    database, postings, _ = city
    report = benchmark.pedantic(lambda: verify_ledger(database), rounds=1, iterations=1)
    benchmark.extra_info["postings"] = postings
    assert report.ok and report.postings_checked == postings
