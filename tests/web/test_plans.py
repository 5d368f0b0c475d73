"""分配方案 pages: the places below the user's location with their populations, the preview
equal to the allocation service's split, applying it posting the issues (once, however often
the form is sent) with their vouchers listed, and the refusals beside their field."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

from sqlalchemy import update

from api.web.units import quantity_text
from ledger.allocation import Share
from ledger.db import tables as t
from ledger.services import lookups
from ledger.services.allocation import make_plan
from tests.conftest import TODAY
from tests.web.conftest import csrf_of
from tests.web.requests_support import error_beside, form_html, signed_in
from tests.web.test_requests_flow import CLERK, REQUESTER, balance

TOWNS = ("510121-ZJ", "510121-HK")


def preview_path(weights: dict[str, str], **fields) -> str:
    query = [("sent", "1"), ("source_code", "510121")]
    query += [(key, value) for key, value in fields.items()]
    for code, weight in weights.items():
        query += [("place", code), ("weight", weight), ("include", code)]
    return "/plans?" + urlencode(query)


def row_text(page: str, code: str) -> str:
    """The places table's row of a place, as text."""
    table = page[page.index('id="plan-places"') :]
    for row in re.findall(r"<tr.*?</tr>", table, re.S):
        if f'name="place" value="{code}"' in row:
            return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)))
    raise AssertionError(f"no row for {code}")


def hidden_fields(form: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form):
        fields.setdefault(name, []).append(html.unescape(value))
    return fields


def set_populations(database, populations: dict[str, int]) -> None:
    with database.engine.begin() as connection:
        for code, population in populations.items():
            connection.execute(
                update(t.locations).where(t.locations.c.code == code).values(population=population)
            )


def test_the_places_below_are_offered_with_their_populations(web_database):
    set_populations(web_database, {"510121-ZJ": 12_000, "510121-HK": 9_000})
    with signed_in(web_database, CLERK) as clerk:
        page = clerk.get("/plans")
    assert page.status_code == 200
    assert "调出库点：<strong>金堂县</strong>" in page.text
    assert "赵家镇" in row_text(page.text, "510121-ZJ") and "12,000" in row_text(
        page.text, "510121-ZJ"
    )
    assert "9,000" in row_text(page.text, "510121-HK")
    assert page.text.count('name="include"') == 2 and page.text.count("checked") >= 2
    assert 'name="place" value="510121-ZJ-PS"' not in page.text  # villages are not the county's
    assert "平水村（510121-ZJ-PS）" in page.text  # but may be added (另加库点)


def test_the_preview_is_the_allocation_services_split(web_database):
    set_populations(web_database, {"510121-ZJ": 12_000, "510121-HK": 9_000})
    with signed_in(web_database, CLERK) as clerk:
        page = clerk.get(
            preview_path(
                {"510121-ZJ": "", "510121-HK": ""},  # blank: by population
                item_code="NH2014",
                quantity="7",
                quantity_unit="捆",
                pack="捆",
            )
        )
    assert page.status_code == 200, page.text
    plan = make_plan(
        web_database,
        "510121",
        "NH2014",
        3500,
        [Share(code, None) for code in TOWNS],
        "捆",
        TODAY,
    )
    assert [line.packs for line in plan.lines] == [4, 3]
    item = lookups.item(web_database, "NH2014")
    for line in plan.lines:
        row = row_text(page.text, line.location_code)
        assert f" {line.packs} " in row and quantity_text(line.quantity, item) in row
    assert "57.1%" in row_text(page.text, "510121-ZJ")
    assert quantity_text(plan.allocated, item) in page.text
    assert 'id="apply-form"' in page.text


def test_a_plan_of_one_batch_with_typed_weights(web_database):
    with signed_in(web_database, CLERK) as clerk:
        page = clerk.get(
            preview_path(
                {"510121-ZJ": "2", "510121-HK": "1"},
                item_code="BYT",
                batch_number="BYT-2503",
                quantity="100",
                quantity_unit="盒",
                pack="盒",
            )
        )
    plan = make_plan(
        web_database,
        "510121",
        "BYT",
        300,
        [Share("510121-ZJ", 2), Share("510121-HK", 1)],
        "盒",
        TODAY,
        "BYT-2503",
    )
    assert [line.quantity for line in plan.lines] == [201, 99]  # 67 and 33 盒
    for line in plan.lines:
        assert f" {line.packs} " in row_text(page.text, line.location_code)
    assert '<option value="BYT-2503" selected>' in page.text


def test_applying_posts_the_issues_once_and_lists_their_vouchers(web_database):
    before = balance(web_database, "510121", "NH2014")
    weights = {"510121-ZJ": "2", "510121-HK": "1"}
    with signed_in(web_database, CLERK) as clerk:
        page = clerk.get(
            preview_path(weights, item_code="NH2014", quantity="3000", quantity_unit="", pack="捆")
        )
        form = form_html(page.text, "apply-form")
        data = {**hidden_fields(form), "occurred_on": TODAY.isoformat(), "memo": "按人口分配"}
        first = clerk.post("/plans/apply", data=data, follow_redirects=False)
        again = clerk.post("/plans/apply", data=data, follow_redirects=False)
        assert first.status_code == again.status_code == 303, first.text
        assert first.headers["location"] == again.headers["location"]
        shown = clerk.get(first.headers["location"])
    numbers = re.findall(r'<a href="/vouchers/([^"]+)">', shown.text)
    assert len(numbers) == 2
    issued = [lookups.transaction(web_database, number) for number in numbers]
    assert [tx.counterparty_code for tx in issued] == list(TOWNS)
    quantities = [
        sum(p.quantity for p in tx.postings if p.location_code == "in-transit") for tx in issued
    ]
    assert quantities == [2000, 1000]  # 6 捆 split 2:1 into whole 捆
    assert all(tx.memo == "按人口分配" for tx in issued)
    assert balance(web_database, "510121", "NH2014") == (before[0] - 3000, before[1])
    assert "赵家镇" in shown.text and "4 捆（2,000 张）" in shown.text


def test_refusals_are_shown_beside_their_field(web_database):
    with signed_in(web_database, CLERK) as clerk:
        no_weight = clerk.get(
            preview_path({"510121-ZJ": "", "510121-HK": "1"}, item_code="NH2014", quantity="5")
        )
        assert no_weight.status_code == 422
        assert "没有人口数" in error_beside(no_weight.text, "shares")
        wrong = clerk.get(
            preview_path({"510121-ZJ": "a", "510121-HK": "1"}, item_code="NH2014", quantity="5")
        )
        assert "权重须为整数" in error_beside(wrong.text, "weight-510121-ZJ")
        blank = clerk.get(preview_path({"510121-ZJ": "1"}, item_code="NH2014", quantity=""))
        assert "请填写要分配的数量" in error_beside(blank.text, "quantity")
        outside = clerk.get(
            preview_path({"510121-ZJ": "1"}, item_code="NH2014", quantity="5", extra="510181")
        )
        assert outside.status_code == 403
        assert "不在您的管辖范围内" in error_beside(outside.text, "extra")
        village = clerk.get(
            preview_path({"510121-ZJ": "1"}, item_code="NH2014", quantity="5", extra="510121-ZJ-PS")
        )
        assert "平水村" in village.text and 'value="510121-ZJ-PS"' in village.text
        assert "没有人口数" in error_beside(village.text, "shares")


def test_who_may_plan_and_who_may_apply(web_database):
    before = balance(web_database, "510121", "NH2014")
    with signed_in(web_database, "approver@510121") as approver:
        page = approver.get(preview_path({"510121-ZJ": "1"}, item_code="NH2014", quantity="500"))
        assert page.status_code == 200 and 'id="plan-result"' in page.text
        assert (
            'id="apply-form"' not in page.text and "只有 510121 的仓库保管员可以下发" in page.text
        )
        refused = approver.post(
            "/plans/apply",
            data={
                "_csrf": csrf_of(page.text),
                "source_code": "510121",
                "item_code": "NH2014",
                "quantity": "500",
                "place": "510121-ZJ",
                "weight": "1",
                "include": "510121-ZJ",
            },
        )
        assert refused.status_code == 403
    with signed_in(web_database, REQUESTER) as requester:
        assert requester.get("/plans").status_code == 403
    with signed_in(web_database, "clerk@510100") as city_clerk:
        page = city_clerk.get("/plans?sent=1&source_code=510121&item_code=NH2014&quantity=5")
        assert 'id="apply-form"' not in page.text  # not the clerk at the source
    assert balance(web_database, "510121", "NH2014") == before


def test_the_demo_city_splits_over_its_counties_by_population(web_database):
    """The demo gives its 区(市)县 their 人口, so the city's plan needs no weight typed."""
    with signed_in(web_database, "clerk@510100") as clerk:
        page = clerk.get("/plans")
        assert "1,270,000" in row_text(page.text, "510106")  # 金牛区, 127 万人
        preview = clerk.get(
            preview_path(
                {code: "" for code in ("510106", "510121")},
                item_code="NH2014",
                quantity="20",
                quantity_unit="捆",
                pack="捆",
            )
        )
    assert preview.status_code == 200, preview.text
    # 127 : 80 万人 of 20 捆: 12.27 and 7.73, in whole packs 12 and 8
    plan = make_plan(
        web_database,
        "510100",
        "NH2014",
        20 * 500,
        [Share("510106", None), Share("510121", None)],
        "捆",
        TODAY,
    )
    assert [line.packs for line in plan.lines] == [12, 8]
    assert f" {plan.lines[0].packs} " in row_text(preview.text, "510106")
