"""Stocktakes through the use cases, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger import commands as c
from ledger.rules import Code
from ledger.services import scanning as sc
from ledger.services import stocktakes as st
from ledger.services.audit import verify_ledger
from tests.builder import CITY_TEXT, ledger_from_text
from tests.support import refused, stock

CUT_OFF = dt.date(2026, 6, 10)


@pytest.fixture
def county(ledger):
    """金堂县 and 赵家镇 stocked before the cut-off."""
    ledger_from_text(
        ledger,
        CITY_TEXT
        + """
receipt 510100 NH2014 2014-01 100000 on 2026-05-01
receipt 510100 BYT B-EARLY 1440 expires 2026-12-31 on 2026-05-02
""",
    )
    for destination, lines in (
        ("510121", (c.LineSpec("NH2014", 5000, "2014-01"), c.LineSpec("BYT", 720, "B-EARLY"))),
        ("510181", (c.LineSpec("NH2014", 1000, "2014-01"),)),
    ):
        shipment = ledger.issue(c.Issue("510100", destination, lines, dt.date(2026, 6, 1)))
        ledger.confirm(c.Confirm(shipment.number, occurred_on=dt.date(2026, 6, 2)))
    down = ledger.issue(
        c.Issue("510121", "510121-ZJ", (c.LineSpec("NH2014", 800, "2014-01"),), dt.date(2026, 6, 3))
    )
    ledger.confirm(c.Confirm(down.number, occurred_on=dt.date(2026, 6, 4)))
    return ledger


def line(location, item, batch, quantity, unit=None):
    return st.CountLine(location, item, batch, quantity, unit)


def by_account(report):
    return {(row.location_code, row.item_code, row.batch_number): row for row in report.lines}


def test_a_count_with_movements_during_it(county):
    stocktakes = st.Stocktakes(county)
    opened = stocktakes.open(st.OpenStocktake("510121", CUT_OFF, blind=True), actor=None)
    assert opened.number.startswith("ST-2026-") and opened.expected == ()  # blind
    # While the count is open, 金堂县 distributes 100 张 and 赵家镇 receives nothing.
    county.distribute(
        c.Distribute("510121", (c.LineSpec("NH2014", 100, "2014-01"),), dt.date(2026, 6, 12))
    )
    stocktakes.count(
        opened.number,
        st.EnterCounts(
            (
                line("510121", "NH2014", "2014-01", 8, "捆"),  # 4,000 of the 4,200 at the cut-off
                line("510121", "NH2014", "2014-01", 190),  # a second counter: loose ones
                line("510121", "BYT", "B-EARLY", 1, "箱"),  # 720: matches
                line("510121-ZJ", "NH2014", "2014-01", 805),  # 5 more than the books
            )
        ),
    )
    report = stocktakes.close(opened.number)
    lines = by_account(report)
    county_nh = lines[("510121", "NH2014", "2014-01")]
    assert (county_nh.book, county_nh.counted, county_nh.difference) == (4200, 4190, -10)
    assert county_nh.after_cut_off == -100 and county_nh.outcome == "loss"
    assert county_nh.outcome_name == "盘亏"
    assert lines[("510121", "BYT", "B-EARLY")].outcome == "match"
    township = lines[("510121-ZJ", "NH2014", "2014-01")]
    assert (township.difference, township.outcome_name) == (5, "盘盈")
    assert ("510181", "NH2014", "2014-01") not in lines  # outside the counted subtree
    rates = {
        rate.location_code: (rate.lines, rate.matched, rate.passed) for rate in report.by_location
    }
    assert rates == {"510121": (2, 1, False), "510121-ZJ": (1, 0, False)}
    assert report.rate == pytest.approx(1 / 3) and not report.passed


def test_approval_posts_exactly_the_differences(county):
    stocktakes = st.Stocktakes(county)
    number = stocktakes.open(st.OpenStocktake("510121-ZJ", CUT_OFF)).number
    assert [(e.location_code, e.book) for e in stocktakes.get(number).expected] == [
        ("510121-ZJ", 800)
    ]
    stocktakes.count(number, st.EnterCounts((line("510121-ZJ", "NH2014", "2014-01", 790),)))
    stocktakes.close(number)
    refused(
        Code.stocktake_state,
        stocktakes.count,
        number,
        st.EnterCounts((line("510121-ZJ", "NH2014", "2014-01", 1),)),
    )
    approved = stocktakes.approve(number, st.ApproveStocktake("鼠咬破损，经核实"))
    assert approved.status == "approved" and len(approved.adjustments) == 1
    assert stock(county, "510121-ZJ", "NH2014") == {"2014-01": (790, 0)}
    adjustment = county.database.lookup(lambda s: s.transaction_by_number(approved.adjustments[0]))
    assert adjustment.kind.value == "stocktake" and number in adjustment.memo
    assert [(p.location_code, p.quantity) for p in adjustment.postings] == [
        ("510121-ZJ", -10),
        ("adjustment", 10),
    ]
    refused(Code.stocktake_state, stocktakes.approve, number, st.ApproveStocktake("再次"))
    assert verify_ledger(county.database).ok


def test_a_recount_leaves_no_stale_lines(county):
    stocktakes = st.Stocktakes(county)
    number = stocktakes.open(st.OpenStocktake("510121", CUT_OFF, ("NH2014",))).number
    stocktakes.count(
        number,
        st.EnterCounts(
            (line("510121", "NH2014", "2014-01", 3000), line("510121-ZJ", "NH2014", "2014-01", 800))
        ),
    )
    first = stocktakes.close(number)
    assert by_account(first)[("510121", "NH2014", "2014-01")].difference == -1200
    refused(
        Code.outside_stocktake,
        stocktakes.recount,
        number,
        st.Recount((st.AccountRef("510121", "BYT", "B-EARLY"),), "不在范围"),
    )
    reopened = stocktakes.recount(
        number, st.Recount((st.AccountRef("510121", "NH2014", "2014-01"),), "差异过大，复盘")
    )
    assert reopened.status == "counting"
    assert [(row.location_code, row.quantity) for row in reopened.counted] == [("510121-ZJ", 800)]
    stocktakes.count(number, st.EnterCounts((line("510121", "NH2014", "2014-01", 4198),)))
    second = by_account(stocktakes.close(number))
    assert second[("510121", "NH2014", "2014-01")].difference == -2
    assert ("510121", "BYT", "B-EARLY") not in second  # the item scope holds
    before = stock(county, "510121", "NH2014")["2014-01"][0]
    stocktakes.approve(number, st.ApproveStocktake("复盘确认"))
    assert stock(county, "510121", "NH2014")["2014-01"][0] == before - 2


def test_counts_from_a_scan_document_and_the_rules(county):
    stocktakes = st.Stocktakes(county)
    scanning = sc.Scanning(county, sc_keys())
    number = stocktakes.open(st.OpenStocktake("510121", CUT_OFF, ("NH2014",))).number
    document = scanning.open_document(sc.OpenDocument("count", "510121"))
    for pack in scanning.packs("NH2014", "2014-01", "510121")[:3]:
        scanning.scan(sc.Scan(document.id, pack.payload))
    refused(Code.invalid_field, stocktakes.add_scan_document, number, document.id)  # not finished
    scanning.post(document.id)
    counted = stocktakes.add_scan_document(number, document.id)
    assert [(row.quantity, row.source) for row in counted.counted] == [
        (1500, f"scan:{document.id}")
    ]
    refused(Code.duplicate_line, stocktakes.add_scan_document, number, document.id)
    refused(
        Code.outside_stocktake,
        stocktakes.count,
        number,
        st.EnterCounts((line("510181", "NH2014", "2014-01", 1),)),
    )
    refused(
        Code.outside_stocktake,
        stocktakes.count,
        number,
        st.EnterCounts((line("510121", "BYT", "B-EARLY", 1),)),
    )
    refused(Code.unknown_stocktake, stocktakes.get, "ST-2026-999999")
    refused(
        Code.date_in_future,
        stocktakes.open,
        st.OpenStocktake("510121", dt.date(2027, 1, 1)),
    )


def sc_keys():
    from ledger.services import label_keys
    from ledger.settings import Settings

    return label_keys.load(Settings.from_environment())
