"""盘点 pages refuse what the API refuses: in Chinese beside the field at fault (what was typed
kept), by role and by reach with 403, and a form without its CSRF token."""

from __future__ import annotations

import re

from ledger.services import stocktakes
from ledger.services.stocktake_list import stocktakes_under
from tests.web.conftest import sign_in
from tests.web.test_stocktakes import NH, as_user, hidden, open_count, post_form, row_of, text_of


def test_a_cut_off_after_today_is_refused_beside_its_field(web, web_database):
    assert sign_in(web, "clerk@510121").status_code == 303
    page = web.get("/stocktakes").text
    answer = post_form(
        web,
        page,
        "open-stocktake",
        "/stocktakes",
        location_code="510121",
        scope="self",
        cut_off="2026-07-01",
        memo="月底盘点",
    )
    assert answer.status_code == 422
    error = re.search(r'id="e-cut_off" role="alert">([^<]+)<', answer.text)
    assert error and "晚于今天" in error.group(1) and "(" not in error.group(1)
    assert 'value="月底盘点"' in answer.text  # what was typed is kept
    assert stocktakes_under(web_database, None) == []
    answer = post_form(
        web,
        page,
        "open-stocktake",
        "/stocktakes",
        location_code="510121",
        scope="self",
        cut_off="30/06/2026",
    )
    assert answer.status_code == 422 and 'id="e-cut_off"' in answer.text


def test_a_place_outside_the_count_is_refused_beside_the_places(web):
    assert sign_in(web, "admin@510100").status_code == 303
    page = web.get("/stocktakes").text
    answer = post_form(
        web,
        page,
        "open-stocktake",
        "/stocktakes",
        location_code="510121",
        scope="listed",
        location_codes=["510121-ZJ", "510113"],
        cut_off="2026-06-30",
    )
    assert answer.status_code == 422
    error = re.search(r'id="e-location_codes" role="alert">([^<]+)<', answer.text).group(1)
    assert "不在 金堂县 之下" in error


def test_a_count_that_is_not_a_whole_number_is_refused_beside_its_line(web, web_database):
    assert sign_in(web, "clerk@510121").status_code == 303
    number = open_count(web)
    page = web.get(f"/stocktakes/{number}").text
    row = row_of(page, NH)
    answer = post_form(
        web,
        page,
        "count-form",
        f"/stocktakes/{number}/counts",
        **{f"q-{row}": "12.5", f"u-{row}": "捆"},
    )
    assert answer.status_code == 422
    assert re.search(rf'id="e-q-{row}" role="alert">盘点数必须是 0 或正整数<', answer.text)
    assert f'name="q-{row}" class="count" inputmode="numeric" pattern="[0-9]*" value="12.5"' in (
        answer.text
    )
    # a unit the item does not have, by the use case's own check
    answer = post_form(
        web,
        answer.text,
        "count-form",
        f"/stocktakes/{number}/counts",
        **{f"q-{row}": "3", f"u-{row}": "箱"},
    )
    assert answer.status_code == 422
    assert re.search(rf'id="e-q-{row}" role="alert">[^<]*没有计量单位', answer.text)
    answer = post_form(web, answer.text, "count-form", f"/stocktakes/{number}/counts")
    assert answer.status_code == 422 and "请至少填写一行盘点数" in text_of(answer.text)
    assert stocktakes.get(web_database, number).counted == ()


def test_one_line_by_hand_and_its_refusals(web, web_database):
    assert sign_in(web, "clerk@510121").status_code == 303
    number = open_count(web, blind="1")
    page = web.get(f"/stocktakes/{number}").text
    assert '<th class="n">账面数</th>' not in page and "17,000" not in page  # blind: no book
    answer = post_form(
        web,
        page,
        "line-form",
        f"/stocktakes/{number}/count-line",
        line_location_code="510121",
        line_item_code="NH2014",
        line_batch_number="NO-SUCH",
        line_quantity="3",
        line_unit="捆",
    )
    assert answer.status_code in (404, 422)
    assert 'id="e-line_batch_number"' in answer.text
    answer = post_form(
        web,
        answer.text,
        "line-form",
        f"/stocktakes/{number}/count-line",
        line_location_code="510121",
        line_item_code="NH2014",
        line_batch_number="2014-01",
        line_quantity="3",
        line_unit="捆",
    )
    assert answer.status_code == 303
    (line,) = stocktakes.get(web_database, number).counted
    assert (line.item_code, line.quantity, line.source) == ("NH2014", 1500, "hand")


def test_a_document_that_is_not_a_finished_count_is_refused(web):
    assert sign_in(web, "clerk@510121").status_code == 303
    number = open_count(web)
    page = web.get(f"/stocktakes/{number}").text
    answer = post_form(
        web, page, "import-form", f"/stocktakes/{number}/scan-document", document="999999"
    )
    assert answer.status_code == 404
    assert re.search(r'id="e-document" role="alert">没有扫描单 999999<', answer.text)


def test_roles_and_reach(web_database):
    with as_user(web_database, "clerk@510100") as city_clerk:
        city = open_count(city_clerk, location="510100", item_codes="NH2014")
    with as_user(web_database, "requester@510121-zj") as requester:
        assert requester.get("/stocktakes").status_code == 403
        assert "无权" in text_of(requester.get(f"/stocktakes/{city}").text)
    with as_user(web_database, "clerk@510121") as clerk:
        listed = clerk.get("/stocktakes").text
        assert city not in listed  # another subtree's count is not listed …
        answer = clerk.get(f"/stocktakes/{city}")
        assert answer.status_code == 403  # … nor shown
        page = clerk.get("/stocktakes").text
        # a clerk opens a count at its own location only
        answer = post_form(
            clerk,
            page,
            "open-stocktake",
            "/stocktakes",
            location_code="510100",
            scope="self",
            cut_off="2026-06-30",
        )
        assert answer.status_code == 403
        own = open_count(clerk, item_codes="NH2014")
        page = clerk.get(f"/stocktakes/{own}").text
        answer = post_form(clerk, page, "close-form", f"/stocktakes/{own}/close")
        assert answer.status_code == 303
        page = clerk.get(f"/stocktakes/{own}").text
        assert 'id="recount-form"' not in page and 'id="approve-link"' not in page
        assert clerk.get(f"/stocktakes/{own}/approve").status_code == 403  # approvers only
        forged = {**hidden(listed, "open-stocktake"), "reason": "x", "preview_digest": "0"}
        assert clerk.post(f"/stocktakes/{own}/approve", data=forged).status_code == 403
    with as_user(web_database, "approver@510121") as approver:
        page = approver.get(f"/stocktakes/{own}").text
        assert 'id="recount-form"' in page and 'id="count-form"' not in page
        data = {**hidden(page, "recount-form"), "line": "|".join(NH), "reason": "复核"}
        assert approver.post(f"/stocktakes/{own}/recount", data=data).status_code == 200
        page = approver.get(f"/stocktakes/{own}").text
        assert 'id="count-form"' not in page  # an approver does not count …
        data = {**hidden(page, "close-form"), "q-0": "1", "k-0": "|".join(NH)}
        assert approver.post(f"/stocktakes/{own}/counts", data=data).status_code == 403
    assert all(
        line.source != "hand" or line.quantity != 1
        for line in stocktakes.get(web_database, own).counted
    )


def test_a_form_without_its_csrf_token_is_refused(web, web_database):
    assert sign_in(web, "clerk@510121").status_code == 303
    page = web.get("/stocktakes").text
    data = {
        **hidden(page, "open-stocktake"),
        "location_code": "510121",
        "scope": "self",
        "cut_off": "2026-06-30",
    }
    del data["_csrf"]
    answer = web.post("/stocktakes", data=data, follow_redirects=False)
    assert answer.status_code == 403
    assert "页面已过期" in answer.text
    assert stocktakes_under(web_database, None) == []


def test_a_count_form_sent_twice_counts_once(web, web_database):
    """Counts add up (several counters): a double click or a reload of the same form must not
    count the same packs twice."""
    assert sign_in(web, "clerk@510121").status_code == 303
    number = open_count(web)
    page = web.get(f"/stocktakes/{number}").text
    row = row_of(page, NH)
    for _ in range(2):
        answer = post_form(
            web,
            page,
            "count-form",
            f"/stocktakes/{number}/counts",
            **{f"q-{row}": "2", f"u-{row}": "捆"},
        )
        assert answer.status_code == 303
    (line,) = stocktakes.get(web_database, number).counted
    assert line.quantity == 1000
    fresh = web.get(f"/stocktakes/{number}").text  # a new form is a new count
    post_form(
        web,
        fresh,
        "count-form",
        f"/stocktakes/{number}/counts",
        **{f"q-{row}": "2", f"u-{row}": "捆"},
    )
    assert sum(c.quantity for c in stocktakes.get(web_database, number).counted) == 2000
