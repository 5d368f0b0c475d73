"""年度需求计划: every figure of the plan against an independent computation over the ledger's
postings (consumption from the virtual `distributed` and `scrapped` side of each voucher, stock
replayed day by day, shipments in transit from the vouchers), with stock-out months, packs
rounding, in-transit stock, growth, population shares, subtotals and totals; the report in
every format; bad input refused with its code."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

import openpyxl
import pytest

from ledger import commands as c
from ledger.db import journal_queries, reference_queries
from ledger.db.import_rows import set_populations
from ledger.rules import Code, LedgerError
from ledger.services import demand_plan as dp
from ledger.services import norms
from ledger.services.report_demand import demand_plan_asked_report
from ledger.services.report_formats import render
from ledger.services.stock_minimums import set_stock_minimum
from ledger.settings import Settings
from tests.builder import ledger_from_text
from tests.conftest import TODAY

USE = {"damaged", "lost"}
MAX_MONTHS = {"city": 6, "county": 4, "township": 3, "village": 2}  # the default norms
RANKS = {"city": 0, "county": 1, "township": 2, "village": 3}
POPULATIONS = {"510121-ZJ": 30_000, "510121-HK": 50_000, "510181-QCS": 20_000}

STORY = """
location 510100 成都市 city
location 510121 金堂县 county 510100
location 510121-ZJ 赵家镇 township 510121
location 510121-ZJ-PS 平水村 village 510121-ZJ
location 510121-HK 淮口镇 township 510121
location 510181 都江堰市 county 510100
location 510181-QCS 青城山镇 township 510181
item BYT 避孕套 contraceptive 只 盒=3 箱=720 expiry
item GT2014 挂图 printed 张 套=4 捆=400
receipt 510121 BYT B1 6000 expires 2028-01-01 on 2025-05-20
receipt 510121 GT2014 2014-01 4000 on 2025-05-20
receipt 510181 GT2014 2014-01 120 on 2025-05-20
"""


def _ship(ledger, source: str, to: str, item: str, quantity: int, day: dt.date, arrive=True):
    sent = ledger.issue(c.Issue(source, to, (c.LineSpec(item, quantity),), day))
    if arrive:
        ledger.confirm(c.Confirm(sent.number, occurred_on=day + dt.timedelta(days=1)))
    return sent


def _give(ledger, place: str, item: str, quantity: int, day: dt.date):
    return ledger.distribute(c.Distribute(place, (c.LineSpec(item, quantity),), day))


def story(ledger) -> None:
    """赵家镇 hands out all its 避孕套 in July 2025 (then stock-out months until March), more in
    March 2026 (a distribution reversed), 平水村 some in April; 100 on the way in June. 金堂县
    hands some out itself. 淮口镇 uses 挂图 only (and writes off damaged and expired-like
    stock: 'other' is not use). 青城山镇 has nothing: its plan comes from population."""
    ledger_from_text(ledger, STORY)
    _ship(ledger, "510121", "510121-ZJ", "BYT", 300, dt.date(2025, 7, 2))
    _give(ledger, "510121-ZJ", "BYT", 300, dt.date(2025, 7, 7))
    _ship(ledger, "510121", "510121-HK", "GT2014", 400, dt.date(2025, 9, 2))
    _give(ledger, "510121-HK", "GT2014", 200, dt.date(2025, 10, 8))
    ledger.write_off(
        c.WriteOff("510121-HK", (c.LineSpec("GT2014", 8),), "damaged", dt.date(2025, 11, 3))
    )
    ledger.write_off(
        c.WriteOff("510121-HK", (c.LineSpec("GT2014", 4),), "other", dt.date(2025, 11, 4), "淋雨")
    )
    _give(ledger, "510121", "BYT", 50, dt.date(2026, 1, 15))
    _ship(ledger, "510121", "510121-ZJ", "BYT", 120, dt.date(2026, 3, 2))
    _ship(ledger, "510121-ZJ", "510121-ZJ-PS", "BYT", 30, dt.date(2026, 3, 4))
    _give(ledger, "510121-ZJ", "BYT", 61, dt.date(2026, 3, 7))
    wrong = _give(ledger, "510121-ZJ", "BYT", 10, dt.date(2026, 3, 8))
    ledger.reverse(c.Reverse(wrong.number, dt.date(2026, 3, 9)))
    _give(ledger, "510121-ZJ-PS", "BYT", 12, dt.date(2026, 4, 10))
    _give(ledger, "510181", "GT2014", 40, dt.date(2026, 5, 6))
    _ship(ledger, "510121", "510121-ZJ", "BYT", 100, dt.date(2026, 6, 10), arrive=False)
    ledger.database.write(lambda store: set_populations(store, POPULATIONS))


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


class Reference:
    """The plan's figures computed from the postings alone."""

    def __init__(self, ledger) -> None:
        with ledger.database.read() as connection:
            self.transactions = list(journal_queries.stored_transactions(connection))
            rows = reference_queries.locations(connection, include_virtual=False, limit=10_000)
        self.places = {row.code: row for row in rows}
        self.kinds = {"BYT": "contraceptive", "GT2014": "printed"}
        self.used: defaultdict = defaultdict(int)  # (own place, item, month) → used
        self.moves: list = []  # (place, item, day, quantity)
        by_sequence = {tx.sequence: tx for tx in self.transactions}
        for tx in self.transactions:
            original = by_sequence.get(tx.reverses_sequence) if tx.reverses_sequence else None
            reasons = {tx.reason, original.reason if original else None}
            for p in tx.postings:
                if p.location_code == "distributed" or (
                    p.location_code == "scrapped" and reasons & USE
                ):
                    self.used[(tx.location_code, p.item_code, month_of(tx.occurred_on))] += (
                        p.quantity
                    )
                if p.physical:
                    self.moves.append((p.location_code, p.item_code, tx.occurred_on, p.quantity))
        reversed_ = {tx.reverses_sequence for tx in self.transactions}
        confirmed = {tx.shipment_sequence for tx in self.transactions if tx.kind == "confirmation"}
        self.transit: defaultdict = defaultdict(int)
        for tx in self.transactions:
            if tx.kind in ("issue", "transfer") and tx.sequence not in confirmed | reversed_:
                for p in tx.postings:
                    if p.location_code == "in-transit":
                        self.transit[(tx.counterparty_code, p.item_code)] += p.quantity

    def subtree(self, code: str) -> list[str]:
        path = self.places[code].path
        return [other for other, row in self.places.items() if row.path.startswith(path)]

    def months(self, base: dt.date, count: int) -> list[dt.date]:
        index = base.year * 12 + base.month - 1
        return [dt.date(i // 12, i % 12 + 1, 1) for i in range(index - count, index)]

    def empty(self, code: str, item: str, start: dt.date) -> bool:
        """The subtree of `code` held none at the month's end and nothing came in."""
        area = set(self.subtree(code))
        end = (start + dt.timedelta(days=32)).replace(day=1)
        stock = sum(q for p, i, day, q in self.moves if p in area and i == item and day < end)
        came = any(
            q > 0 and start <= day < end for p, i, day, q in self.moves if p in area and i == item
        )
        return stock == 0 and not came

    def amc(self, places: list[str], judge: str, item: str, window: list[dt.date]) -> Fraction:
        skip = self.kinds[item] == "contraceptive"
        counted = [m for m in window if not (skip and self.empty(judge, item, m))]
        total = sum(max(sum(self.used[(p, item, m)] for p in places), 0) for m in counted)
        return Fraction(total, len(counted)) if counted else Fraction(0)

    def maximum(self, code: str, item: str, window: list[dt.date]) -> int:
        amc = self.amc(self.subtree(code), code, item, window)
        return -((-amc * MAX_MONTHS[self.places[code].level]) // 1)


def ceil(value: Fraction) -> int:
    return -((-value) // 1)


def packs(quantity: int, size: int) -> int:
    return -(-quantity // size) * size if quantity > 0 else 0


def expected_plan(ref: Reference, base: dt.date, months: int, growth: Fraction, level: str):
    """(row code, item) → figures, for the city's plan with rows at `level`."""
    window, year = ref.months(base, months), ref.months(base, 12)
    rows = {
        code: "area" if RANKS[row.level] >= RANKS[level] else "own"
        for code, row in ref.places.items()
        if RANKS[row.level] <= RANKS[level]
    }
    out = {}
    for code, scope in rows.items():
        part = ref.subtree(code) if scope == "area" else [code]
        for item, pack in (("BYT", 3), ("GT2014", 4)):
            amc = ref.amc(part, code, item, window)
            demand = ceil(amc * 12 * (100 + growth) / 100)
            basis = "按消耗"
            maximum = ref.maximum(code, item, window)  # the row's place's norm, its area's AMC
            last = sum(max(sum(ref.used[(p, item, m)] for p in part), 0) for m in year)
            if not last:
                basis = "无消耗"
            if not last and scope == "area" and POPULATIONS.get(code):
                above = [a for a in ref.places if code in ref.subtree(a) and a != code]
                for a in sorted(above, key=lambda a: -len(ref.places[a].path)):
                    a_amc = ref.amc(ref.subtree(a), a, item, window)
                    if a_amc:
                        a_demand = ceil(a_amc * 12 * (100 + growth) / 100)
                        weights = sum(
                            POPULATIONS.get(r, 0)
                            for r, s in rows.items()
                            if s == "area" and r in ref.subtree(a)
                        )
                        demand = ceil(Fraction(a_demand * POPULATIONS[code], weights))
                        basis = f"按人口（{ref.places[a].name}）"
                        months_max = MAX_MONTHS[ref.places[code].level]
                        maximum = max(maximum, ceil(Fraction(demand * months_max, 12)))
                        break
            on_hand = sum(q for p, i, _, q in ref.moves if p in part and i == item)
            transit = sum(ref.transit[(p, item)] for p in part)
            out[(code, item)] = {
                "scope": "含下级" if scope == "area" else "本级",
                "last_year": last,
                "amc": amc,
                "basis": basis,
                "demand": demand,
                "maximum": maximum,
                "on_hand": on_hand,
                "in_transit": transit,
                "to_request": packs(demand + maximum - on_hand - transit, pack),
            }
    shown = ("last_year", "demand", "maximum", "on_hand", "in_transit", "to_request")
    return {key: row for key, row in out.items() if any(row[field] for field in shown)}


def one_decimal(value: Fraction) -> str:
    """Half up, to one decimal place."""
    tenths = int(value * 10 + Fraction(1, 2))
    return f"{tenths // 10}.{tenths % 10}"


@pytest.mark.parametrize(
    ("year", "months", "growth", "level"),
    [(2027, 12, "0", "township"), (2027, 6, "5", "township"), (2026, 3, "-2.5", "village")],
)
def test_every_figure_against_the_postings(ledger, year, months, growth, level):
    story(ledger)
    ref = Reference(ledger)
    base = min(TODAY, dt.date(year, 1, 1))
    expected = expected_plan(ref, base, months, Fraction(Decimal(growth)), level)
    report = ledger.database.lookup(
        lambda s: demand_plan_asked_report(s, "510100", year, TODAY, months, growth, level)
    )
    got = {
        (r["location_code"], r["item_code"]): r
        for r in report.records()
        if r["scope"] in ("本级", "含下级")
    }
    assert set(got) == set(expected)
    for key, want in expected.items():
        row = got[key]
        for field in ("scope", "last_year", "basis", "demand", "maximum", "on_hand"):
            assert row[field] == want[field], (key, field)
        assert (row["in_transit"], row["to_request"]) == (want["in_transit"], want["to_request"])
        assert row["amc"] == one_decimal(want["amc"]), key
    # subtotals per county and totals per item add up the rows; what to request is the net
    subtotal = {
        (r["location_code"], r["item_code"]): r for r in report.records() if r["scope"] == "小计"
    }
    for (county, item), row in subtotal.items():
        mine = [w for (code, i), w in expected.items() if i == item and code.startswith(county)]
        for field in ("demand", "maximum", "on_hand", "in_transit", "last_year"):
            assert row[field] == sum(w[field] for w in mine), (county, item, field)
        net = row["demand"] + row["maximum"] - row["on_hand"] - row["in_transit"]
        assert row["to_request"] == packs(net, 3 if item == "BYT" else 4)
    keys = [column.key for column in report.columns]
    totals = {t[keys.index("item_code")]: dict(zip(keys, t, strict=True)) for t in report.totals}
    for item, row in totals.items():
        for field in ("demand", "maximum", "on_hand", "in_transit", "last_year"):
            assert row[field] == sum(w[field] for (_, i), w in expected.items() if i == item)
        assert row["action"] == ("印制" if item == "GT2014" else "申领")


def test_the_story_by_hand(ledger):
    story(ledger)
    plan = ledger.database.lookup(
        lambda s: dp.demand_plan_asked(s, "510100", 2027, TODAY, None, "0")
    )
    lines = {(line.location.code, line.item.code): line for line in plan.lines}
    zj = lines[("510121-ZJ", "BYT")]
    # 赵家镇 and 平水村: July 300, March 61 (10 handed out and reversed), April 12; June and
    # August to February ended empty with nothing come in: 4 months counted, 8 stock-outs
    assert (zj.last_year, zj.used.total, zj.used.months, zj.used.stock_out_months) == (
        373,
        373,
        4,
        8,
    )
    assert zj.demand == 1119  # 373 / 4 × 12
    assert zj.maximum == 280  # ⌈373 / 4 × 3⌉ (乡镇 3 months)
    assert (zj.on_hand, zj.in_transit) == (47, 100)  # 29 at 赵家镇, 18 at 平水村; June's 100
    assert zj.to_request == 1254  # 1119 + 280 − 47 − 100 = 1252, up to 418 盒 of 3
    # 淮口镇 never had 避孕套: its share (50,000 of 80,000 people) of 金堂县's 423
    hk = lines[("510121-HK", "BYT")]
    assert (hk.basis, hk.basis_place and hk.basis_place.code, hk.demand) == (
        dp.Basis.population,
        "510121",
        265,
    )
    # 青城山镇: 都江堰市 has none either, so the city's 423 shared by 20,000 of 100,000
    qcs = lines[("510181-QCS", "BYT")]
    assert (qcs.basis_place and qcs.basis_place.code, qcs.demand) == ("510100", 85)
    # 金堂县's own store handed out 50 itself; it holds 4 months of its county's 423 / 12
    county = lines[("510121", "BYT")]
    assert (county.scope, county.last_year, county.demand, county.maximum) == (
        dp.Scope.own,
        50,
        50,
        141,
    )
    # printed matter counts every month; 'other' write-offs are no use, 'damaged' are
    hk_gt = lines[("510121-HK", "GT2014")]
    assert (hk_gt.last_year, hk_gt.used.months, hk_gt.used.stock_out_months) == (208, 12, 0)
    grown = ledger.database.lookup(lambda s: dp.demand_plan_asked(s, "510100", 2027, TODAY, 6, "5"))
    zj6 = next(x for x in grown.lines if (x.location.code, x.item.code) == ("510121-ZJ", "BYT"))
    assert (zj6.used.total, zj6.used.months, zj6.demand) == (73, 3, 307)  # ⌈73/3 × 12 × 1.05⌉


def test_the_report_in_every_format(ledger):
    story(ledger)
    report = ledger.database.lookup(
        lambda s: demand_plan_asked_report(s, "510100", 2027, TODAY, None, "2.5")
    )
    assert report.title == "成都市2027年度需求计划"
    assert "计划年度：2027 年" in report.subtitle and "增长率：+2.5%" in report.subtitle
    assert "上年消耗：2025-06 至 2026-05" in report.subtitle
    rows = list(csv.reader(io.StringIO(render(report, "csv").decode("utf-8-sig"))))
    assert rows[0][:3] == ["库点编码", "库点", "范围"] and "应申领（印制）量" in rows[0]
    assert any(row[:3] == ["510121", "金堂县小计", "小计"] for row in rows)
    assert any(row[:3] == ["510100", "成都市合计", "合计"] for row in rows)
    book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))
    sheet = book.active
    assert sheet["A1"].value == "成都市2027年度需求计划"
    assert [cell.value for cell in sheet[3]][:2] == ["库点编码", "库点"]
    html = render(report, "html").decode()
    assert "成都市2027年度需求计划" in html and "单位负责人" in html and "印制" in html


@pytest.mark.parametrize(
    ("arguments", "code", "field"),
    [
        ({"year": 2025}, Code.demand_year_invalid, "year"),
        ({"year": 2028}, Code.demand_year_invalid, "year"),
        ({"growth": "101"}, Code.demand_growth_invalid, "growth"),
        ({"growth": "-50.5"}, Code.demand_growth_invalid, "growth"),
        ({"growth": "1.25"}, Code.demand_growth_invalid, "growth"),
        ({"growth": "五"}, Code.demand_growth_invalid, "growth"),
        ({"growth": "nan"}, Code.demand_growth_invalid, "growth"),
        ({"months": 5}, Code.invalid_field, "months"),
        ({"level": "province"}, Code.invalid_field, "level"),
        ({"under": "NOPE"}, Code.unknown_location, "under"),
        ({"under": "distributed"}, Code.location_must_be_physical, "under"),
    ],
)
def test_bad_input_is_refused_with_its_code(ledger, arguments, code, field):
    ledger_from_text(ledger, STORY)
    asked = {"under": "510100", "year": 2027, "months": None, "growth": None, "level": None}
    asked.update(arguments)
    with pytest.raises(LedgerError) as refused:
        ledger.database.lookup(
            lambda s: dp.demand_plan_asked(
                s,
                asked["under"],
                asked["year"],
                TODAY,
                asked["months"],
                asked["growth"],
                asked["level"],
            )
        )
    assert (refused.value.code, refused.value.field) == (code, field)


def test_the_growth_setting_is_the_default_and_a_bad_one_stops_the_start(ledger, monkeypatch):
    story(ledger)
    monkeypatch.setenv("LEDGER_DEMAND_GROWTH", "10")
    plan = ledger.database.lookup(lambda s: dp.demand_plan_asked(s, "510121", 2027, TODAY))
    zj = next(x for x in plan.lines if (x.location.code, x.item.code) == ("510121-ZJ", "BYT"))
    assert plan.growth == 10 and zj.demand == 1231  # ⌈1119 × 1.1⌉ = ⌈1230.9⌉
    assert {line.county for line in plan.lines} == {None}  # one county: its total, no subtotal
    monkeypatch.setenv("LEDGER_DEMAND_GROWTH", "500")
    with pytest.raises(LedgerError) as refused:
        Settings.from_environment()
    assert refused.value.code == Code.invalid_setting


def test_a_rows_norm_and_minimum_set_its_maximum_stock(ledger):
    story(ledger)
    norms.set_norm(ledger.database, 2, 5, location_code="510121-ZJ", item_code="BYT", today=TODAY)
    set_stock_minimum(ledger.database, "510181", "GT2014", 500)
    plan = ledger.database.lookup(
        lambda s: dp.demand_plan_asked(s, "510100", 2027, TODAY, None, "0")
    )
    lines = {(line.location.code, line.item.code): line for line in plan.lines}
    zj = lines[("510121-ZJ", "BYT")]
    assert zj.maximum == 467  # ⌈373 / 4 × 5⌉: its own norm, 5 months
    assert zj.to_request == 1440  # 1119 + 467 − 47 − 100 = 1439, up to 480 盒
    county = lines[("510181", "GT2014")]
    assert county.maximum == 500  # ⌈40 / 12 × 4⌉ = 14 is below the 最低库存 of 500
    assert county.to_request == 460  # 40 + 500 − 80, 115 套
