"""申领 pages: refusals shown in Chinese beside the field at fault (nothing written), the role
and reach of each user as the API has them, forms without the CSRF token refused, and a ship
form sent twice shipping once."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest

from ledger import commands as c
from ledger.services import requests
from ledger.services.ledger import execute
from ledger.services.request_models import Approve, CreateRequest, RequestLineIn, Ship, ShipLine
from tests.conftest import TODAY
from tests.web.conftest import csrf_of, sign_in
from tests.web.requests_support import base, error_beside, form_html, signed_in
from tests.web.test_requests_flow import (
    APPROVER,
    CLERK,
    REQUESTER,
    balance,
    create_and_submit,
    lines_of,
)


def made(database, requester: str = "510121-ZJ", status: str = "submitted", **lines) -> str:
    """A request made through the services (not the pages): submitted, or approved in full."""
    wanted = tuple(RequestLineIn(code, quantity) for code, quantity in lines.items())
    number = requests.create(database, CreateRequest(requester, wanted), None, TODAY).number
    requests.submit(database, number, None, TODAY)
    if status == "approved":
        requests.approve(database, number, Approve(wanted), None, TODAY)
    return number


def ship_data(page: str, **overrides) -> dict:
    data = {
        **base(page, "ship-form"),
        "item_code": ["BYT"],
        "batch_number": ["BYT-2503"],
        "quantity": ["30"],
        "unit": [""],
        "override_reason": [""],
        "occurred_on": TODAY.isoformat(),
        "memo": "",
    }
    data.update(overrides)
    return data


# ---- refusals beside their field ---------------------------------------------------------------------


def test_approving_more_than_requested_is_refused_beside_the_line(web_database):
    number = made(web_database, BYT=30, NH2014=1000)
    with signed_in(web_database, APPROVER) as approver:
        page = approver.get(f"/requests/{number}")
        answer = approver.post(
            f"/requests/{number}/approve",
            data={
                **base(page.text, "approve-form"),
                "item_code": ["BYT", "NH2014"],
                "quantity": ["30", "3"],
                "unit": ["", "捆"],  # 3 捆 = 1,500 张 > 1,000 requested
                "memo": "",
            },
        )
    assert answer.status_code == 422
    said = error_beside(answer.text, "lines[1].quantity")
    assert "批准 1500 超过申领 1000" in said and "(" not in said  # Chinese, no English gloss
    assert 'value="3"' in form_html(answer.text, "approve-form")  # what was typed is kept
    assert requests.get(web_database, number).status == "submitted"
    assert balance(web_database, "510121", "NH2014")[1] == 0


def test_rejecting_needs_a_reason(web_database):
    number = made(web_database, BYT=30)
    with signed_in(web_database, APPROVER) as approver:
        page = approver.get(f"/requests/{number}")
        empty = approver.post(
            f"/requests/{number}/reject", data={**base(page.text, "reject-form"), "reason": "  "}
        )
        assert empty.status_code == 422
        assert "不能为空" in error_beside(empty.text, "reason")
        assert requests.get(web_database, number).status == "submitted"
        given = approver.post(
            f"/requests/{number}/reject",
            data={**base(empty.text, "reject-form"), "reason": "本季度已足量下发"},
            follow_redirects=False,
        )
        assert given.status_code == 303
        shown = approver.get(f"/requests/{number}").text
    found = requests.get(web_database, number)
    assert (found.status, found.reject_reason) == ("rejected", "本季度已足量下发")
    assert "已驳回" in shown and "本季度已足量下发" in shown


def test_shipping_more_than_approved_is_refused_beside_the_line(web_database):
    number = made(web_database, status="approved", BYT=30)
    before = balance(web_database, "510121", "BYT")
    with signed_in(web_database, CLERK) as clerk:
        page = clerk.get(f"/requests/{number}")
        answer = clerk.post(f"/requests/{number}/ship", data=ship_data(page.text, quantity=["33"]))
    assert answer.status_code == 422
    assert "待发 30，本次 33 超出" in error_beside(answer.text, "lines[0].quantity")
    assert balance(web_database, "510121", "BYT") == before
    assert requests.get(web_database, number).shipments == ()


@pytest.fixture
def later_batch(web_database):
    """A second 避孕套 batch at the county, expiring later than the demo's, 6 只 of it."""
    execute(
        web_database,
        c.Receive(
            "510121",
            (c.ReceiptLine("BYT", "BYT-2612", 6, expires_on=dt.date(2029, 12, 31)),),
            occurred_on=TODAY,
        ),
        None,
        TODAY,
    )


def test_a_later_batch_than_fefo_needs_a_reason_and_more_than_it_holds_is_refused(
    web_database, later_batch
):
    number = made(web_database, status="approved", BYT=30)
    with signed_in(web_database, CLERK) as clerk:
        page = clerk.get(f"/requests/{number}")
        ship = form_html(page.text, "ship-form")
        assert "BYT-2612 · 有效期至 2029-12-31" in ship  # the batches offered, expiry shown
        assert 'value="BYT-2503" selected' in ship  # FEFO's, prefilled
        later = {"batch_number": ["BYT-2612"], "quantity": ["6"]}
        no_reason = clerk.post(f"/requests/{number}/ship", data=ship_data(page.text, **later))
        assert no_reason.status_code == 422
        assert "应先发近效期批次 BYT-2503" in error_beside(
            no_reason.text, "lines[0].override_reason"
        )
        too_many = clerk.post(
            f"/requests/{number}/ship",
            data=ship_data(
                no_reason.text,
                batch_number=["BYT-2612"],
                quantity=["9"],
                override_reason=["先发新到批次"],
            ),
        )
        assert too_many.status_code == 422
        assert "不足 9" in error_beside(too_many.text, "lines[0].quantity")
        assert requests.get(web_database, number).shipments == ()
        shipped = clerk.post(
            f"/requests/{number}/ship",
            data=ship_data(
                too_many.text,
                batch_number=["BYT-2612"],
                quantity=["6"],
                override_reason=["先发新到批次"],
            ),
            follow_redirects=False,
        )
        assert shipped.status_code == 303
    assert lines_of(web_database, number)["BYT"].issued == 6
    assert balance(web_database, "510121", "BYT")[0] == 1653  # 1,653 + 6 received − 6 shipped


def test_a_new_request_with_a_pack_the_item_lacks_is_refused_beside_the_row(web_database):
    with signed_in(web_database, REQUESTER) as requester:
        page = requester.get("/requests/new")
        answer = requester.post(
            "/requests/new",
            data={
                **base(page.text, "request-form"),
                "requester_code": "510121-ZJ",
                "item_code": ["", "NH2014", "LS2014"],
                "quantity": ["", "2", "x"],
                "unit": ["", "盒", ""],
                "memo": "",
            },
        )
        assert answer.status_code == 422
        assert "请填写大于零的整数" in error_beside(answer.text, "lines[2].quantity")
        fixed = requester.post(
            "/requests/new",
            data={
                **base(answer.text, "request-form"),
                "requester_code": "510121-ZJ",
                "item_code": ["", "NH2014", "LS2014"],
                "quantity": ["", "2", "5"],
                "unit": ["", "盒", ""],
                "memo": "",
            },
        )
    assert fixed.status_code == 422
    # the service counts filled rows (NH2014 is its lines[0]); the page names the row shown
    assert "没有计量单位 '盒'" in error_beside(fixed.text, "lines[1].quantity")
    assert requests.listed(web_database, None, None, 10, 0) == []


def test_a_shortage_of_other_needs_a_note(web_database):
    with signed_in(web_database, REQUESTER) as requester:
        number = create_and_submit(requester)
    requests.approve(web_database, number, Approve((RequestLineIn("BYT", 30),)), None, TODAY)
    shipment = requests.ship(web_database, number, Ship((ShipLine("BYT", 30),)), None, TODAY)
    with signed_in(web_database, REQUESTER) as requester:
        page = requester.get(f"/requests/{number}")
        form_id = f"confirm-{shipment.number}"
        sent = {
            **base(page.text, form_id),
            "item_code": "BYT",
            "batch_number": "BYT-2503",
            "received": "27",
            "short_item": "BYT",
            "short_batch": "BYT-2503",
            "short_quantity": "3",
            "shortage_reason": "other",
            "shortage_note": "",
        }
        answer = requester.post(
            f"/requests/{number}/shipments/{shipment.number}/confirm", data=sent
        )
        assert answer.status_code == 422
        assert "须填写说明" in error_beside(answer.text, "shortage.note")
        no_reason = requester.post(
            f"/requests/{number}/shipments/{shipment.number}/confirm",
            data={**sent, "once": base(answer.text, form_id)["once"], "shortage_reason": ""},
        )
        assert "请选择短少原因" in error_beside(no_reason.text, "shortage.reason")
    assert requests.get(web_database, number).shipments[0].confirmation_number is None


# ---- roles and reach ----------------------------------------------------------------------------------


def test_a_township_never_sees_another_townships_request(web_database):
    other = made(web_database, requester="510121-HK", BYT=3)
    with signed_in(web_database, REQUESTER) as requester:
        assert requester.get(f"/requests/{other}").status_code == 403
        listed = requester.get("/requests").text
        assert other not in listed
        page = requester.get("/requests/new")
        refused = requester.post(f"/requests/{other}/cancel", data=base(page.text, "request-form"))
        assert refused.status_code == 403 and "不在您的管辖范围内" in refused.text
        assert requester.get("/requests/SQ-1999-000001").status_code == 404
    with signed_in(web_database, APPROVER) as approver:  # the county sees its townships'
        assert other in approver.get("/requests").text
        assert approver.get(f"/requests/{other}").status_code == 200
    assert requests.get(web_database, other).status == "submitted"


def test_roles_the_api_refuses_are_refused_on_the_pages(web_database):
    number = made(web_database, BYT=30)
    with signed_in(web_database, APPROVER) as approver:
        assert approver.get("/requests/new").status_code == 403
        page = approver.get(f"/requests/{number}")
        assert 'id="ship-form"' not in page.text and 'id="submit-form"' not in page.text
        refused = approver.post(f"/requests/{number}/cancel", data={"_csrf": csrf_of(page.text)})
        assert refused.status_code == 403
    with signed_in(web_database, REQUESTER) as requester:
        page = requester.get(f"/requests/{number}")
        assert 'id="approve-form"' not in page.text  # a requester does not approve
        refused = requester.post(
            f"/requests/{number}/approve",
            data={"_csrf": csrf_of(page.text), "item_code": "BYT", "quantity": "30", "unit": ""},
        )
        assert refused.status_code == 403 and "无权" in refused.text
    assert requests.get(web_database, number).status == "submitted"
    requests.approve(web_database, number, Approve((RequestLineIn("BYT", 30),)), None, TODAY)
    with signed_in(web_database, "clerk@510100") as city_clerk:  # sees it; not its supplier
        page = city_clerk.get(f"/requests/{number}")
        assert page.status_code == 200 and 'id="ship-form"' not in page.text
        refused = city_clerk.post(
            f"/requests/{number}/ship",
            data={"_csrf": csrf_of(page.text), "item_code": "BYT", "quantity": "30"},
        )
        assert refused.status_code == 403
    assert requests.get(web_database, number).shipments == ()


def test_a_form_without_the_csrf_token_is_refused(web_database):
    with signed_in(web_database, REQUESTER) as requester:
        page = requester.get("/requests/new")
        data = {**base(page.text, "request-form"), "item_code": "BYT", "quantity": "3"}
        del data["_csrf"]
        refused = requester.post("/requests/new", data=data)
        assert refused.status_code == 403
        forged = requester.post("/requests/new", data={**data, "_csrf": "not-the-token"})
        assert forged.status_code == 403
    assert requests.listed(web_database, None, None, 10, 0) == []


def test_the_ship_form_sent_twice_ships_once(web_database):
    number = made(web_database, status="approved", BYT=30)
    before = balance(web_database, "510121", "BYT")
    with signed_in(web_database, CLERK) as clerk:
        page = clerk.get(f"/requests/{number}")
        data = ship_data(page.text)
        first = clerk.post(f"/requests/{number}/ship", data=data, follow_redirects=False)
        again = clerk.post(f"/requests/{number}/ship", data=data, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] == f"/requests/{number}"
    found = requests.get(web_database, number)
    assert len(found.shipments) == 1 and found.lines[0].issued == 30
    assert balance(web_database, "510121", "BYT") == (before[0] - 30, before[1] - 30)


def test_a_lines_form_of_too_many_rows_is_refused_not_drawn(web):
    sign_in(web, "requester@510121-zj")
    form = web.get("/requests/new")
    rows = [("item_code", ""), ("quantity", ""), ("unit", "")] * 20_001
    answer = web.post(
        "/requests/new",
        content=urlencode([("_csrf", csrf_of(form.text)), ("more", "1"), *rows]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 422, answer.text[-800:]
    assert "最多 200 行" in answer.text and len(answer.content) < 100_000
