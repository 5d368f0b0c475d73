"""Stocktakes through the use cases, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger import commands as c
from ledger.rules import Code
from ledger.services import scan_models as sc
from ledger.services import stocktake_models as st
from ledger.services.audit import verify_ledger
from tests.bound import Scanning, Stocktakes
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
    stocktakes = Stocktakes(county)
    opened = stocktakes.open(
        st.OpenStocktake("510121", CUT_OFF, blind=True, include_subtree=True), actor=None
    )
    assert opened.include_subtree and opened.location_codes == ()
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
    stocktakes = Stocktakes(county)
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
    shown = stocktakes.preview(number)
    assert [
        (x.location_code, x.item_code, x.difference, x.outcome_name) for x in shown.adjustments
    ] == [("510121-ZJ", "NH2014", -10, "盘亏")]
    assert shown.totals == (st.UnitTotal("张", 0, 10, -10),) and shown.vouchers == 1
    assert shown.not_counted == ()
    approved = stocktakes.approve(number, st.ApproveStocktake("鼠咬破损，经核实", shown.digest))
    assert approved.status == "approved" and len(approved.adjustments) == 1
    assert stock(county, "510121-ZJ", "NH2014") == {"2014-01": (790, 0)}
    adjustment = county.database.lookup(lambda s: s.transaction_by_number(approved.adjustments[0]))
    assert adjustment.kind.value == "stocktake" and number in adjustment.memo
    assert [(p.location_code, p.quantity) for p in adjustment.postings] == [
        ("510121-ZJ", -10),
        ("adjustment", 10),
    ]
    refused(
        Code.stocktake_state, stocktakes.approve, number, st.ApproveStocktake("再次", shown.digest)
    )
    assert verify_ledger(county.database).ok


def test_a_recount_leaves_no_stale_lines(county):
    stocktakes = Stocktakes(county)
    opened = stocktakes.open(
        st.OpenStocktake("510121", CUT_OFF, ("NH2014",), location_codes=("510121-ZJ",))
    )
    assert (opened.include_subtree, opened.location_codes) == (False, ("510121-ZJ",))
    number = opened.number
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
    stocktakes.approve(number, st.ApproveStocktake("复盘确认", stocktakes.preview(number).digest))
    assert stock(county, "510121", "NH2014")["2014-01"][0] == before - 2


def test_counts_from_a_scan_document_and_the_rules(county):
    stocktakes = Stocktakes(county)
    scanning = Scanning(county, sc_keys())
    number = stocktakes.open(st.OpenStocktake("510121", CUT_OFF, ("NH2014",))).number
    document = scanning.open_document(sc.OpenDocument("count", "510121"))
    for pack in scanning.packs("NH2014", "2014-01", "510121")[:3]:
        scanning.scan(sc.Scan(document.id, pack.payload))
    # not finished
    refused(Code.scan_document_state, stocktakes.add_scan_document, number, document.id)
    scanning.post(document.id)
    counted = stocktakes.add_scan_document(number, document.id)
    assert [(row.quantity, row.source) for row in counted.counted] == [
        (1500, f"scan:{document.id}")
    ]
    refused(Code.scan_document_already_counted, stocktakes.add_scan_document, number, document.id)
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


def test_a_county_count_does_not_reach_its_townships_unless_it_names_them(county):
    stocktakes = Stocktakes(county)
    alone = stocktakes.open(st.OpenStocktake("510121", CUT_OFF))
    assert {e.location_code for e in alone.expected} == {"510121"}
    error = refused(
        Code.outside_stocktake,
        stocktakes.count,
        alone.number,
        st.EnterCounts((line("510121-ZJ", "NH2014", "2014-01", 800),)),
    )
    assert "范围：金堂县" in error.message and error.field == "lines[0].location_code"
    named = stocktakes.open(st.OpenStocktake("510121", CUT_OFF, location_codes=("510121-ZJ",)))
    assert {e.location_code for e in named.expected} == {"510121", "510121-ZJ"}
    whole = stocktakes.open(st.OpenStocktake("510121", CUT_OFF, include_subtree=True))
    assert {e.location_code for e in whole.expected} == {"510121", "510121-ZJ"}
    for codes, code in (
        (("510181",), Code.outside_stocktake),  # another county
        (("510100",), Code.outside_stocktake),  # above, not under
        (("adjustment",), Code.location_must_be_physical),
        (("510121-XX",), Code.unknown_location),
    ):
        error = refused(code, stocktakes.open, st.OpenStocktake("510121", location_codes=codes))
        assert error.field == "location_codes[0]"
    # Closing freezes only the scope's books.
    stocktakes.count(alone.number, st.EnterCounts((line("510121", "NH2014", "2014-01", 4200),)))
    report = stocktakes.close(alone.number)
    assert {row.location_code for row in report.lines} == {"510121"}


def test_an_uncounted_line_is_not_counted_and_never_a_loss(county):
    stocktakes = Stocktakes(county)
    number = stocktakes.open(
        st.OpenStocktake("510121", CUT_OFF, blind=True, include_subtree=True)
    ).number
    stocktakes.count(number, st.EnterCounts((line("510121", "NH2014", "2014-01", 4190),)))
    report = by_account(stocktakes.close(number))
    for key in (("510121", "BYT", "B-EARLY"), ("510121-ZJ", "NH2014", "2014-01")):
        row = report[key]
        assert (row.outcome, row.outcome_name, row.counted, row.difference) == (
            "not_counted",
            "未盘",
            0,
            0,
        )
    shown = stocktakes.preview(number)
    assert [(x.location_code, x.difference) for x in shown.adjustments] == [("510121", -10)]
    assert {(x.location_code, x.item_code, x.book) for x in shown.not_counted} == {
        ("510121", "BYT", 720),
        ("510121-ZJ", "NH2014", 800),
    }
    approved = stocktakes.approve(number, st.ApproveStocktake("核实", shown.digest))
    assert len(approved.adjustments) == 1
    assert stock(county, "510121", "BYT") == {"B-EARLY": (720, 0)}  # 未盘: untouched
    assert stock(county, "510121-ZJ", "NH2014") == {"2014-01": (800, 0)}
    assert stock(county, "510121", "NH2014") == {"2014-01": (4190, 0)}
    assert verify_ledger(county.database).ok


def test_declaring_a_place_fully_counted_makes_its_uncounted_lines_zero(county):
    stocktakes = Stocktakes(county)
    number = stocktakes.open(
        st.OpenStocktake("510121", CUT_OFF, blind=True, include_subtree=True)
    ).number
    stocktakes.count(number, st.EnterCounts((line("510121", "NH2014", "2014-01", 4200),)))
    declared = stocktakes.zero_uncounted(number, st.ZeroUncounted("510121-ZJ"), actor=None)
    assert [(r.location_code, r.item_code, r.quantity, r.source) for r in declared.counted] == [
        ("510121", "NH2014", 4200, "hand"),
        ("510121-ZJ", "NH2014", 0, "declared_zero"),
    ]
    again = stocktakes.zero_uncounted(number, st.ZeroUncounted("510121-ZJ"))
    assert len(again.counted) == 2  # nothing left uncounted there
    refused(Code.outside_stocktake, stocktakes.zero_uncounted, number, st.ZeroUncounted("510181"))
    report = by_account(stocktakes.close(number))
    assert report[("510121-ZJ", "NH2014", "2014-01")].difference == -800
    assert report[("510121", "BYT", "B-EARLY")].outcome == "not_counted"  # not declared
    refused(Code.stocktake_state, stocktakes.zero_uncounted, number, st.ZeroUncounted("510121"))
    shown = stocktakes.preview(number)
    assert shown.totals == (st.UnitTotal("张", 0, 800, -800),)
    stocktakes.approve(number, st.ApproveStocktake("村站失窃，已报案", shown.digest))
    assert stock(county, "510121-ZJ", "NH2014") == {}  # nothing left on the books
    assert stock(county, "510121", "BYT") == {"B-EARLY": (720, 0)}


def test_approval_posts_only_what_its_preview_showed(county):
    stocktakes = Stocktakes(county)
    number = stocktakes.open(st.OpenStocktake("510121-ZJ", CUT_OFF)).number
    stocktakes.count(number, st.EnterCounts((line("510121-ZJ", "NH2014", "2014-01", 790),)))
    refused(Code.stocktake_state, stocktakes.preview, number)  # still counting
    stocktakes.close(number)
    seen = stocktakes.preview(number)
    assert seen == stocktakes.preview(number)  # the same content, the same digest
    error = refused(
        Code.approval_preview_stale, stocktakes.approve, number, st.ApproveStocktake("同意")
    )
    assert error.field == "preview_digest"
    # A recount changes what would post: the preview seen before no longer approves it.
    stocktakes.recount(
        number, st.Recount((st.AccountRef("510121-ZJ", "NH2014", "2014-01"),), "复盘")
    )
    stocktakes.count(number, st.EnterCounts((line("510121-ZJ", "NH2014", "2014-01", 795),)))
    stocktakes.close(number)
    refused(
        Code.approval_preview_stale,
        stocktakes.approve,
        number,
        st.ApproveStocktake("同意", seen.digest),
    )
    assert stock(county, "510121-ZJ", "NH2014") == {"2014-01": (800, 0)}  # nothing posted
    now = stocktakes.preview(number)
    assert now.digest != seen.digest and now.adjustments[0].difference == -5
    stocktakes.approve(number, st.ApproveStocktake("同意", now.digest))
    assert stock(county, "510121-ZJ", "NH2014") == {"2014-01": (795, 0)}


def test_text_over_its_limit_is_refused_with_the_limit(county):
    stocktakes = Stocktakes(county)
    error = refused(
        Code.text_too_long, stocktakes.open, st.OpenStocktake("510121", memo="注" * 501)
    )
    assert "最多 500" in error.message and error.field == "memo"
    number = stocktakes.open(st.OpenStocktake("510121-ZJ", CUT_OFF)).number
    stocktakes.count(number, st.EnterCounts((line("510121-ZJ", "NH2014", "2014-01", 800),)))
    stocktakes.close(number)
    reason = "理" * 301
    error = refused(Code.text_too_long, stocktakes.approve, number, st.ApproveStocktake(reason))
    assert "最多 300" in error.message and error.field == "reason"
    too_long = st.Recount((st.AccountRef("510121-ZJ", "NH2014", "2014-01"),), "复" * 501)
    error = refused(Code.text_too_long, stocktakes.recount, number, too_long)
    assert "最多 500" in error.message
