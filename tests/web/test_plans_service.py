"""The allocation service's batch (分配方案 with a batch chosen): the split is capped by that
batch's available stock and the issues take that batch, on each database engine."""

from __future__ import annotations

import pytest

from ledger.allocation import Share
from ledger.rules import Code, LedgerError
from ledger.services.allocation import issue_plan, make_plan
from tests.builder import CITY_TEXT, ledger_from_text


@pytest.fixture
def city(ledger):
    ledger_from_text(
        ledger,
        CITY_TEXT
        + """
receipt 510100 GT2014 2014-01 66000 on 2026-05-01
receipt 510100 GT2014 2014-02 1000 on 2026-05-02
""",
    )
    return ledger


def test_a_plan_of_one_batch_splits_only_what_that_batch_holds(city):
    shares = [Share("510121", 3), Share("510181", 1)]
    plan = make_plan(city.database, "510100", "GT2014", 4000, shares, "套", city.clock(), "2014-02")
    assert plan.allocated == 1000 and plan.unallocated == 3000
    assert [line.quantity for line in plan.lines] == [752, 248]  # 188 and 62 sets of 4
    shipments = issue_plan(
        city.database, plan, "510100", "GT2014", None, "按批次", None, None, city.clock(), "2014-02"
    )
    legs = [
        (tx.counterparty_code, p.batch_number, p.quantity)
        for tx in shipments
        for p in tx.postings
        if p.location_code == "in-transit"
    ]
    assert legs == [("510121", "2014-02", 752), ("510181", "2014-02", 248)]


def test_without_a_batch_the_plan_counts_every_batch(city):
    plan = make_plan(
        city.database, "510100", "GT2014", 67_000, [Share("510121", 1)], "套", city.clock()
    )
    assert plan.allocated == 67_000


def test_an_unknown_batch_is_refused_by_name(city):
    with pytest.raises(LedgerError) as refused:
        make_plan(city.database, "510100", "GT2014", 4, [Share("510121", 1)], None, None, "2099")
    assert refused.value.field == "batch_number"
    assert refused.value.code is Code.unknown_batch
