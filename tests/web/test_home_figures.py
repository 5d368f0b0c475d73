"""首页's key figures: stock per item at the last month-ends and 进村入户率 by area, drawn as
labelled SVG, each figure checked against the services that compute it another way (balances
as of a day, the coverage report); figures kept between readings follow new postings. The
home page's queries run on both engines."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from api.web.charts import short_number
from api.web.units import quantity_text
from ledger import commands as c
from ledger.model import Item, ItemKind, Location, LocationLevel, Pack
from ledger.reference import ReferenceKind
from ledger.services import lookups, requests
from ledger.services.balances import BalanceQuery, balances
from ledger.services.demo import load_demo
from ledger.services.kept import forget
from ledger.services.ledger import execute
from ledger.services.reference import change
from ledger.services.reference_models import LocationChange
from ledger.services.report_stock import coverage, in_transit, near_expiry
from ledger.services.request_models import CreateRequest, RequestLineIn
from ledger.services.stock_minimums import set_stock_minimum
from ledger.services.work_figures import coverage_by_area, month_ends, stock_by_month
from ledger.services.work_lists import WorkAsk, work_lists
from ledger.services.work_lists import in_transit as in_transit_kept
from tests.conftest import TODAY
from tests.web.test_home import Homes

SVG = re.compile(r"<svg [^>]*>.*?</svg>", re.S)


@pytest.fixture
def homes(web_database):
    made = Homes(web_database)
    yield made
    made.close()


def balance_at(database, under: str, item_code: str, day: dt.date) -> int:
    lines = balances(database, BalanceQuery(under=under, item_code=item_code, as_of=day), "item")
    return sum(line.on_hand for line in lines)


def check_stock_history(database, under: str) -> dict[str, tuple[int, ...]]:
    """The service's month-end figures equal the balances as of each day; returns them."""
    history = stock_by_month(database, under, TODAY)
    assert history.bounds == month_ends(TODAY)
    found = {series.item.code: series.values for series in history.series}
    for item in lookups.items(database, 100, 0):
        expected = tuple(balance_at(database, under, item.code, day) for day in history.bounds)
        assert found.get(item.code, (0,) * len(expected)) == expected, item.code
    return found


def test_month_ends_are_the_last_days_of_the_months_before_today():
    assert month_ends(dt.date(2026, 3, 15)) == (
        dt.date(2025, 10, 31),
        dt.date(2025, 11, 30),
        dt.date(2025, 12, 31),
        dt.date(2026, 1, 31),
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 15),
    )


def test_short_numbers_fit_over_a_column():
    assert [short_number(n) for n in (0, 9_876, 875_000, 930_000, -12_000, 123_456_789)] == [
        "0",
        "9,876",
        "87.5万",
        "93万",
        "-1.2万",
        "1.2亿",
    ]


@pytest.mark.parametrize(
    ("login", "under"),
    [("clerk@510121", "/510100/510121/"), ("admin@510100", "/510100/")],
)
def test_the_stock_charts_show_the_balances_at_each_month_end(web_database, homes, login, under):
    found = check_stock_history(web_database, under)
    page = homes(login)
    charts = SVG.findall(page.split('id="stock-history"')[1].split('id="coverage"')[0])
    assert len(charts) == len([values for values in found.values() if any(values)])
    nianhua = lookups.item(web_database, "NH2014")
    chart = next(svg for svg in charts if nianhua.name in svg)
    for day, value in zip(month_ends(TODAY), found["NH2014"], strict=True):
        assert f"{day.isoformat()} 结存 {quantity_text(value, nianhua)}" in chart
        assert f">{short_number(value)}</text>" in chart
    assert 'role="img"' in chart and 'viewBox="0 0 300 150"' in chart
    ident = re.search(r'aria-labelledby="([^ ]+)-t \1-d"', chart).group(1)
    assert f'<title id="{ident}-t">' in chart and f'<desc id="{ident}-d">' in chart
    assert "style=" not in page and "<script>" not in page


def test_kept_figures_follow_new_postings_of_any_date(web_database, homes):
    before = check_stock_history(web_database, "/510100/510121/")
    homes("clerk@510121")  # the page keeps its figures
    # a new batch received in April (an earlier month than the last posting), and a
    # distribution today: both reach the kept figures
    execute(
        web_database,
        c.Receive(
            "510121", (c.ReceiptLine("NH2014", "2014-09", 700),), occurred_on=dt.date(2026, 4, 15)
        ),
        None,
        TODAY,
    )
    execute(
        web_database,
        c.Distribute("510121-ZJ", (c.LineSpec("NH2014", 100),), occurred_on=TODAY),
        None,
        TODAY,
    )
    after = check_stock_history(web_database, "/510100/510121/")
    assert [a - b for a, b in zip(after["NH2014"], before["NH2014"], strict=True)] == [
        0,
        0,
        0,
        700,
        700,
        600,
    ]
    forget(web_database)  # computed afresh: the same
    assert check_stock_history(web_database, "/510100/510121/") == after
    page = homes("clerk@510121")
    nianhua = lookups.item(web_database, "NH2014")
    assert f"{TODAY.isoformat()} 结存 {quantity_text(after['NH2014'][-1], nianhua)}" in page


def coverage_rows(database, area: str, item_code: str) -> tuple[int, int]:
    """(villages, reached) of an area, as the coverage report counts them."""
    report = database.lookup(
        lambda store: coverage(store, area, item_code, TODAY.replace(month=1, day=1), TODAY)
    )
    return len(report.rows), sum(1 for row in report.rows if row[3] == "是")


@pytest.mark.parametrize(
    ("login", "under", "level"),
    [("admin@510100", "/510100/", "区(市)县"), ("clerk@510121", "/510100/510121/", "乡镇/街道")],
)
def test_coverage_bars_are_the_coverage_reports_rates(shared_web, login, under, level):
    _, database = shared_web
    homes = Homes(database)
    try:
        page = homes(login, "/?item=NH2014")
        fragment = homes(login, "/home/coverage?item=GT2014")
    finally:
        homes.close()
    found = coverage_by_area(database, under, "NH2014", TODAY)
    assert found.item.code == "NH2014" and found.bars
    card = page.split('id="coverage"')[1]
    assert f"进村入户率（按{level}）" in card
    for bar in found.bars:
        villages, reached = coverage_rows(database, bar.area.code, "NH2014")
        assert (bar.villages, bar.reached) == (villages, reached)
        rate = reached / villages * 100
        assert f"{bar.area.name}：{rate:.1f}%（送达 {reached} 个村，共 {villages} 个村）" in card
    assert '<option value="NH2014" selected>' in card
    assert fragment.lstrip().startswith('<div class="card" id="coverage">')
    assert '<option value="GT2014" selected>' in fragment and "<html" not in fragment


def test_home_queries_on_both_engines(database):
    """Every list and figure of the home page on SQLite and PostgreSQL, against the services
    that compute the same another way."""
    load_demo(database, TODAY)
    made = requests.create(
        database, CreateRequest("510121-ZJ", (RequestLineIn("NH2014", 100),)), None, TODAY
    )
    requests.submit(database, made.number, None, TODAY)
    set_stock_minimum(database, "510121-HK", "GT2014", 10**6, None)
    everything = frozenset(
        {
            "approve",
            "ship",
            "confirm",
            "stocktakes",
            "scans",
            "expiring",
            "below_minimum",
            "transit",
        }
    )
    found = work_lists(database, WorkAsk("/510100/", everything, None, 90, 7), TODAY)
    assert [entry.number for entry in found["approve"].entries] == [made.number]
    assert [entry.location.code for entry in found["below_minimum"].entries] == ["510121-HK"]
    report = database.lookup(lambda store: near_expiry(store, "510100", 90, TODAY))
    assert len(found["expiring"].entries) == min(len(report.rows), 20)
    moving = database.lookup(lambda store: in_transit(store, "510100", TODAY))
    assert {entry.number for entry in found["transit"].entries} == {row[0] for row in moving.rows}
    assert found["ship"].entries == () and found["stocktakes"].entries == ()
    township = work_lists(
        database, WorkAsk("/510100/510121/510121-ZJ/", everything, "510121-ZJ", 90, 7), TODAY
    )
    assert township["approve"].entries == () and township["transit"].entries == ()
    first = check_stock_history(database, "/510100/")
    execute(
        database, c.Distribute("510121-ZJ", (c.LineSpec("NH2014", 10),)), None, TODAY
    )  # brought forward in a snapshot on PostgreSQL too
    assert check_stock_history(database, "/510100/")["NH2014"][-1] == first["NH2014"][-1] - 10
    reach = coverage_by_area(database, "/510100/", "NH2014", TODAY)
    for bar in reach.bars:
        assert (bar.villages, bar.reached) == coverage_rows(database, bar.area.code, "NH2014")


def test_a_place_moved_to_another_county_moves_its_stock_in_the_kept_figures(web_database):
    """赵家镇 moved from 金堂县 to 都江堰市 (a new version of reference data, no posting): its
    stock leaves the one county's figures and joins the other's."""
    jintang = check_stock_history(web_database, "/510100/510121/")
    dujiangyan = check_stock_history(web_database, "/510100/510181/")
    held = balance_at(web_database, "/510100/510121/510121-ZJ/", "NH2014", TODAY)
    change(
        web_database,
        ReferenceKind.location,
        "510121-ZJ",
        LocationChange("行政区划调整", parent_code="510181"),
        None,
        TODAY,
    )
    assert check_stock_history(web_database, "/510100/510121/")["NH2014"][-1] == (
        jintang["NH2014"][-1] - held
    )
    assert check_stock_history(web_database, "/510100/510181/")["NH2014"][-1] == (
        dujiangyan["NH2014"][-1] + held
    )


def test_what_is_in_transit_follows_shipments_confirmations_and_reversals(ledger):
    """The kept set of shipments in transit, brought forward step by step, is what the
    in-transit report lists after each step (both engines)."""
    database = ledger.database
    ledger.execute_many(
        [
            c.AddLocation(Location("510100", "成都市", LocationLevel.city)),
            c.AddLocation(Location("510121", "金堂县", LocationLevel.county, "510100")),
            c.AddItem(Item("NH2014", "年画", ItemKind.printed, "年画", "张", (Pack("捆", 500),))),
        ]
    )
    ledger.execute(c.Receive("510100", (c.ReceiptLine("NH2014", "2014-01", 5000),)))

    def check() -> set[str]:
        kept_now = {shipment.number for shipment in in_transit_kept(database).values()}
        report = database.lookup(lambda store: in_transit(store, "510100", TODAY))
        assert kept_now == {row[0] for row in report.rows}
        return kept_now

    assert check() == set()
    first = ledger.execute(c.Issue("510100", "510121", (c.LineSpec("NH2014", 1000),)))
    second = ledger.execute(c.Issue("510100", "510121", (c.LineSpec("NH2014", 500),)))
    assert check() == {first.number, second.number}
    confirmed = ledger.execute(c.Confirm(first.number))
    assert check() == {second.number}
    ledger.execute(c.Reverse(confirmed.number, memo="签收有误"))
    assert check() == {first.number, second.number}
    ledger.execute(c.Reverse(second.number, memo="发错"))
    assert check() == {first.number}
    forget(database)
    assert check() == {first.number}
    (shipment,) = in_transit_kept(database).values()
    assert [line[2] for line in shipment.lines] == [1000]
    assert shipment.occurred_on == TODAY and shipment.number == first.number
