"""年度需求计划 at scale: the city's plan for 2026 (rows at the 300 townships, the counties and the
city by their own stores) from the synthetic city of 1 million postings (a year, 2025, of
flows; 3,000 villages) on SQLite, and one county's. A copy of the shared 1M database when there
is one (LEDGER_BENCH_CITY_1M, upgraded to the head on the copy), else the city is bulk-loaded
here. Checked: 300 townships planned, the totals equal the sums of the rows, and five townships'
rows equal their own plans read alone.

Run: .venv/bin/python -m pytest bench/test_demand_plan_scale.py --benchmark-only -s
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from ledger.services.demand_plan import demand_plan
from ledger.services.report_demand import demand_plan_report
from scripts.synthetic_city import CLOCK

YEAR = CLOCK.year  # 2026: the plan drawn up on 1 January from 2025's consumption
GROWTH = Fraction(5)


@pytest.fixture(scope="module")
def city(city_1m):
    return city_1m


def _plan(database, under: str, months: int = 12):
    return database.lookup(
        lambda s: demand_plan_report(demand_plan(s, under, YEAR, CLOCK, months, GROWTH))
    )


def test_the_citys_demand_plan(benchmark, city):
    database, root = city
    report = benchmark.pedantic(lambda: _plan(database, root), rounds=3, iterations=1)
    records = report.records()
    townships = {r["location_code"] for r in records if r["scope"] == "含下级"}
    assert len(townships) == 300
    keys = [column.key for column in report.columns]
    lines = [r for r in records if r["scope"] in ("本级", "含下级")]
    for total in report.totals:
        row = dict(zip(keys, total, strict=True))
        mine = [r for r in lines if r["item_code"] == row["item_code"]]
        for field in ("last_year", "demand", "maximum", "on_hand", "in_transit"):
            assert row[field] == sum(r[field] for r in mine), (row["item_code"], field)
    by_place = {(r["location_code"], r["item_code"]): r for r in lines}
    for code in sorted(townships)[::60]:
        alone = _plan(database, code).records()
        assert alone and all(r == by_place[(code, r["item_code"])] for r in alone), code
    print(f"\n{len(report.rows):,} rows, {len(report.totals)} items, {len(townships)} townships")


def test_one_countys_demand_plan(benchmark, city):
    database, _ = city
    county = database.lookup(
        lambda s: s.connection.exec_driver_sql(
            "SELECT code FROM locations WHERE level = 'county' ORDER BY code LIMIT 1"
        ).scalar_one()
    )
    report = benchmark.pedantic(lambda: _plan(database, county, 6), rounds=3, iterations=1)
    assert sum(r["scope"] == "含下级" for r in report.records()) >= 15 * len(report.totals) // 2
