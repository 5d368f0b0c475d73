"""库存定额: every figure of the suggestions against an independent computation over the demo's
postings (consumption read from the virtual `distributed` and `scrapped` side, stock replayed
day by day), stock-out months, pack rounding, in-transit stock, overrides and dated norms."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest

from ledger import commands as c
from ledger.db import journal_queries, reference_queries
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.norms import AlertKind, NormSource
from ledger.rules import Code, LedgerError
from ledger.services import norms, suggestions
from ledger.services.demo import load_demo
from ledger.services.report_formats import render
from ledger.services.report_norms import stock_alerts_report
from ledger.services.request_models import CreateRequest, RequestLineIn
from tests.bound import Ledger, Requests
from tests.builder import ledger_from_text
from tests.clones import copy_sqlite
from tests.conftest import TODAY

DEFAULTS = {"city": (3, 6), "county": (2, 4), "township": (1, 3), "village": (1, 2)}
USE = {"damaged", "lost"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    engine = make_engine(copy_sqlite(tmp_path_factory.mktemp("norms") / "demo.db"))
    ledger = Ledger(Database(engine), clock=lambda: TODAY)
    load_demo(ledger.database, TODAY)
    with ledger.database.read() as connection:
        transactions = list(journal_queries.stored_transactions(connection))
        places = {
            row.code: row
            for row in reference_queries.locations(connection, include_virtual=True, limit=10_000)
        }
    yield ledger, transactions, places
    engine.dispose()


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def expected_positions(transactions, places, window: list[dt.date]) -> dict:
    """(location, item) → (used per window month, stock-out months, on hand, in transit),
    computed without the movement totals: consumption from the virtual side of each voucher,
    stock by replaying the postings day by day."""
    by_sequence = {tx.sequence: tx for tx in transactions}
    used: defaultdict = defaultdict(int)  # (place, item, month) → used, for every place above
    net: defaultdict = defaultdict(int)  # (place, item, day) → subtree's physical net
    arrived: set = set()  # (place, item, month)
    own: defaultdict = defaultdict(int)

    def above(code: str) -> list[str]:
        path = places[code].path
        return [p for p, row in places.items() if row.physical and path.startswith(row.path)]

    for tx in transactions:
        original = by_sequence.get(tx.reverses_sequence) if tx.reverses_sequence else None
        for p in tx.postings:
            if p.location_code == "distributed" or (
                p.location_code == "scrapped"
                and ((tx.reason in USE) or (original is not None and original.reason in USE))
            ):
                for place in above(tx.location_code):
                    used[(place, p.item_code, month_of(tx.occurred_on))] += p.quantity
            if not p.physical:
                continue
            own[(p.location_code, p.item_code)] += p.quantity
            for place in above(p.location_code):
                net[(place, p.item_code, tx.occurred_on)] += p.quantity
                if p.quantity > 0:
                    arrived.add((place, p.item_code, month_of(tx.occurred_on)))
    confirmed = {
        tx.shipment_sequence
        for tx in transactions
        if tx.kind == "confirmation"
        and not any(u.reverses_sequence == tx.sequence for u in transactions)
    }
    reversed_ = {tx.reverses_sequence for tx in transactions if tx.reverses_sequence}
    transit: defaultdict = defaultdict(int)
    for tx in transactions:
        if tx.kind in ("issue", "transfer") and tx.sequence not in confirmed | reversed_:
            for p in tx.postings:
                if p.location_code == "in-transit":
                    transit[(tx.counterparty_code, p.item_code)] += p.quantity
    out = {}
    pairs = {(k[0], k[1]) for k in net} | {k for k in own if own[k]} | set(transit)
    for place, item in pairs:
        months = []
        for start in window:
            end = (start + dt.timedelta(days=32)).replace(day=1)
            stock = sum(
                q for (pl, it, d), q in net.items() if (pl, it) == (place, item) and d < end
            )
            empty = stock == 0 and (place, item, start) not in arrived
            months.append((used[(place, item, start)], empty))
        out[(place, item)] = (months, own[(place, item)], transit[(place, item)])
    return out


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def test_every_suggestion_of_the_demo_against_the_postings(demo):
    ledger, transactions, places = demo
    window = [dt.date(2026, 3, 1), dt.date(2026, 4, 1), dt.date(2026, 5, 1)]
    expected = expected_positions(transactions, places, window)
    got = ledger.database.lookup(lambda s: suggestions.stock_positions(s, "510100", TODAY, 3))
    seen = {(p.location.code, p.item.code) for p in got}
    assert seen <= set(expected)
    assert {
        key
        for key, (months, on_hand, transit) in expected.items()
        if on_hand or transit or any(used for used, _ in months)
    } <= seen
    checked_urgent = checked_rounding = 0
    for position in got:
        key = (position.location.code, position.item.code)
        months, on_hand, transit = expected[key]
        s = position.suggestion
        skip = position.item.kind == "contraceptive"
        counted = [used for used, empty in months if not (skip and empty)]
        total = sum(max(u, 0) for u in counted)
        assert [m.used for m in position.months] == [u for u, _ in months], key
        assert (s.used.total, s.used.months) == (total, len(counted)), key
        low, high = DEFAULTS[places[key[0]].level]
        minimum = ceil_div(total * low, len(counted)) if counted else 0
        maximum = ceil_div(total * high, len(counted)) if counted else 0
        assert (s.minimum, s.maximum, s.on_hand, s.in_transit) == (
            minimum,
            maximum,
            on_hand,
            transit,
        ), key
        pack = position.item.packs[0].base_units if position.item.packs else 1
        wanted = maximum - on_hand - transit
        assert s.suggested == (ceil_div(wanted, pack) * pack if wanted > 0 else 0), key
        assert s.suggested % pack == 0 and s.suggested >= 0
        assert s.urgent == (on_hand + transit < minimum)
        checked_urgent += s.urgent
        checked_rounding += s.suggested != max(wanted, 0)
    assert checked_urgent and checked_rounding  # the demo has both


def test_the_demo_counts_damage_but_not_expiry_and_takes_reversals_off(demo):
    ledger, _, _ = demo
    got = {
        (p.location.code, p.item.code): p
        for p in ledger.database.lookup(
            lambda s: suggestions.stock_positions(s, "510100", TODAY, 3)
        )
    }
    # 510113 wrote off 300 damaged 年画 in May: use; the city's expired 外用避孕药: not
    assert (
        got[("510113", "NH2014")].months[2].used - got[("510113-CX", "NH2014")].months[2].used
        == 300
    )
    assert all(m.used == 0 for m in got[("510100", "WYBYY")].months)
    # 赵家镇 distributed 5 盒 (5.29) and 10 盒 reversed, then 1 盒 (7.11): 6 盒 = 18 只
    assert got[("510121-ZJ", "BYT")].months[2].used == 18


STORY = """
location 510100 成都市 city
location 510121 金堂县 county 510100
location 510121-ZJ 赵家镇 township 510121
location 510181 都江堰市 county 510100
item BYT 避孕套 contraceptive 只 盒=3 箱=720 expiry
item GT2014 挂图 printed 张 套=4 捆=400
receipt 510121 BYT B1 3000 expires 2028-01-01 on 2026-02-01
receipt 510121 GT2014 2014-01 3000 on 2026-02-01
"""


def _story(ledger: Ledger) -> None:
    """赵家镇: March gets 300 and hands out all of it; April has none (a stock-out); May gets 90
    and hands out 61; 100 more are on the way in June."""
    ledger_from_text(ledger, STORY)
    for item in ("BYT", "GT2014"):
        for shipped, given, month in ((300, 300, 3), (90, 61, 5)):
            day = dt.date(2026, month, 2)
            sent = ledger.issue(c.Issue("510121", "510121-ZJ", (c.LineSpec(item, shipped),), day))
            ledger.confirm(c.Confirm(sent.number, occurred_on=day))
            ledger.distribute(
                c.Distribute("510121-ZJ", (c.LineSpec(item, given),), day + dt.timedelta(days=5))
            )
        ledger.issue(c.Issue("510121", "510121-ZJ", (c.LineSpec(item, 100),), dt.date(2026, 6, 10)))


def test_stock_out_months_rounding_and_in_transit(ledger):
    _story(ledger)
    lines = {
        p.item.code: p
        for p in ledger.database.lookup(
            lambda s: suggestions.suggested_request(s, "510121-ZJ", TODAY, 3)
        )
    }
    byt, gt = lines["BYT"].suggestion, lines["GT2014"].suggestion
    # contraceptive: April (empty at its end, nothing came in) is left out: 361 over 2 months
    assert [m.used for m in lines["BYT"].months] == [300, 0, 61]
    assert (byt.used.total, byt.used.months, byt.used.stock_out_months) == (361, 2, 1)
    assert (byt.minimum, byt.maximum) == (181, 542)  # ⌈361 × 1 / 2⌉, ⌈361 × 3 / 2⌉
    assert (byt.on_hand, byt.in_transit) == (29, 100)
    assert byt.suggested == 414  # 542 − 129 = 413, up to whole 盒 of 3
    assert byt.urgent and byt.alert == AlertKind.below_minimum  # 129 < 181
    # printed matter: every month counts (handed out in campaigns)
    assert (gt.used.total, gt.used.months, gt.used.stock_out_months) == (361, 3, 0)
    assert (gt.minimum, gt.maximum) == (121, 361)
    assert gt.suggested == 232  # 361 − 129 = 232, 58 套 of 4


def test_overrides_win_over_the_level_and_a_norm_does_not_change_the_past(ledger):
    _story(ledger)
    database = ledger.database
    yesterday = TODAY - dt.timedelta(days=1)

    def norm(item: str, day: dt.date):
        return database.lookup(lambda s: norms.norm_of(s, "510121-ZJ", item, day))

    assert norm("BYT", TODAY) == (1, 3, NormSource.default)
    norms.set_norm(database, 2, 4, level="township", today=TODAY)
    assert norm("BYT", TODAY) == (2, 4, NormSource.level)
    norms.set_norm(database, 1, 2, location_code="510121-ZJ", today=TODAY)
    norms.set_norm(database, 3, 5, location_code="510121-ZJ", item_code="BYT", today=TODAY)
    norms.set_norm(database, 6, 9, level="township", today=TODAY)  # the level again: still loses
    assert norm("BYT", TODAY) == (3, 5, NormSource.location_item)
    assert norm("GT2014", TODAY) == (1, 2, NormSource.location)
    assert norm("BYT", yesterday) == (1, 3, NormSource.default)  # set today: yesterday unchanged
    later = TODAY + dt.timedelta(days=10)
    norms.set_norm(
        database, 0, 1, location_code="510121-ZJ", item_code="BYT", valid_from=later, today=TODAY
    )
    assert norm("BYT", TODAY) == (3, 5, NormSource.location_item)
    assert norm("BYT", later) == (0, 1, NormSource.location_item)
    byt = database.lookup(lambda s: suggestions.suggested_request(s, "510121-ZJ", TODAY, 3))[0]
    assert (byt.suggestion.minimum, byt.suggestion.maximum) == (542, 903)  # 361/2 × 3, × 5
    assert len(norms.norms_set(database)) == 5
    assert len(norms.norms_set(database, "510181")) == 2  # the level norms only


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({"min_months": 4, "max_months": 3, "level": "township"}, Code.norm_months_invalid),
        ({"min_months": -1, "max_months": 3, "level": "township"}, Code.norm_months_invalid),
        ({"min_months": 0, "max_months": 0, "level": "township"}, Code.norm_months_invalid),
        ({"min_months": 1, "max_months": 37, "level": "township"}, Code.norm_months_invalid),
        ({"min_months": 1, "max_months": 2}, Code.norm_scope_invalid),
        ({"min_months": 1, "max_months": 2, "level": "province"}, Code.norm_scope_invalid),
        (
            {"min_months": 1, "max_months": 2, "level": "city", "location_code": "510100"},
            Code.norm_scope_invalid,
        ),
        (
            {"min_months": 1, "max_months": 2, "level": "city", "item_code": "BYT"},
            Code.norm_scope_invalid,
        ),
        (
            {"min_months": 1, "max_months": 2, "level": "city", "valid_from": dt.date(2026, 6, 1)},
            Code.norm_date_in_past,
        ),
        (
            {"min_months": 1, "max_months": 2, "location_code": "distributed"},
            Code.location_must_be_physical,
        ),
        ({"min_months": 1, "max_months": 2, "location_code": "NOPE"}, Code.unknown_location),
    ],
)
def test_bad_norms_are_refused_with_their_code(ledger, arguments, code):
    ledger_from_text(ledger, STORY)
    with pytest.raises(LedgerError) as refused:
        norms.set_norm(ledger.database, today=TODAY, **arguments)
    assert refused.value.code == code
    assert norms.norms_set(ledger.database) == []


def test_a_new_request_keeps_the_suggestion_beside_what_was_asked(ledger):
    _story(ledger)
    request = Requests(ledger).create(
        CreateRequest("510121-ZJ", (RequestLineIn("BYT", 30), RequestLineIn("GT2014", 8)))
    )
    # LEDGER_AMC_MONTHS unset: 6 months, December to May. The contraceptive counts March and
    # May only (the others empty at their end with nothing come in): 414 as over 3 months;
    # printed matter counts all six: ⌈361 × 3 / 6⌉ = 181, less 129, is 52 = 13 套.
    assert [(line.item_code, line.requested, line.suggested) for line in request.lines] == [
        ("BYT", 30, 414),
        ("GT2014", 8, 52),
    ]
    now = ledger.database.lookup(lambda s: suggestions.suggested_request(s, "510121-ZJ", TODAY, 6))
    assert [p.suggestion.suggested for p in now] == [414, 52]


def test_the_stock_alerts_report_in_every_format(ledger):
    _story(ledger)
    norms.set_norm(
        ledger.database, 3, 4, location_code="510121-ZJ", item_code="GT2014", today=TODAY
    )
    report = ledger.database.lookup(lambda s: stock_alerts_report(s, "510121", TODAY, 3))
    records = {r["item_code"]: r for r in report.records() if r["location_code"] == "510121-ZJ"}
    assert records["GT2014"]["alert"] == "补货（急需）"  # 129 < ⌈361 × 3 / 3⌉ = 361
    assert records["GT2014"]["amc"] == "120.3" and records["GT2014"]["months_of_stock"] == "0.2"
    county = {r["item_code"]: r for r in report.records() if r["location_code"] == "510121"}
    assert county["BYT"]["alert"] == "积压"  # 2,510 on hand over 4 months of 361 / 2
    assert "库存预警表" in render(report, "html").decode()
    assert render(report, "csv").decode("utf-8-sig").startswith("库点编码,库点,物资编码")
    assert render(report, "xlsx")[:2] == b"PK"
