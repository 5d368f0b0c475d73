"""Allocation plans pushed down as issues, in whole packs, never beyond what is available."""

from __future__ import annotations

import pytest

from ledger import commands as c
from ledger.allocation import Share
from ledger.rules import Code, LedgerError
from tests.bound import apply_plan, plan_allocation
from tests.builder import CITY_TEXT, ledger_from_text


@pytest.fixture
def city(ledger):
    ledger_from_text(
        ledger,
        CITY_TEXT
        + """
location 510181-QCS 青城山镇 township 510181
receipt 510100 GT2014 2014-01 66000 on 2026-05-01
receipt 510100 GT2014 2014-02 1000 on 2026-05-02
""",
    )
    return ledger


def test_a_plan_splits_sets_by_weight_and_applies_as_issues(city):
    shares = [Share("510121", 80), Share("510181", 71), Share("510181-QCS", 9)]
    plan = plan_allocation(city, "510100", "GT2014", 64_002, shares, unit="套")
    assert [line.quantity % 4 for line in plan.lines] == [0, 0, 0]
    assert plan.allocated == 64_000 and plan.unallocated == 2
    assert [line.packs for line in plan.lines] == [8000, 7100, 900]
    shipments = apply_plan(city, plan, "510100", "GT2014", memo="按人口分配")
    assert [tx.counterparty_code for tx in shipments] == ["510121", "510181", "510181-QCS"]
    assert [tx.kind.value for tx in shipments] == ["issue", "issue", "issue"]
    shipped = [
        sum(p.quantity for p in tx.postings if p.location_code == "in-transit") for tx in shipments
    ]
    assert shipped == [32_000, 28_400, 3_600]
    # FEFO for printed matter is the oldest print run: 2014-01 runs out before 2014-02 is touched.
    batches = [
        p.batch_number for tx in shipments for p in tx.postings if p.location_code == "in-transit"
    ]
    assert batches == ["2014-01", "2014-01", "2014-01"]


def test_a_plan_never_exceeds_what_is_available(city):
    city.reserve(c.Reserve("SQ-1", "510100", "GT2014", 60_000))
    plan = plan_allocation(
        city, "510100", "GT2014", 64_000, [Share("510121", 1), Share("510181", 1)], unit="套"
    )
    assert plan.allocated == 7000 and plan.unallocated == 57_000
    assert [line.quantity for line in plan.lines] == [3500, 3500]


def test_a_plan_for_an_unknown_pack_is_refused(city):
    with pytest.raises(LedgerError) as refused:
        plan_allocation(city, "510100", "GT2014", 100, [Share("510121", 1)], unit="箱")
    assert refused.value.code is Code.unknown_pack


def test_a_share_without_a_weight_takes_its_locations_population(city):
    from ledger.services.imports import import_data

    import_data(
        city.database,
        "locations",
        "人口.csv",
        list(
            enumerate(  # (row number, cells), as a file is read
                [
                    ["编码", "名称", "上级编码", "级别", "人口"],
                    ["510121", "金堂县", "510100", "区县", "800000"],
                    ["510181", "都江堰市", "510100", "区县", "710000"],
                ],
                1,
            )
        ),
        clock=city.clock,
    )
    shares = [Share("510121", None), Share("510181", None), Share("510181-QCS", 90_000)]
    plan = plan_allocation(city, "510100", "GT2014", 64_000, shares, unit="套")
    assert [line.packs for line in plan.lines] == [8000, 7100, 900]
    with pytest.raises(LedgerError) as refused:
        plan_allocation(city, "510100", "GT2014", 100, [Share("510181-QCS", None)], unit="套")
    assert refused.value.code is Code.weights_invalid
    assert "青城山镇(510181-QCS) 没有人口数" in refused.value.message
