"""申领 pages besides the main flow: the list by status, a draft edited, cancelled, an approved
request closed with the rest cancelled, a row's unit choice for the item chosen."""

from __future__ import annotations

import re

from ledger.services import requests
from tests.conftest import TODAY
from tests.web.conftest import csrf_of
from tests.web.requests_support import base, error_beside, form_html, signed_in
from tests.web.test_requests_flow import APPROVER, CLERK, REQUESTER, balance, lines_of
from tests.web.test_requests_refusals import made


def listed_numbers(html: str) -> list[str]:
    return re.findall(r'<a href="/requests/(SQ-[0-9-]+)">', html)


def test_the_list_filters_by_status_in_chinese(web_database):
    submitted = made(web_database, BYT=3)
    approved = made(web_database, status="approved", NH2014=500)
    with signed_in(web_database, APPROVER) as approver:
        every = approver.get("/requests")
        assert set(listed_numbers(every.text)) == {submitted, approved}
        assert "待审批" in every.text and "已批准" in every.text
        only = approver.get("/requests?status=approved")
        assert listed_numbers(only.text) == [approved]
        assert '<option value="approved" selected>已批准</option>' in only.text
        none = approver.get("/requests?status=rejected")
        assert listed_numbers(none.text) == [] and "没有已驳回的申领单" in none.text
        assert "500 张" in every.text  # the lines in the item's units
        assert 'class="table-wrap"' in every.text


def test_a_draft_is_edited_then_cancelled(web_database):
    with signed_in(web_database, REQUESTER) as requester:
        page = requester.get("/requests/new")
        created = requester.post(
            "/requests/new",
            data={
                **base(page.text, "request-form"),
                "item_code": ["BYT", ""],
                "quantity": ["2", ""],
                "unit": ["箱", ""],
                "memo": "",
            },
            follow_redirects=False,
        )
        number = created.headers["location"].rsplit("/", 1)[1]
        assert lines_of(web_database, number)["BYT"].requested == 1440
        edit = requester.get(f"/requests/{number}/edit")
        form = form_html(edit.text, "request-form")
        assert '<option value="BYT" selected>' in form and 'value="2"' in form
        assert '<option value="箱" selected>' in form  # shown in the largest whole pack
        more = requester.post(
            f"/requests/{number}/edit",
            data={
                **base(edit.text, "request-form"),
                "item_code": ["BYT", "", ""],
                "quantity": ["2", "", ""],
                "unit": ["箱", "", ""],
                "memo": "",
                "more": "1",
            },
        )
        assert more.status_code == 200 and more.text.count('name="item_code"') == 4
        saved = requester.post(
            f"/requests/{number}/edit",
            data={
                **base(more.text, "request-form"),
                "item_code": ["BYT", "WZ2014", "", ""],
                "quantity": ["5", "1", "", ""],
                "unit": ["盒", "捆", "", ""],
                "memo": "改为少量",
            },
            follow_redirects=False,
        )
        assert saved.status_code == 303
        lines = lines_of(web_database, number)
        assert {c: line.requested for c, line in lines.items()} == {"BYT": 15, "WZ2014": 100}
        assert requests.get(web_database, number).memo == "改为少量"
        page = requester.get(f"/requests/{number}")
        assert "修改" in page.text
        cancelled = requester.post(
            f"/requests/{number}/cancel",
            data=base(page.text, "cancel-form"),
            follow_redirects=False,
        )
        assert cancelled.status_code == 303
        assert requests.get(web_database, number).status == "cancelled"
        after = requester.get(f"/requests/{number}")
        assert "已撤销" in after.text and 'id="cancel-form"' not in after.text
        again = requester.get(f"/requests/{number}/edit")
        assert again.status_code == 409 and "不能修改" in again.text


def test_an_approved_request_is_closed_with_the_rest_released(web_database):
    number = made(web_database, status="approved", NH2014=1000)
    assert balance(web_database, "510121", "NH2014")[1] == 1000
    with signed_in(web_database, CLERK) as clerk:
        page = clerk.get(f"/requests/{number}")
        closed = clerk.post(
            f"/requests/{number}/close", data=base(page.text, "close-form"), follow_redirects=False
        )
        assert closed.status_code == 303
        shown = clerk.get(f"/requests/{number}").text
    assert requests.get(web_database, number).status == "closed"
    assert balance(web_database, "510121", "NH2014")[1] == 0
    assert "已关闭" in shown and "未发部分取消" in shown  # the timeline says why


def test_a_close_refused_is_shown_on_the_page(web_database):
    number = made(web_database, status="approved", BYT=30)
    from ledger.services.request_models import Ship, ShipLine

    requests.ship(web_database, number, Ship((ShipLine("BYT", 9),)), None, TODAY)
    with signed_in(web_database, APPROVER) as approver:
        page = approver.get(f"/requests/{number}")
        refused = approver.post(f"/requests/{number}/close", data=base(page.text, "close-form"))
    assert refused.status_code == 409
    assert "还有 1 张发货单未签收" in refused.text
    assert requests.get(web_database, number).status == "approved"


def test_a_rows_unit_choice_follows_the_item(shared_web):
    _client, database = shared_web
    with signed_in(database, REQUESTER) as requester:
        fragment = requester.get("/requests/units?row=2&item_code=BYT")
        assert fragment.status_code == 200
        assert 'id="unit-2"' in fragment.text
        assert "只（基本单位）" in fragment.text and "盒（3 只）" in fragment.text
        assert "箱（720 只）" in fragment.text and "捆" not in fragment.text
        page = requester.get("/requests/new")
        assert 'hx-get="/requests/units?row=0"' in page.text
        assert csrf_of(page.text)


def test_an_error_above_the_form_when_no_line_is_filled(web_database):
    with signed_in(web_database, REQUESTER) as requester:
        page = requester.get("/requests/new")
        answer = requester.post(
            "/requests/new",
            data={
                **base(page.text, "request-form"),
                "item_code": ["", ""],
                "quantity": ["", ""],
                "unit": ["", ""],
                "memo": "",
            },
        )
    assert answer.status_code == 422
    assert "至少需要一行" in error_beside(answer.text, "lines")
