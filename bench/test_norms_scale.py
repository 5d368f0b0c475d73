"""库存定额 at scale: every township's suggested request for the synthetic city of 1 million
postings (300 townships, 3,000 villages) on SQLite, in one pass over the city
(`stock_positions` with the townships as targets), and one township's alone; the city's stock
alerts. A copy of the shared 1M database when there is one (LEDGER_BENCH_CITY_1M, upgraded to
the head on the copy), else the city is bulk-loaded here. Checked: 300 townships answered, and
a sample of townships equal to their own suggestion read alone.

Run: .venv/bin/python -m pytest bench/test_norms_scale.py --benchmark-only -s
"""

from __future__ import annotations

import time

import pytest

from ledger.services import suggestions
from scripts.synthetic_city import CLOCK

MONTHS = 6


@pytest.fixture(scope="module")
def city(city_1m):
    return city_1m


def _townships(database, root):
    return database.lookup(
        lambda s: suggestions.stock_positions(
            s, root, CLOCK, MONTHS, lambda place: place.level == "township"
        )
    )


def test_every_townships_suggestion(benchmark, city):
    database, root = city
    positions = benchmark.pedantic(lambda: _townships(database, root), rounds=3, iterations=1)
    by_place: dict[str, dict[str, int]] = {}
    for p in positions:
        by_place.setdefault(p.location.code, {})[p.item.code] = p.suggestion.suggested
    assert len(by_place) == 300
    for code in sorted(by_place)[::60]:  # five townships read alone agree
        alone = database.lookup(
            lambda s, code=code: suggestions.suggested_request(s, code, CLOCK, MONTHS)
        )
        assert {p.item.code: p.suggestion.suggested for p in alone} == by_place[code]
    print(f"\n{len(positions):,} township × item lines, {len(by_place)} townships")


def test_one_townships_suggestion(benchmark, city):
    database, root = city
    code = database.lookup(lambda s: next(p for p in _townships(database, root)).location.code)
    lines = benchmark.pedantic(
        lambda: database.lookup(lambda s: suggestions.suggested_request(s, code, CLOCK, MONTHS)),
        rounds=5,
        iterations=1,
    )
    assert lines


def test_the_citys_stock_alerts(benchmark, city):
    database, root = city
    started = time.perf_counter()
    alerts = benchmark.pedantic(
        lambda: database.lookup(lambda s: suggestions.stock_alerts(s, root, CLOCK, MONTHS)),
        rounds=1,
        iterations=1,
    )
    print(f"\n{len(alerts):,} alerts in {time.perf_counter() - started:.2f} s")
