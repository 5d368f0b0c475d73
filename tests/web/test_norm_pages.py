"""库存定额 in the workspace: the home page's 库存预警 (补货, 积压 of the user's own subtree), a new
request filled in from the ledger's suggestion (and stored with it beside what was asked), the
approver's page with 建议 beside 申领, and the admins' /norms page (set a dated norm, refused
beside the field). A township sees only its own suggestions; only an admin sets norms.

The figures are checked against an independent reading: the place's stock from the balances,
the minimum set by hand above any norm's, so suggested = minimum − on hand − in transit."""

from __future__ import annotations

import html
import re

import pytest

from api.web.request_suggestions import differs_much
from ledger.services import norms, requests
from ledger.services.balances import BalanceQuery, balances
from ledger.services.stock_minimums import set_stock_minimum
from tests.conftest import TODAY
from tests.web.conftest import csrf_of
from tests.web.requests_support import base, error_beside, form_html, signed_in

TOWNSHIP = "510121-ZJ"  # 赵家镇, the demo requester's
BYT_MINIMUM = 300  # 只: far above 赵家镇's AMC × 3 months, so the maximum is this floor


def on_hand(database, code: str, item: str) -> int:
    found = balances(database, BalanceQuery(location_code=code, item_code=item), "location")
    return sum(line.on_hand for line in found if line.location_code == code)


@pytest.fixture
def short_township(web_database):
    """赵家镇 with a 最低库存 of 300 只 of 避孕套: below it (补货), asked 300 − on hand."""
    set_stock_minimum(web_database, TOWNSHIP, "BYT", BYT_MINIMUM, None)
    return web_database


def suggested_byt(database) -> int:
    held = on_hand(database, TOWNSHIP, "BYT")
    assert held < BYT_MINIMUM
    wanted = BYT_MINIMUM - held  # nothing in transit to 赵家镇 of BYT in the demo
    return -(-wanted // 3) * 3  # whole 盒 of 3 只


def section(page: str, element_id: str) -> str:
    found = re.search(rf'<(section|div|table)[^>]*id="{element_id}".*?</\1>', page, re.S)
    return found.group(0) if found else ""


def text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


# ---- home ------------------------------------------------------------------------------------------


def test_the_home_page_shows_the_townships_own_alerts(short_township):
    with signed_in(short_township, "requester@510121-zj") as client:
        page = client.get("/").text
        figures = client.get("/home/alerts").text  # htmx loads them into the card
    alerts = section(page, "stock-alerts")
    assert alerts, "no 库存预警 on the home page"
    rows = re.findall(r"<tr class=\"(bad|warn)\">(.*?)</tr>", figures, re.S)
    assert rows[0][0] == "bad" and "避孕套（中号）" in rows[0][1]  # 补货 first
    held = on_hand(short_township, TOWNSHIP, "BYT")
    assert f"（{held} 只）" in rows[0][1] and "300 – 300 只" in rows[0][1]
    assert f"（{suggested_byt(short_township)} 只）" in rows[0][1]
    assert all("赵家镇" in text(row) for _, row in rows)  # its own place only
    assert 'href="/reports/stock-alerts?under=510121-ZJ"' in alerts
    assert 'id="request-suggested"' in figures  # a requester may ask for it
    assert re.search(r'id="alert-count-below"><span class="n">1<', figures)


def test_the_stock_alerts_report_page_is_the_reports_and_keeps_to_the_reach(shared_web):
    client, _ = shared_web
    from tests.web.conftest import sign_in

    client.cookies.clear()
    assert sign_in(client, "requester@510121-zj").status_code == 303
    own = client.get("/reports/stock-alerts", params={"under": TOWNSHIP})
    assert own.status_code == 200 and "库存预警表" in own.text and "积压" in own.text
    other = client.get("/reports/stock-alerts", params={"under": "510181-QCS"})
    assert other.status_code == 403
    wrong = client.get("/reports/stock-alerts", params={"under": TOWNSHIP, "months": "4"})
    assert wrong.status_code == 422 and "3、6 或 12" in error_beside(wrong.text, "months")


# ---- a new request -----------------------------------------------------------------------------------


def test_a_new_request_is_filled_in_from_the_suggestion_and_keeps_it(short_township):
    expected = suggested_byt(short_township)
    with signed_in(short_township, "requester@510121-zj") as client:
        page = client.get("/requests/new").text
        shown = section(page, "suggested-lines")
        assert "急需" in shown and f"（{expected} 只）" in text(shown)
        assert re.search(r'<option value="BYT" selected>', page)
        assert (
            f'id="quantity-0" name="quantity" inputmode="numeric" value="{expected // 3}"' in page
        )
        assert 'id="hint-0"' in page and "月均消耗" in section(page, "suggested-request")
        # the township asks for 10 盒 more than suggested
        asked = expected // 3 + 10
        form = {**base(page, "request-form"), "requester_code": TOWNSHIP}
        form |= {"item_code": ["BYT", "", ""], "quantity": [str(asked), "", ""]}
        form |= {"unit": ["盒", "", ""], "memo": ""}
        answer = client.post("/requests/new", data=form, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        number = answer.headers["location"].rsplit("/", 1)[1]
    stored = requests.get(short_township, number)
    assert [(line.item_code, line.requested, line.suggested) for line in stored.lines] == [
        ("BYT", asked * 3, expected)
    ]


def test_the_approver_sees_the_suggestion_beside_what_was_asked(short_township):
    expected = suggested_byt(short_township)
    with signed_in(short_township, "requester@510121-zj") as client:
        page = client.get("/requests/new").text
        form = {**base(page, "request-form"), "requester_code": TOWNSHIP, "memo": ""}
        form |= {"item_code": ["BYT", "NH2014"], "quantity": [str(expected // 3), "10"]}
        form |= {"unit": ["盒", "捆"]}
        number = (
            client.post("/requests/new", data=form, follow_redirects=False)
            .headers["location"]
            .rsplit("/", 1)[1]
        )
        page = client.get(f"/requests/{number}").text
        submit = client.post(
            f"/requests/{number}/submit", data=base(page, "submit-form"), follow_redirects=False
        )
        assert submit.status_code == 303
    with signed_in(short_township, "approver@510121") as client:
        page = client.get(f"/requests/{number}").text
    table = section(page, "request-lines")
    rows = re.findall(r"<tr[^>]*>.*?</tr>", table, re.S)[1:]
    byt, nh = rows
    assert f"（{expected} 只）" in text(byt) and "与建议量相差较大" not in byt  # asked as suggested
    assert "与建议量相差较大" in nh and 'class="warn"' in nh  # 5,000 张 asked, 0 suggested
    assert re.search(r'data-label="建议">0 张<', nh)
    assert "建议 " in form_html(page, "approve-form")


def test_differs_much_is_a_quarter_and_more_than_a_pack():
    assert not differs_much(100, 100) and not differs_much(125, 100) and differs_much(126, 100)
    assert differs_much(74, 100) and not differs_much(75, 100)
    assert not differs_much(6, 3, pack_size=3)  # one 盒 more is no difference worth a flag
    assert differs_much(500, 0, pack_size=500) is False and differs_much(1000, 0, pack_size=500)
    assert not differs_much(10, None)


def test_a_township_sees_no_other_townships_suggestion(short_township):
    with signed_in(short_township, "requester@510121-zj") as client:
        page = client.get("/requests/new", params={"requester": "510181-QCS"}).text
        assert "赵家镇：按库存定额" in page and "青城山镇" not in page  # its own, not the other's
        form = {**base(page, "request-form"), "requester_code": "510181-QCS", "memo": ""}
        form |= {"item_code": ["BYT"], "quantity": ["1"], "unit": [""]}
        answer = client.post("/requests/new", data=form, follow_redirects=False)
        assert answer.status_code == 403 and "suggested-request" not in answer.text


# ---- /norms ---------------------------------------------------------------------------------------


def post_norm(client, **fields):
    page = client.get("/norms").text
    form = {**base(page, "norm-form"), "scope": "location", "level": "", "item_code": ""}
    form |= {"location_code": "", "valid_from": TODAY.isoformat()}
    form |= fields
    return client.post("/norms", data=form, follow_redirects=False)


def test_an_admin_sets_a_places_norm_and_sees_it(web_database):
    with signed_in(web_database, "admin@510100") as client:
        page = client.get("/norms").text
        levels = section(page, "level-norms")
        assert re.search(
            r'id="level-township"><td>乡镇</td><td class="n">1</td><td class="n">3<', levels
        )
        assert "本市：成都市（510100）" in page  # a city's admin sets its own city's levels
        assert "默认" in levels.split('id="level-township"')[1].split("</tr>")[0]
        answer = post_norm(
            client, location_code=TOWNSHIP, item_code="BYT", min_months="2", max_months="5"
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/norms?saved=1"
        page = client.get("/norms?saved=1").text
    assert "已保存库存定额" in page
    listed = text(section(page, "norm-settings"))
    assert "赵家镇" in listed and "避孕套（中号）" in listed and "2–5" in listed
    in_force = web_database.lookup(lambda s: norms.norm_of(s, TOWNSHIP, "BYT", TODAY))
    assert (in_force.min_months, in_force.max_months) == (2, 5)


@pytest.mark.parametrize(
    ("fields", "field", "status", "said"),
    [
        ({"min_months": "4", "max_months": "2"}, "max_months", 422, "不小于最低月数"),
        ({"min_months": "一", "max_months": "2"}, "min_months", 422, "整数"),
        ({"min_months": "1", "max_months": "40"}, "max_months", 422, "0 到 36"),
        (
            {"min_months": "1", "max_months": "3", "valid_from": "2026-06-01"},
            "valid_from",
            422,
            "早于今天",
        ),
        (
            {"min_months": "1", "max_months": "3", "location_code": "500100"},
            "location_code",
            422,
            "",
        ),
        (
            {
                "min_months": "1",
                "max_months": "3",
                "scope": "level",
                "level": "township",
                "city_code": "500100",
            },
            "city_code",
            403,
            "只能为本市（510100）设级别定额",
        ),
    ],
)
def test_a_bad_norm_is_refused_beside_its_field(web_database, fields, field, status, said):
    with signed_in(web_database, "admin@510100") as client:
        answer = post_norm(client, **{"location_code": TOWNSHIP, **fields})
    assert answer.status_code == status, answer.text[-500:]
    assert error_beside(answer.text, field), answer.text[-2000:]
    assert said in error_beside(answer.text, field)
    assert norms.norms_set(web_database) == []


@pytest.mark.parametrize("login", ["requester@510121-zj", "clerk@510121", "approver@510121"])
def test_only_an_admin_reaches_the_norms_page(web_database, login):
    with signed_in(web_database, login) as client:
        assert client.get("/norms").status_code == 403
        page = client.get("/").text
        answer = client.post(
            "/norms",
            data={
                "_csrf": csrf_of(page),
                "scope": "location",
                "location_code": TOWNSHIP,
                "min_months": "1",
                "max_months": "3",
            },
            follow_redirects=False,
        )
        assert answer.status_code == 403
        assert 'href="/norms"' not in page
    assert norms.norms_set(web_database) == []


def test_a_city_admin_sets_its_own_citys_level_norm(web_database):
    with signed_in(web_database, "admin@510100") as client:
        answer = post_norm(client, scope="level", level="township", min_months="2", max_months="5")
        assert answer.status_code == 303, answer.text[-1000:]
        page = client.get("/norms?saved=1").text
    levels = section(page, "level-norms")
    assert "各级定额（成都市，" in page
    assert re.search(
        r'id="level-township"><td>乡镇</td><td class="n">2</td><td class="n">5<', levels
    )
    assert "本市本级" in levels.split('id="level-township"')[1].split("</tr>")[0]
    assert "乡镇（成都市全部库点）" in text(section(page, "norm-settings"))
    in_force = web_database.lookup(lambda s: norms.norm_of(s, TOWNSHIP, "BYT", TODAY))
    assert tuple(in_force) == (2, 5, "city_level")
    (found,) = norms.norms_set(web_database)
    assert (found.level, found.city_code) == ("township", "510100")


def test_a_global_admin_sets_a_levels_norm(web_database):
    from ledger.services.users import add_user
    from ledger.services.web_sign_in import demo_password_hash, set_sign_in

    user, _ = add_user(web_database, "全局管理员", "admin", None, global_admin=True)
    set_sign_in(web_database, user.id, "global", None, hashed=demo_password_hash("demo-password"))
    with signed_in(web_database, "global") as client:
        page = client.get("/norms").text
        assert "disabled" not in page.split('id="scope-level"')[1].split(">")[0]
        answer = post_norm(client, scope="level", level="township", min_months="2", max_months="4")
        assert answer.status_code == 303, answer.text[-1000:]
        page = client.get("/norms").text
    levels = section(page, "level-norms")
    assert re.search(
        r'id="level-township"><td>乡镇</td><td class="n">2</td><td class="n">4<', levels
    )
    assert "全部城市本级" in levels.split('id="level-township"')[1].split("</tr>")[0]
    assert "各级定额（全部城市，" in page
    assert "乡镇（全部城市）" in text(section(page, "norm-settings"))
    in_force = web_database.lookup(lambda s: norms.norm_of(s, TOWNSHIP, "BYT", TODAY))
    assert (in_force.min_months, in_force.max_months, in_force.source) == (2, 4, "level")
    with signed_in(web_database, "global") as client:
        answer = post_norm(
            client,
            scope="level",
            level="county",
            city_code="510100",
            min_months="3",
            max_months="5",
        )
        assert answer.status_code == 303, answer.text[-1000:]
        viewed = client.get("/norms?city=510100").text
    assert "各级定额（成都市，" in viewed
    city = section(viewed, "level-norms")
    county = city.split('id="level-county"')[1].split("</tr>")[0]
    assert '<td class="n">3</td><td class="n">5<' in county and "本市本级" in county
    township = city.split('id="level-township"')[1].split("</tr>")[0]
    assert '<td class="n">2</td><td class="n">4<' in township and "全部城市本级" in township
    assert tuple(web_database.lookup(lambda s: norms.norm_of(s, "510121", "BYT", TODAY))) == (
        3,
        5,
        "city_level",
    )
