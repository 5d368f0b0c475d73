"""首页's 库存预警 card: the page draws the card and leaves its figures to htmx (GET /home/alerts),
so it never waits for them; the fragment lists the alerts of the user's own reach; the figures
kept between readings are read again whenever a transaction touches the subtree (a posting
there, a shipment to it from outside, a reversal) or a minimum is set, in this process or
another one on the same database, and never otherwise.

The figures are checked against an independent reading: 赵家镇 is given a 最低库存 of 300 只 of
避孕套, far above what its norms ask (so the maximum is that floor too); its position is its
stock from the balances plus what the test itself shipped to it, and it is 补货 while that is
below 300."""

from __future__ import annotations

import html
import re

import pytest

from ledger import commands as c
from ledger.db import alert_queries
from ledger.db.engine import make_engine
from ledger.db.figure_queries import watermark
from ledger.db.unit_of_work import Database
from ledger.model import Item, ItemKind, Location, LocationLevel, Pack
from ledger.services import alert_summary as kept_alerts
from ledger.services.balances import BalanceQuery, balances
from ledger.services.demo import DEMO_PASSWORD
from ledger.services.kept import forget
from ledger.services.ledger import execute
from ledger.services.report_stock import in_transit
from ledger.services.stock_minimums import set_stock_minimum
from ledger.services.suggestions import window_months
from ledger.services.users import add_user
from ledger.services.web_sign_in import demo_password_hash, set_sign_in
from tests.conftest import TODAY
from tests.web.requests_support import signed_in

TOWNSHIP, OTHER_TOWNSHIP = "510121-ZJ", "510181-QCS"  # 赵家镇 (金堂县), 青城山镇 (都江堰市)
MINIMUM = 300  # 只 of 避孕套 (BYT, 1 盒 = 3 只)


def on_hand(database, code: str, item: str = "BYT") -> int:
    found = balances(database, BalanceQuery(location_code=code, item_code=item), "location")
    return sum(line.on_hand for line in found if line.location_code == code)


@pytest.fixture
def short(web_database):
    """赵家镇 and 青城山镇 each below a 最低库存 of 300 只 of 避孕套."""
    for code in (TOWNSHIP, OTHER_TOWNSHIP):
        set_stock_minimum(web_database, code, "BYT", MINIMUM, None)
        assert on_hand(web_database, code) < MINIMUM
    return web_database


def alert_rows(fragment: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(place code, item code) → (bad 补货 | warn 积压, the row's text) of the fragment's table."""
    rows = re.findall(
        r'<tr class="(bad|warn)"><td><a href="/stock/([^?"]+)\?item=([^"]+)">(.*?)</tr>',
        fragment,
        re.S,
    )
    return {
        (place, item): (kind, html.unescape(re.sub(r"<[^>]+>", " ", body)))
        for kind, place, item, body in rows
    }


def count_below(fragment: str) -> int:
    found = re.search(r'id="alert-count-below"><span class="n">(\d+)<', fragment)
    assert found, "the fragment shows no 补货 count"
    return int(found.group(1))


def fragment_of(database, login: str) -> str:
    with signed_in(database, login) as client:
        answer = client.get("/home/alerts", headers={"HX-Request": "true"})
    assert answer.status_code == 200, answer.text
    assert "<html" not in answer.text  # a fragment, not a page
    return answer.text


def byt_line(database, login: str = "requester@510121-zj") -> tuple[str, str] | None:
    return alert_rows(fragment_of(database, login)).get((TOWNSHIP, "BYT"))


# ---- the page and the fragment ---------------------------------------------------------------------


def test_the_home_page_draws_the_card_and_leaves_its_figures_to_htmx(short):
    with signed_in(short, "requester@510121-zj") as client:
        page = client.get("/").text
    card = re.search(r'<section class="card" id="stock-alerts".*?</section>', page, re.S)
    assert card, "no 库存预警 card on the home page"
    card_html = card.group(0)
    assert 'hx-get="/home/alerts"' in card_html and 'hx-trigger="load"' in card_html
    assert "正在计算…" in card_html
    assert "库存预警没有算完" in card_html  # said when the request gets no answer (app.js)
    noscript = re.search(r"<noscript>(.*?)</noscript>", card_html, re.S)
    assert noscript and "库存预警表" in noscript.group(1)  # without scripts: where to look
    assert 'href="/reports/stock-alerts?under=510121-ZJ"' in card_html
    assert "stock-alerts-table" not in page and "alert-count-below" not in page  # not waited for


def test_the_fragment_lists_the_alerts_of_the_users_reach(short):
    held = on_hand(short, TOWNSHIP)
    township = fragment_of(short, "requester@510121-zj")
    rows = alert_rows(township)
    assert {place for place, _ in rows} == {TOWNSHIP}  # its own place only
    kind, text = rows[(TOWNSHIP, "BYT")]
    suggested = -(-(MINIMUM - held) // 3) * 3  # whole 盒 of 3 只, nothing in transit
    assert kind == "bad" and f"（{held} 只）" in text and f"（{suggested} 只）" in text
    assert f"{MINIMUM} – {MINIMUM} 只" in text
    assert count_below(township) == 1 and 'id="request-suggested"' in township
    county = alert_rows(fragment_of(short, "approver@510121"))
    assert (TOWNSHIP, "BYT") in county and (OTHER_TOWNSHIP, "BYT") not in county
    assert all(place.startswith("510121") for place, _ in county)  # 金堂县's subtree
    city = fragment_of(short, "admin@510100")
    assert alert_rows(city)[(TOWNSHIP, "BYT")][0] == "bad"
    assert alert_rows(city)[(OTHER_TOWNSHIP, "BYT")][0] == "bad"
    assert 'id="request-suggested"' not in city  # an admin does not request


def test_a_global_admin_has_no_card_and_a_visitor_is_sent_to_sign_in(short, web):
    user, _ = add_user(short, "全局管理员", "admin", None, global_admin=True)
    set_sign_in(short, user.id, "global", None, hashed=demo_password_hash(DEMO_PASSWORD))
    with signed_in(short, "global") as client:
        page = client.get("/").text
        fragment = client.get("/home/alerts").text
    assert 'id="stock-alerts"' not in page  # it reaches every city: the report asks which
    assert "请在库存预警表中选择城市" in fragment and "stock-alerts-table" not in fragment
    answer = web.get("/home/alerts", follow_redirects=False)
    assert answer.status_code in (302, 303) and "/?next=" in answer.headers["location"]


def test_a_fragment_that_fails_says_so_in_the_card(short, monkeypatch):
    def broken(*arguments):
        raise RuntimeError("the alerts could not be read")

    monkeypatch.setattr("api.web.stock_alerts.alert_summary", broken)
    with signed_in(short, "requester@510121-zj") as client:
        answer = client.get("/home/alerts", headers={"HX-Request": "true"})
        script = client.get("/static/web/app.js").text
    assert answer.status_code == 500
    assert '<div class="alert bad" role="alert">' in answer.text and "系统内部出错" in answer.text
    assert "htmx:sendError" in script and "data-load-failed" in script  # no answer at all


# ---- kept between readings -------------------------------------------------------------------------


def test_a_shipment_to_the_township_and_its_reversal_change_what_it_shows_next(short):
    """The issue's postings are at the county and in transit, none under 赵家镇: it is its
    destination that makes the kept alerts be read again."""
    held = on_hand(short, TOWNSHIP)
    assert byt_line(short) is not None
    shipped = MINIMUM - held
    issue = execute(short, c.Issue("510121", TOWNSHIP, (c.LineSpec("BYT", shipped),)), None, TODAY)
    assert byt_line(short) is None  # on hand + in transit = 300: no longer below
    assert count_below(fragment_of(short, "requester@510121-zj")) == 0
    execute(short, c.Reverse(issue.number, memo="发错"), None, TODAY)
    kind, text = byt_line(short) or ("", "")
    assert kind == "bad" and f"（{held} 只）" in text
    execute(short, c.Distribute(TOWNSHIP, (c.LineSpec("BYT", 12),)), None, TODAY)
    kind, text = byt_line(short) or ("", "")
    assert on_hand(short, TOWNSHIP) == held - 12
    assert kind == "bad" and f"（{held - 12} 只）" in text


def test_kept_alerts_are_read_again_only_when_something_under_the_place_changed(short):
    database, months = short, window_months(None)

    def summary():
        return kept_alerts.alert_summary(database, TOWNSHIP, TODAY, months)

    first = summary()
    assert summary() is first  # nothing happened: the kept figures
    execute(database, c.Distribute(OTHER_TOWNSHIP, (c.LineSpec("BYT", 3),)), None, TODAY)
    assert summary() is first  # another county's township: brought forward as it is
    set_stock_minimum(database, OTHER_TOWNSHIP, "BYT", MINIMUM + 30, None)
    after_setting = summary()
    assert after_setting is not first and after_setting == first  # read again, the same
    execute(database, c.Distribute(TOWNSHIP, (c.LineSpec("BYT", 3),)), None, TODAY)
    after_posting = summary()
    assert after_posting.lines[0].suggestion.on_hand == on_hand(database, TOWNSHIP)
    forget(database)
    assert summary() == after_posting  # computed afresh: the same


def test_another_worker_on_the_same_database_never_sees_stale_alerts(short):
    """Two Database objects on one file stand for two worker processes, each with its own kept
    figures: what one posts, the other shows at its next reading."""
    url = short.engine.url.render_as_string(hide_password=False)
    other = Database(make_engine(url))
    try:
        months = window_months(None)
        here = kept_alerts.alert_summary(short, TOWNSHIP, TODAY, months)
        there = kept_alerts.alert_summary(other, TOWNSHIP, TODAY, months)
        assert here == there and here.below == 1
        held = on_hand(short, TOWNSHIP)
        shipped = MINIMUM - held
        execute(other, c.Issue("510121", TOWNSHIP, (c.LineSpec("BYT", shipped),)), None, TODAY)
        assert kept_alerts.alert_summary(short, TOWNSHIP, TODAY, months).below == 0
        set_stock_minimum(other, TOWNSHIP, "BYT", MINIMUM * 2, None)
        again = kept_alerts.alert_summary(short, TOWNSHIP, TODAY, months)
        assert again.below == 1 and again.lines[0].suggestion.minimum == MINIMUM * 2
    finally:
        other.dispose()


def in_transit_numbers(database) -> list[str]:
    report = database.lookup(lambda store: in_transit(store, "510100", TODAY))
    return [row[0] for row in report.rows]


def test_which_transactions_touch_a_subtree_on_both_engines(ledger):
    """A posting under the place, a shipment to it (its postings are outside) and any reversal
    touch it; a receipt or a shipment elsewhere does not. A minimum set moves the setting mark."""
    database = ledger.database
    ledger.execute_many(
        [
            c.AddLocation(Location("510100", "成都市", LocationLevel.city)),
            c.AddLocation(Location("510121", "金堂县", LocationLevel.county, "510100")),
            c.AddLocation(Location("510181", "都江堰市", LocationLevel.county, "510100")),
            c.AddItem(Item("NH2014", "年画", ItemKind.printed, "年画", "张", (Pack("捆", 500),))),
        ]
    )

    def touched(command) -> dict[str, bool]:
        with database.read() as connection:
            before = watermark(connection)[0]
        ledger.execute(command)
        with database.read() as connection:
            after = watermark(connection)[0]
            return {
                path: alert_queries.touched_since(connection, path, before, after)
                for path in ("/510100/", "/510100/510121/", "/510100/510181/")
            }

    receipt = c.Receive("510100", (c.ReceiptLine("NH2014", "2014-01", 5000),))
    assert touched(receipt) == {
        "/510100/": True,
        "/510100/510121/": False,
        "/510100/510181/": False,
    }
    to_jintang = touched(c.Issue("510100", "510121", (c.LineSpec("NH2014", 1000),)))
    assert to_jintang["/510100/510121/"] and not to_jintang["/510100/510181/"]
    shipped = ledger.execute(c.Issue("510100", "510181", (c.LineSpec("NH2014", 500),)))
    assert touched(c.Reverse(shipped.number, memo="发错"))["/510100/510121/"]  # any reversal
    (first,) = [s for s in in_transit_numbers(database) if s != shipped.number]
    assert touched(c.Confirm(first))["/510100/510121/"]
    distributed = touched(c.Distribute("510121", (c.LineSpec("NH2014", 10),)))
    assert distributed == {"/510100/": True, "/510100/510121/": True, "/510100/510181/": False}
    with database.read() as connection:
        mark = alert_queries.settings_mark(connection)
    set_stock_minimum(database, "510181", "NH2014", 100, None)
    with database.read() as connection:
        assert alert_queries.settings_mark(connection) > mark
