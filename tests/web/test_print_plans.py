"""印制计划 pages: the previewed 印制计划表 equal to the print-plan service's figures and to an
independent computation, the reach of the user (a township's user cannot plan for the city),
refusals beside their field, 保存 done once however often the form is sent, the saved plan's
page with its print, XLSX and CSV links, and 按印制计划分配 from the 分配方案 page: the preview
equal to the service's allocation, applied once, the ledger verified clean."""

from __future__ import annotations

import html
import math
import re
from fractions import Fraction
from urllib.parse import urlencode

from sqlalchemy import func, select

from api.web.units import quantity_text
from ledger.db import tables as t
from ledger.print_plan import Basis, Target
from ledger.services import lookups
from ledger.services.audit import verify_ledger
from ledger.services.print_plans import (
    Terms,
    allocation_from_print_plan,
    get_print_plan,
    make_print_plan,
)
from ledger.services.users import add_user
from ledger.services.web_sign_in import demo_password_hash, set_sign_in
from tests.conftest import TODAY
from tests.web.conftest import csrf_of
from tests.web.requests_support import error_beside, form_html, signed_in
from tests.web.test_plans import hidden_fields, set_populations
from tests.web.test_requests_flow import CLERK, REQUESTER, balance

# 人口 of 金堂县's villages (团结村: nobody lives there any more).
POPULATIONS = {
    "510121-ZJ-PS": 2_620,
    "510121-ZJ-XH": 1_311,
    "510121-ZJ-TJ": 0,
    "510121-HK-HG": 30_000,
    "510121-HK-GM": 5_240,
}
TOWNSHIPS = {
    "510121-ZJ": ("510121-ZJ-PS", "510121-ZJ-XH", "510121-ZJ-TJ"),
    "510121-HK": ("510121-HK-HG", "510121-HK-GM"),
}
FORM = {
    "sent": "1",
    "office_code": "510121",
    "item_code": "NH2014",
    "level": "village",
    "basis": "household",
    "copies": "1",
    "per": "1",
    "coverage_percent": "100",
    "household_size": "2.62",
    "spare_percent": "10",
    "pack": "捆",
    "deduct_stock": "1",
    "title": "2015年慰问独生子女家庭户年画",
}


def expected(spare: int) -> dict[str, int]:
    """Each place's 张, worked out apart from the service: households ⌈population ÷ 2.62⌉,
    one sheet each, up to whole 捆 of 500; a township and the county keep ⌈spare% of their
    villages' sheets⌉ in whole 捆."""

    def bundles(sheets: int | Fraction) -> int:
        return math.ceil(Fraction(sheets, 500)) * 500

    out = {}
    for township, villages in TOWNSHIPS.items():
        for village in villages:
            out[village] = bundles(math.ceil(Fraction(POPULATIONS[village] * 100, 262)))
        out[township] = bundles(math.ceil(sum(out[v] for v in villages) * spare / 100))
    every_village = [out[v] for villages in TOWNSHIPS.values() for v in villages]
    out["510121"] = bundles(math.ceil(sum(every_village) * spare / 100))
    return out


def preview_path(**changes: str) -> str:
    return "/print-plans/new?" + urlencode({**FORM, **changes})


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))).strip()


def row_of(page: str, code: str) -> str:
    found = re.search(rf'<tr data-code="{re.escape(code)}">.*?</tr>', page, re.S)
    assert found, f"no row for {code}"
    return text_of(found.group(0))


def figure(page: str, key: str) -> str:
    found = re.search(rf'<div class="figure" id="{key}">.*?</div></div>', page, re.S)
    assert found, f"no figure {key}"
    return text_of(found.group(0))


def save_form(page: str) -> dict[str, str | list[str]]:
    """The preview's 保存 form as a browser sends it."""
    return {**hidden_fields(form_html(page, "save-form")), "_csrf": csrf_of(page)}


def plans_saved(database) -> int:
    with database.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(t.print_plans)).scalar_one()


def service_plan(database, spare: int = 10):
    terms = Terms("510121", "NH2014", "village", Target(Basis.household, 1), spare, pack="捆")
    return make_print_plan(database, terms, today=TODAY)


def test_the_preview_shows_the_services_figures_in_whole_packs(web_database):
    set_populations(web_database, POPULATIONS)
    with signed_in(web_database, CLERK) as clerk:
        page = clerk.get(preview_path())
    assert page.status_code == 200, page.text
    made = service_plan(web_database)
    item = lookups.item(web_database, "NH2014")
    quantities = {line.location_code: line.quantity for line in made.plan.lines}
    assert quantities == expected(10)
    for line in made.plan.lines:
        row = row_of(page.text, line.location_code)
        assert quantity_text(line.quantity, item) in row, row
        assert f"{line.subtree:,}" in row and f"{line.need:,}" in row
    assert "11,451" in row_of(page.text, "510121-HK-HG")  # 30,000 ÷ 2.62 户, rounded up
    assert "23 捆（11,500 张）" in row_of(page.text, "510121-HK-HG")
    assert "淮口镇 小计" in page.text and "赵家镇 小计" in page.text
    on_hand = balance(web_database, "510121", "NH2014")[0]
    total = sum(expected(10).values())
    assert made.plan.total == total and made.plan.on_hand == on_hand
    assert made.plan.to_print == math.ceil(max(total - on_hand, 0) / 500) * 500
    assert figure(page.text, "print-total").startswith(f"{total // 500} 捆 {total:,} 张")
    assert f"{on_hand:,} 张" in figure(page.text, "print-on-hand")
    to_print = made.plan.to_print
    assert figure(page.text, "print-to-print").startswith(f"{to_print // 500} 捆 {to_print:,} 张")
    totals = text_of(page.text.split('id="print-totals"')[1].split("</tbody>")[0])
    assert f"合计 {sum(POPULATIONS.values()):,}" in totals and "应印数" in totals
    assert 'id="save-form"' in page.text and plans_saved(web_database) == 0


def test_saving_twice_keeps_one_plan_and_its_page_links_print_xlsx_csv(web_database):
    set_populations(web_database, POPULATIONS)
    with signed_in(web_database, CLERK) as clerk:
        page = clerk.get(preview_path())
        data = save_form(page.text)
        first = clerk.post("/print-plans/save", data=data, follow_redirects=False)
        again = clerk.post("/print-plans/save", data=data, follow_redirects=False)
        assert first.status_code == again.status_code == 303, first.text
        assert first.headers["location"] == again.headers["location"]
        assert plans_saved(web_database) == 1
        number = first.headers["location"].rsplit("/", 1)[1]
        assert re.fullmatch(r"YZ-2026-\d{6}", number)
        shown = clerk.get(first.headers["location"])
        listed = clerk.get("/print-plans")
        xlsx = clerk.get(f"/api/v1/print-plans/{number}?format=xlsx")
        printed = clerk.get(f"/api/v1/print-plans/{number}?format=html")
    assert shown.status_code == 200 and "2015年慰问独生子女家庭户年画" in shown.text
    for key in ("html", "xlsx", "csv"):
        assert f'href="/api/v1/print-plans/{number}?format={key}"' in shown.text
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert printed.status_code == 200 and "应印数" in printed.text
    assert f'href="/print-plans/{number}"' in listed.text
    made = service_plan(web_database)
    for line in made.plan.lines:
        assert f"{line.subtree:,}" in row_of(shown.text, line.location_code)
    assert 'id="print-plan-pick"' in shown.text  # 按印制计划分配 from a place of the plan


def test_refusals_are_shown_beside_their_field(web_database):
    set_populations(web_database, {**POPULATIONS, "510121-HK-GM": None})
    with signed_in(web_database, CLERK) as clerk:
        copies = clerk.get(preview_path(copies="两张"))
        coverage = clerk.get(preview_path(coverage_percent="120"))
        size = clerk.get(preview_path(household_size="2.625"))
        level = clerk.get(preview_path(level="county"))
        medicine = clerk.get(preview_path(item_code="BYT"))
        missing = clerk.get(preview_path())
    assert copies.status_code == 422
    assert "每份数量须为整数" in error_beside(copies.text, "copies")
    assert 'value="两张"' in copies.text  # what was typed is kept
    assert "覆盖率 须为 1 到 100 之间的整数" in error_beside(coverage.text, "coverage_percent")
    assert "最多两位小数" in error_beside(size.text, "household_size")
    assert "须低于本单位" in error_beside(level.text, "level")
    assert "不是宣传品" in error_beside(medicine.text, "item_code")
    assert "光明村(510121-HK-GM)" in error_beside(missing.text, "office_code")
    assert 'id="save-form"' not in missing.text


def test_a_plan_saved_without_the_offices_stock_prints_its_whole_total(web_database):
    set_populations(web_database, POPULATIONS)
    unticked = {key: value for key, value in FORM.items() if key != "deduct_stock"}
    with signed_in(web_database, CLERK) as clerk:
        page = clerk.get("/print-plans/new?" + urlencode(unticked))
        assert 'name="deduct_stock" value="1" checked' not in page.text
        answer = clerk.post("/print-plans/save", data=save_form(page.text), follow_redirects=False)
    number = answer.headers["location"].rsplit("/", 1)[1]
    saved = get_print_plan(web_database, number)
    total = sum(expected(10).values())
    assert (saved.plan.total, saved.plan.on_hand, saved.plan.to_print) == (total, 0, total)


def add_user_at(database, role: str, location_code: str) -> str:
    user, _ = add_user(database, f"测试{role}", role, location_code)
    login = f"{role}@{location_code}".lower()
    set_sign_in(database, user.id, login, None, hashed=demo_password_hash("demo-password"))
    return login


def test_a_township_user_cannot_make_a_plan_for_the_city(web_database):
    set_populations(web_database, POPULATIONS)
    township = add_user_at(web_database, "approver", "510121-ZJ")
    with signed_in(web_database, township) as approver:
        form = approver.get("/print-plans/new")
        assert 'value="510100"' not in form.text  # the city is not offered
        city = approver.get(preview_path(office_code="510100", level="county"))
        assert city.status_code == 403
        assert "不在您的管辖范围内" in error_beside(city.text, "office_code")
        county = approver.get(preview_path(office_code="510121"))
        assert county.status_code == 403
        own = approver.get(preview_path(office_code="510121-ZJ"))
        assert own.status_code == 200 and "平水村" in own.text
    with signed_in(web_database, CLERK) as clerk:
        page = clerk.get(preview_path())
        data = save_form(page.text)
        number = clerk.post("/print-plans/save", data=data, follow_redirects=False).headers[
            "location"
        ]
    with signed_in(web_database, "clerk@510100") as city_clerk:
        assert city_clerk.get(number).status_code == 200  # the city sees its county's plan
    with signed_in(web_database, add_user_at(web_database, "clerk", "510181")) as other:
        assert other.get(number).status_code == 403  # another county does not
        assert number.rsplit("/", 1)[1] not in other.get("/print-plans").text
    with signed_in(web_database, REQUESTER) as requester:
        assert requester.get("/print-plans/new").status_code == 403
        assert requester.get("/print-plans").status_code == 403


def saved_number(web_database, spare: str) -> str:
    with signed_in(web_database, CLERK) as clerk:
        page = clerk.get(preview_path(spare_percent=spare))
        data = save_form(page.text)
        answer = clerk.post("/print-plans/save", data=data, follow_redirects=False)
    return answer.headers["location"].rsplit("/", 1)[1]


def test_allocating_by_a_print_plan_previews_the_services_split_and_issues_once(web_database):
    set_populations(web_database, POPULATIONS)
    number = saved_number(web_database, "0")
    before = balance(web_database, "510121", "NH2014")
    with signed_in(web_database, CLERK) as clerk:
        plans = clerk.get("/plans")
        assert f'<option value="{number}">' in plans.text  # offered on the 分配方案 page
        query = urlencode({"print_plan": number, "source_code": "510121"})
        page = clerk.get(f"/plans/print-plan?{query}")
        assert page.status_code == 200, page.text
        plan = allocation_from_print_plan(web_database, number, "510121", today=TODAY)
        # each township gets its villages' sheets (no spare): 赵家镇 2 + 2 捆, 淮口镇 23 + 4 捆
        wanted = {"510121-ZJ": 2_000, "510121-HK": 13_500}
        assert {line.location_code: line.quantity for line in plan.lines} == wanted
        item = lookups.item(web_database, "NH2014")
        for line in plan.lines:
            assert quantity_text(line.quantity, item) in row_of(page.text, line.location_code)
        form = form_html(page.text, "apply-form")
        data = {**hidden_fields(form), "occurred_on": TODAY.isoformat(), "memo": "印制到货"}
        first = clerk.post("/plans/print-plan/apply", data=data, follow_redirects=False)
        again = clerk.post("/plans/print-plan/apply", data=data, follow_redirects=False)
        assert first.status_code == again.status_code == 303, first.text
        assert first.headers["location"] == again.headers["location"]
        shown = clerk.get(first.headers["location"])
    vouchers = re.findall(r'<a href="/vouchers/([^"]+)">', shown.text)
    issued = [lookups.transaction(web_database, voucher) for voucher in vouchers]
    moved = {
        tx.counterparty_code: sum(
            p.quantity for p in tx.postings if p.location_code == "in-transit"
        )
        for tx in issued
    }
    assert moved == wanted and all(tx.memo == "印制到货" for tx in issued)
    assert balance(web_database, "510121", "NH2014")[0] == before[0] - sum(wanted.values())
    assert verify_ledger(web_database).ok


def test_allocating_by_a_print_plan_checks_the_source_and_who_applies(web_database):
    set_populations(web_database, POPULATIONS)
    number = saved_number(web_database, "10")
    with signed_in(web_database, CLERK) as clerk:
        village = clerk.get(f"/plans/print-plan?print_plan={number}&source_code=510121-ZJ-PS")
        assert "目标库点" in error_beside(village.text, "source_code")
        outside = clerk.get(f"/plans/print-plan?print_plan={number}&source_code=510100")
        assert outside.status_code == 403
        assert "不在您的管辖范围内" in error_beside(outside.text, "source_code")
        unknown = clerk.get("/plans/print-plan?print_plan=YZ-2026-999999&source_code=510121")
        assert "没有印制计划" in error_beside(unknown.text, "print_plan")
    before = balance(web_database, "510121", "NH2014")
    with signed_in(web_database, "approver@510121") as approver:
        page = approver.get(f"/plans/print-plan?print_plan={number}&source_code=510121")
        assert 'id="plan-result"' in page.text and 'id="apply-form"' not in page.text
        refused = approver.post(
            "/plans/print-plan/apply",
            data={
                "_csrf": csrf_of(page.text),
                "print_plan": number,
                "source_code": "510121",
            },
        )
        assert refused.status_code == 403
    assert balance(web_database, "510121", "NH2014") == before


def _table(page: str, table_id: str) -> dict[str, str]:
    """{place code: the row's text} of one table of a page."""
    found = re.search(rf'<table[^>]* id="{table_id}">.*?</table>', page, re.S)
    assert found, f"no table {table_id}"
    rows = re.findall(r'<tr data-code="([^"]+)"[^>]*>(.*?)</tr>', found.group(0), re.S)
    return {code: text_of(row) for code, row in rows}


def test_a_plan_is_issued_once_however_often_a_fresh_page_is_sent(web_database):
    set_populations(web_database, POPULATIONS)
    number = saved_number(web_database, "0")
    wanted = {"510121-ZJ": 2_000, "510121-HK": 13_500}  # as in the test above, worked out apart
    item = lookups.item(web_database, "NH2014")
    query = urlencode({"print_plan": number, "source_code": "510121"})
    with signed_in(web_database, CLERK) as clerk:
        page = clerk.get(f"/plans/print-plan?{query}")
        shown = _table(page.text, "plan-places")
        for code, quantity in wanted.items():  # 计划, 待发 and 本次分配 all of it; 已发 0
            assert shown[code].count(quantity_text(quantity, item)) == 3, shown[code]
        data = {**hidden_fields(form_html(page.text, "apply-form")), "memo": "印制到货"}
        stale = dict(data)
        assert clerk.post("/plans/print-plan/apply", data=data).status_code == 200
        after = balance(web_database, "510121", "NH2014")
        fresh = clerk.get(f"/plans/print-plan?{query}")
        assert 'id="plan-done"' in fresh.text and 'id="apply-form"' not in fresh.text
        assert "应发的已全部发出" in fresh.text
        done = _table(fresh.text, "plan-shipped")
        for code, quantity in wanted.items():  # 计划 = 已发, 待发 0
            assert done[code].count(quantity_text(quantity, item)) == 2, done[code]
        stale["once"] = "another-page"  # a page opened before the first 下发, sent after it
        again = clerk.post("/plans/print-plan/apply", data=stale)
        assert again.status_code == 409 and "已全部发出" in again.text
        plan_page = clerk.get(f"/print-plans/{number}")
    assert balance(web_database, "510121", "NH2014") == after
    progress = _table(plan_page.text, "plan-shipping")
    for code, quantity in wanted.items():
        assert progress[code].count(quantity_text(quantity, item)) == 2, progress[code]
    villages = expected(0)
    for village in TOWNSHIPS["510121-HK"]:  # the township has not shipped on yet: all due
        assert progress[village].count(quantity_text(villages[village], item)) == 2
    assert verify_ledger(web_database).ok
