"""申领 pages: the whole flow through the pages as the demo's users — the requester at 赵家镇
creates and submits, the county's approver approves in part, its clerk ships the FEFO batch,
the requester confirms with a shortage (asked for its reason first) — with the ledger checked
after each step against the services, independently of the pages."""

from __future__ import annotations

from ledger.services import requests
from ledger.services.balances import BalanceQuery, balances
from tests.conftest import TODAY
from tests.web.requests_support import alert_of, base, error_beside, form_html, signed_in

REQUESTER, APPROVER, CLERK = "requester@510121-zj", "approver@510121", "clerk@510121"


def balance(database, location: str, item: str) -> tuple[int, int]:
    """(on hand, reserved) of an item at a location, all batches."""
    lines = balances(database, BalanceQuery(location_code=location, item_code=item))
    return sum(b.on_hand for b in lines), sum(b.reserved for b in lines)


def lines_of(database, number: str) -> dict:
    found = requests.get(database, number)
    return {line.item_code: line for line in found.lines}


def create_and_submit(client) -> str:
    """The requester's part through the pages: a new request (10 盒 避孕套, 2 捆 年画), submitted."""
    page = client.get("/requests/new")
    assert page.status_code == 200
    assert 'id="request-form"' in page.text and "保存草稿" in page.text
    answer = client.post(
        "/requests/new",
        data={
            **base(page.text, "request-form"),
            "requester_code": "510121-ZJ",
            "item_code": ["BYT", "NH2014", ""],
            "quantity": ["10", "2", ""],
            "unit": ["盒", "捆", ""],
            "memo": "下半年宣传",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    number = answer.headers["location"].rsplit("/", 1)[1]
    detail = client.get(f"/requests/{number}")
    assert "草稿" in detail.text and "提交审批" in detail.text
    submitted = client.post(
        f"/requests/{number}/submit", data=base(detail.text, "submit-form"), follow_redirects=False
    )
    assert submitted.status_code == 303
    return number


def test_the_whole_flow_through_the_pages(web_database):
    database = web_database
    byt_county = balance(database, "510121", "BYT")
    nh_county = balance(database, "510121", "NH2014")
    byt_town = balance(database, "510121-ZJ", "BYT")
    with signed_in(database, REQUESTER) as requester:
        number = create_and_submit(requester)
    found = requests.get(database, number)
    assert found.status == "submitted" and found.memo == "下半年宣传"
    assert {c: line.requested for c, line in lines_of(database, number).items()} == {
        "BYT": 30,
        "NH2014": 1000,
    }

    with signed_in(database, APPROVER) as approver:
        page = approver.get(f"/requests/{number}")
        approve = form_html(page.text, "approve-form")
        assert 'value="30"' in approve and 'value="1000"' in approve  # prefilled as requested
        answer = approver.post(
            f"/requests/{number}/approve",
            data={
                **base(page.text, "approve-form"),
                "item_code": ["BYT", "NH2014"],
                "quantity": ["7", "1000"],
                "unit": ["盒", ""],
                "memo": "避孕套按库存核减",
            },
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
    lines = lines_of(database, number)
    assert requests.get(database, number).status == "approved"
    assert (lines["BYT"].approved, lines["NH2014"].approved) == (21, 1000)
    assert balance(database, "510121", "BYT") == (byt_county[0], byt_county[1] + 21)
    assert balance(database, "510121", "NH2014") == (nh_county[0], nh_county[1] + 1000)

    with signed_in(database, CLERK) as clerk:
        page = clerk.get(f"/requests/{number}")
        ship = form_html(page.text, "ship-form")
        suggested = requests.suggestion(database, number, TODAY)
        assert [(s.item_code, s.batch_number, s.quantity) for s in suggested] == [
            ("BYT", "BYT-2503", 21),
            ("NH2014", "2014-01", 1000),
        ]
        assert 'value="BYT-2503" selected' in ship and "有效期至 2028-05-30" in ship
        assert 'value="21"' in ship and 'value="1000"' in ship
        answer = clerk.post(
            f"/requests/{number}/ship",
            data={
                **base(page.text, "ship-form"),
                "item_code": ["BYT", "NH2014"],
                "batch_number": ["BYT-2503", "2014-01"],
                "quantity": ["21", "500"],  # a partial shipment of the 年画
                "unit": ["", ""],
                "override_reason": ["", ""],
                "occurred_on": TODAY.isoformat(),
                "memo": "",
            },
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
    found = requests.get(database, number)
    assert found.status == "approved" and len(found.shipments) == 1
    shipment = found.shipments[0].number
    lines = lines_of(database, number)
    assert (lines["BYT"].issued, lines["NH2014"].issued) == (21, 500)
    assert (lines["BYT"].outstanding, lines["NH2014"].outstanding) == (0, 500)
    assert balance(database, "510121", "BYT") == (byt_county[0] - 21, byt_county[1])
    assert balance(database, "510121", "NH2014") == (nh_county[0] - 500, nh_county[1] + 500)

    with signed_in(database, REQUESTER) as requester:
        page = requester.get(f"/requests/{number}")
        confirm_id = f"confirm-{shipment}"
        form = form_html(page.text, confirm_id)
        assert "BYT-2503" in form and 'value="21"' in form
        sent = {
            **base(page.text, confirm_id),
            "item_code": ["BYT", "NH2014"],
            "batch_number": ["BYT-2503", "2014-01"],
            "received": ["18", "500"],
            "occurred_on": TODAY.isoformat(),
            "memo": "",
        }
        action = f"/requests/{number}/shipments/{shipment}/confirm"
        first = requester.post(action, data=sent, follow_redirects=False)
        # the first sending shows what is missing and asks for the reason; nothing posted
        assert first.status_code == 409
        assert "到货不足，尚未确认短少" in error_beside(first.text, "shortage")
        step = form_html(first.text, confirm_id)
        assert "短少确认" in step and 'name="shortage_reason"' in step
        assert "3 只" in step and "1 盒（3 只）" in step
        assert requests.get(database, number).shipments[0].confirmation_number is None
        assert balance(database, "510121-ZJ", "BYT") == byt_town
        second = requester.post(
            action,
            data={
                **sent,
                "once": base(first.text, confirm_id)["once"],
                "short_item": "BYT",
                "short_batch": "BYT-2503",
                "short_quantity": "3",
                "shortage_reason": "damaged",
                "shortage_note": "",
            },
            follow_redirects=False,
        )
        assert second.status_code == 303, second.text
        done = requester.get(f"/requests/{number}")
    found = requests.get(database, number)
    assert found.shipments[0].confirmation_number is not None
    lines = lines_of(database, number)
    assert (lines["BYT"].received, lines["BYT"].short) == (18, 3)
    assert (lines["NH2014"].received, lines["NH2014"].short) == (500, 0)
    assert balance(database, "510121-ZJ", "BYT") == (byt_town[0] + 18, byt_town[1])
    assert found.status == "approved"  # 500 张 年画 still to ship
    # the page shows the lines, the shipment confirmed and who did what, in order
    timeline = done.text[done.text.index('id="request-timeline"') :]
    said = [word for word in ("新建", "提交", "批准", "发货", "签收") if word in timeline]
    assert said == ["新建", "提交", "批准", "发货", "签收"]
    positions = [timeline.index(w) for w in said]
    assert positions == sorted(positions)
    for who in ("赵家镇计生办", "金堂县审批", "金堂县仓库保管员"):
        assert who in timeline
    assert found.shipments[0].confirmation_number in done.text
    assert "1 盒（3 只）" in done.text  # the short line, in packs with base units beside
    assert alert_of(done.text) == ""
