"""签收 of a shipment of no request (/vouchers/{number}/confirm): the county's clerk issues to
赵家镇 (出库), 赵家镇's requester confirms it in full, or short in two steps (refused first with
the missing lines shown, then with the reason), with the ledger read through the services
afterwards; refusals beside their field, another place refused (403), a confirmed shipment
refused in Chinese, a form without its CSRF token refused, a form sent twice confirming once;
the voucher page's 签收 button only for the receiver while the shipment is in transit."""

from __future__ import annotations

import re

from ledger import commands as c
from ledger.services import requests
from ledger.services.balances import BalanceQuery, balances
from ledger.services.ledger import execute
from ledger.services.request_models import Approve, CreateRequest, RequestLineIn, Ship, ShipLine
from ledger.services.shipment_requests import request_of
from ledger.services.vouchers import voucher
from tests.conftest import TODAY
from tests.web.conftest import csrf_of
from tests.web.requests_support import alert_of, base, error_beside, form_html, signed_in

REQUESTER, CLERK, ADMIN = "requester@510121-zj", "clerk@510121", "admin@510100"
TOWN = "510121-ZJ"
BYT, NH = ("BYT", "BYT-2503"), ("NH2014", "2014-01")  # the batches 金堂县 ships first


def issue(database, to: str = TOWN) -> str:
    """出库 from 金堂县: 10 盒 (30 只) of 避孕套 and 2 捆 (1,000 张) of 年画, no request."""
    lines = (c.LineSpec("BYT", 10, unit="盒"), c.LineSpec("NH2014", 1000))
    shipment = execute(database, c.Issue("510121", to, lines, TODAY, "下发"), None, TODAY)
    return shipment.number


def on_hand(database, location: str, item_batch: tuple[str, str]) -> int:
    query = BalanceQuery(location_code=location, item_code=item_batch[0])
    return sum(b.on_hand for b in balances(database, query) if b.batch_number == item_batch[1])


def in_transit(database, item_batch: tuple[str, str]) -> int:
    query = BalanceQuery(location_code="in-transit", virtual=True, item_code=item_batch[0])
    return sum(b.on_hand for b in balances(database, query) if b.batch_number == item_batch[1])


def figures(database) -> tuple[int, ...]:
    return (
        on_hand(database, TOWN, BYT),
        on_hand(database, TOWN, NH),
        in_transit(database, BYT),
        in_transit(database, NH),
    )


def sent(page: str, received: list[str], units: list[str], **more) -> dict:
    return {
        **base(page, "confirm-form"),
        "item_code": [BYT[0], NH[0]],
        "batch_number": [BYT[1], NH[1]],
        "received": received,
        "received_unit": units,
        "occurred_on": TODAY.isoformat(),
        "memo": "",
        **more,
    }


def test_a_shipment_confirmed_in_full_goes_to_its_confirmation(web_database):
    number = issue(web_database)
    before = figures(web_database)
    with signed_in(web_database, REQUESTER) as requester:
        page = requester.get(f"/vouchers/{number}/confirm")
        assert page.status_code == 200
        form = form_html(page.text, "confirm-form")
        # each line: item, batch, expiry, shipped in packs with base units, received prefilled
        row = re.search(r'<tr data-item="BYT".*?</tr>', form, re.S).group(0)
        assert "BYT-2503" in row and "2028-05-30" in row and "10 盒（30 只）" in row
        assert 'name="received" inputmode="numeric" value="10"' in row
        assert '<option value="盒" selected>' in row
        assert "2 捆（1,000 张）" in form
        answer = requester.post(
            f"/vouchers/{number}/confirm",
            data=sent(page.text, ["10", "1000"], ["盒", ""]),
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        confirmation = voucher(web_database, number).confirmation
        assert confirmation and answer.headers["location"] == f"/vouchers/{confirmation}"
        shown = requester.get(answer.headers["location"])
    assert shown.status_code == 200 and number in shown.text
    after = figures(web_database)
    assert after == (before[0] + 30, before[1] + 1000, before[2] - 30, before[3] - 1000)


def test_a_short_arrival_is_refused_first_then_confirmed_with_its_reason(web_database):
    number = issue(web_database)
    before = figures(web_database)
    with signed_in(web_database, REQUESTER) as requester:
        page = requester.get(f"/vouchers/{number}/confirm")
        typed = sent(page.text, ["9", "1000"], ["盒", ""])  # one 盒 (3 只) missing
        action = f"/vouchers/{number}/confirm"
        first = requester.post(action, data=typed, follow_redirects=False)
        assert first.status_code == 409
        assert "到货不足，尚未确认短少" in error_beside(first.text, "shortage")
        step = form_html(first.text, "confirm-form")
        table = re.search(rf'id="shortage-{number}".*?</table>', step, re.S).group(0)
        assert "避孕套" in table and "BYT-2503" in table and "1 盒（3 只）" in table
        assert "年画" not in table  # arrived in full
        assert '<option value="" selected>请选择</option>' in step  # no reason chosen for her
        assert 'value="9"' in step  # what she typed is kept
        assert voucher(web_database, number).confirmation is None
        assert figures(web_database) == before
        second = requester.post(
            action,
            data={
                **typed,
                "once": base(first.text, "confirm-form")["once"],
                "short_item": "BYT",
                "short_batch": "BYT-2503",
                "short_quantity": "3",
                "shortage_reason": "damaged",
                "shortage_note": "",
            },
            follow_redirects=False,
        )
        assert second.status_code == 303, second.text
    confirmation = voucher(web_database, number).confirmation
    assert confirmation and second.headers["location"] == f"/vouchers/{confirmation}"
    posted = voucher(web_database, confirmation).transaction
    assert posted.reason == "damaged"
    legs = {(p.location_code, p.item_code): p.quantity for p in posted.postings}
    assert legs[(TOWN, "BYT")] == 27 and legs[("adjustment", "BYT")] == 3
    after = figures(web_database)
    # nothing left in transit of this shipment: 27 arrived, 3 written off as short
    assert after == (before[0] + 27, before[1] + 1000, before[2] - 30, before[3] - 1000)


def test_the_shortage_step_asks_for_a_reason_and_a_note_for_other(web_database):
    number = issue(web_database)
    before = figures(web_database)
    with signed_in(web_database, REQUESTER) as requester:
        page = requester.get(f"/vouchers/{number}/confirm")
        typed = sent(page.text, ["30", "900"], ["", ""])  # 100 张 年画 missing
        action = f"/vouchers/{number}/confirm"
        first = requester.post(action, data=typed, follow_redirects=False)
        step = {
            **typed,
            "short_item": "NH2014",
            "short_batch": "2014-01",
            "short_quantity": "100",
            "shortage_note": "",
        }
        none = requester.post(
            action,
            data={**step, "once": base(first.text, "confirm-form")["once"], "shortage_reason": ""},
            follow_redirects=False,
        )
        assert none.status_code == 422
        assert error_beside(none.text, "shortage.reason") == "请选择短少原因"
        other = requester.post(
            action,
            data={
                **step,
                "once": base(none.text, "confirm-form")["once"],
                "shortage_reason": "other",
            },
            follow_redirects=False,
        )
        assert other.status_code == 422
        assert error_beside(other.text, "shortage.note") == "短少原因为“其他”时须填写说明"
        assert '<option value="other" selected>' in other.text
        assert voucher(web_database, number).confirmation is None
        assert figures(web_database) == before
        noted = requester.post(
            action,
            data={
                **step,
                "once": base(other.text, "confirm-form")["once"],
                "shortage_reason": "other",
                "shortage_note": "村里借用一百张",
            },
            follow_redirects=False,
        )
        assert noted.status_code == 303, noted.text
    assert on_hand(web_database, TOWN, NH) == before[1] + 900


def test_a_received_quantity_wrong_is_refused_beside_its_line(web_database):
    number = issue(web_database)
    with signed_in(web_database, REQUESTER) as requester:
        page = requester.get(f"/vouchers/{number}/confirm")
        action = f"/vouchers/{number}/confirm"
        answer = requester.post(action, data=sent(page.text, ["11", "1000"], ["盒", ""]))
        assert answer.status_code == 422
        assert "实收不能为 33" in error_beside(answer.text, "received[0].quantity_received")
        typed = requester.post(action, data=sent(page.text, ["两盒", "1000"], ["盒", ""]))
        assert "请填写 0 或正整数" in error_beside(typed.text, "received[0].quantity_received")
    assert voucher(web_database, number).confirmation is None


def test_anybody_but_the_receiver_is_refused(web_database):
    number = issue(web_database)
    with signed_in(web_database, REQUESTER) as requester:
        data = sent(requester.get(f"/vouchers/{number}/confirm").text, ["10", "1000"], ["盒", ""])
    with signed_in(web_database, CLERK) as clerk:  # the sender sees it but does not confirm it
        shown = clerk.get(f"/vouchers/{number}")
        assert shown.status_code == 200
        page = clerk.get(f"/vouchers/{number}/confirm")
        assert page.status_code == 403 and "只有收货方 510121-ZJ 可以签收" in page.text
        refused = clerk.post(
            f"/vouchers/{number}/confirm", data={**data, "_csrf": csrf_of(shown.text)}
        )
        assert refused.status_code == 403 and "只有收货方 510121-ZJ 可以签收" in refused.text
    with signed_in(web_database, "approver@510121") as approver:  # no role that confirms
        assert approver.get(f"/vouchers/{number}/confirm").status_code == 403
    with signed_in(web_database, REQUESTER) as requester:
        other = issue(web_database, to="510121-HK")  # 淮口镇's, out of 赵家镇's reach
        assert requester.get(f"/vouchers/{other}/confirm").status_code == 403
    assert voucher(web_database, number).confirmation is None


def test_an_admin_of_the_city_confirms_for_a_place_without_its_own_user(web_database):
    number = issue(web_database, to="510121-HK")  # 淮口镇 has no user in the demo
    with signed_in(web_database, ADMIN) as admin:
        page = admin.get(f"/vouchers/{number}")
        assert f'href="/vouchers/{number}/confirm"' in page.text
        form = admin.get(f"/vouchers/{number}/confirm")
        answer = admin.post(
            f"/vouchers/{number}/confirm",
            data=sent(form.text, ["10", "2"], ["盒", "捆"]),
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
    assert voucher(web_database, number).confirmation is not None


def test_a_confirmed_shipment_is_refused_in_chinese(web_database):
    number = issue(web_database)
    with signed_in(web_database, REQUESTER) as requester:
        page = requester.get(f"/vouchers/{number}/confirm")
        done = execute(web_database, c.Confirm(number, occurred_on=TODAY), None, TODAY)
        answer = requester.post(
            f"/vouchers/{number}/confirm",
            data=sent(page.text, ["10", "1000"], ["盒", ""]),
            follow_redirects=False,
        )
        assert answer.status_code == 409
        assert alert_of(answer.text) == f"{number} 已由 {done.number} 签收"
        assert 'id="confirm-form"' not in answer.text
        again = requester.get(f"/vouchers/{number}/confirm")
        assert again.status_code == 200 and 'id="confirm-form"' not in again.text
        assert f"已由 {done.number} 签收" in again.text
        # the confirmation is no shipment: nothing to sign for
        not_shipment = requester.get(f"/vouchers/{done.number}/confirm")
        assert not_shipment.status_code == 422 and "不是出库或调拨单" in not_shipment.text
    assert voucher(web_database, number).confirmation == done.number


def test_a_form_without_its_csrf_token_is_refused(web_database):
    number = issue(web_database)
    before = figures(web_database)
    with signed_in(web_database, REQUESTER) as requester:
        data = sent(requester.get(f"/vouchers/{number}/confirm").text, ["10", "1000"], ["盒", ""])
        del data["_csrf"]
        assert requester.post(f"/vouchers/{number}/confirm", data=data).status_code == 403
        forged = {**data, "_csrf": "not-the-token"}
        assert requester.post(f"/vouchers/{number}/confirm", data=forged).status_code == 403
    assert voucher(web_database, number).confirmation is None
    assert figures(web_database) == before


def test_a_form_sent_twice_confirms_once(web_database):
    number = issue(web_database)
    before = figures(web_database)
    with signed_in(web_database, REQUESTER) as requester:
        data = sent(requester.get(f"/vouchers/{number}/confirm").text, ["10", "1000"], ["盒", ""])
        first = requester.post(f"/vouchers/{number}/confirm", data=data, follow_redirects=False)
        second = requester.post(f"/vouchers/{number}/confirm", data=data, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert figures(web_database)[:2] == (before[0] + 30, before[1] + 1000)


def request_shipment(database) -> tuple[str, str]:
    """A request of 赵家镇 approved and shipped by 金堂县: (request, shipment)."""
    rq = requests.create(
        database, CreateRequest(TOWN, (RequestLineIn("BYT", 3, "盒"),)), None, TODAY
    )
    requests.submit(database, rq.number, None, TODAY)
    requests.approve(database, rq.number, Approve((RequestLineIn("BYT", 3, "盒"),)), None, TODAY)
    shipped = requests.ship(database, rq.number, Ship((ShipLine("BYT", 9),)), None, TODAY)
    return rq.number, shipped.number


def test_the_voucher_page_offers_sign_only_to_the_receiver_while_in_transit(web_database):
    number = issue(web_database)
    button = f'id="voucher-confirm" href="/vouchers/{number}/confirm"'
    with signed_in(web_database, REQUESTER) as requester:
        assert button in requester.get(f"/vouchers/{number}").text
    with signed_in(web_database, CLERK) as clerk:  # the sender: no button
        assert 'id="voucher-confirm"' not in clerk.get(f"/vouchers/{number}").text
    done = execute(web_database, c.Confirm(number, occurred_on=TODAY), None, TODAY)
    with signed_in(web_database, REQUESTER) as requester:
        assert 'id="voucher-confirm"' not in requester.get(f"/vouchers/{number}").text
        # the confirmation itself is no shipment: no button either
        assert 'id="voucher-confirm"' not in requester.get(f"/vouchers/{done.number}").text


def test_a_request_shipment_is_confirmed_on_its_request_page(web_database):
    rq, shipment = request_shipment(web_database)
    assert request_of(web_database, shipment) == rq
    target = f"/requests/{rq}#confirm-{shipment}"
    with signed_in(web_database, REQUESTER) as requester:
        page = requester.get(f"/vouchers/{shipment}")
        assert f'id="voucher-confirm" href="{target}"' in page.text
        sent_on = requester.get(f"/vouchers/{shipment}/confirm", follow_redirects=False)
        assert sent_on.status_code == 303 and sent_on.headers["location"] == target
        assert f'id="confirm-{shipment}"' in requester.get(f"/requests/{rq}").text
        # a form posted here anyway is not confirmed by the plain use case
        other = issue(web_database)
        form = requester.get(f"/vouchers/{other}/confirm").text
        answer = requester.post(
            f"/vouchers/{shipment}/confirm",
            data={**base(form, "confirm-form"), "item_code": "BYT", "batch_number": BYT[1]},
        )
        assert answer.status_code == 409
        assert f"是申领单 {rq} 的发货单" in answer.text
    assert voucher(web_database, shipment).confirmation is None
