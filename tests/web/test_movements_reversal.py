"""红冲 as a form: the voucher shown first, a reason and an explicit confirmation, posted once;
a voucher is reversed only once, never a reversal, never a confirmed shipment before its
confirmation, and only by the clerk where it was made (or an admin of its city)."""

from __future__ import annotations

import uuid

from ledger.services import pickers
from tests.web.conftest import sign_in
from tests.web.movements_support import (
    error_beside,
    on_hand,
    open_form,
    posted_number,
    receive,
    voucher,
)


def reverse(client, number: str, **fields):
    opened = open_form(client, f"/movements/reversal?number={number}")
    data = {**opened, "number": number, "confirmed": "yes", **fields}
    return client.post("/movements/reversal", data=data, follow_redirects=False)


def test_a_receipt_is_reversed_after_a_confirmation_and_only_once(web, web_database):
    made = receive(web_database, "510121", "NH2014", "NH-WRONG", 500)
    assert on_hand(web_database, "510121", "NH2014", "NH-WRONG") == 500
    sign_in(web, "clerk@510121")
    page = web.get(f"/movements/reversal?number={made.number}")
    assert page.status_code == 200
    assert made.number in page.text and "NH-WRONG" in page.text and "1 捆（500 张）" in page.text
    assert 'name="confirmed"' in page.text and "data-confirm" in page.text
    unconfirmed = reverse(web, made.number, confirmed="", memo="批号登记错")
    assert unconfirmed.status_code == 422 and "勾选确认" in error_beside(
        unconfirmed.text, "confirmed"
    )
    assert 'value="批号登记错"' in unconfirmed.text  # what was typed is kept
    assert on_hand(web_database, "510121", "NH2014", "NH-WRONG") == 500
    answer = reverse(web, made.number, memo="批号登记错")
    mirror = voucher(web_database, posted_number(answer))
    assert mirror.kind == "reversal" and mirror.reverses_sequence == made.sequence
    assert mirror.memo == "批号登记错"
    assert on_hand(web_database, "510121", "NH2014", "NH-WRONG") == 0
    assert pickers.reversal_of(web_database, made.number) == mirror.number
    again_page = web.get(f"/movements/reversal?number={made.number}")
    assert f'已被 <a href="/vouchers/{mirror.number}">{mirror.number}</a> 红冲' in again_page.text
    assert 'id="reversal-form"' not in again_page.text
    data = {
        "_csrf": open_form(web, "/movements/distribution")["_csrf"],
        "number": made.number,
        "confirmed": "yes",
    }
    twice = web.post("/movements/reversal", data={**data, "once": uuid.uuid4().hex})
    assert twice.status_code == 409
    assert f"已被 {mirror.number} 红冲" in twice.text
    of_reversal = web.post("/movements/reversal", data={**data, "number": mirror.number})
    assert of_reversal.status_code == 422 and "本身是红冲单" in of_reversal.text


def test_the_same_reversal_form_sent_twice_reverses_once(web, web_database):
    made = receive(web_database, "510121", "NH2014", "NH-TWICE", 100)
    sign_in(web, "clerk@510121")
    opened = open_form(web, f"/movements/reversal?number={made.number}")
    data = {**opened, "number": made.number, "confirmed": "yes", "memo": "重复"}
    first = posted_number(web.post("/movements/reversal", data=data, follow_redirects=False))
    second = posted_number(web.post("/movements/reversal", data=data, follow_redirects=False))
    assert first == second
    assert on_hand(web_database, "510121", "NH2014", "NH-TWICE") == 0


def test_a_confirmed_shipment_needs_its_confirmation_reversed_first(web):
    sign_in(web, "clerk@510121")
    refused = reverse(web, "CK-2026-000081")  # the demo's issue to 赵家镇, signed for
    assert refused.status_code == 409
    assert "请先红冲签收单" in refused.text


def test_an_unknown_number_is_shown_beside_the_number(web):
    sign_in(web, "clerk@510121")
    blank = web.get("/movements/reversal")
    assert blank.status_code == 200 and 'name="number"' in blank.text
    unknown = web.get("/movements/reversal?number=RK-2026-999999")
    assert unknown.status_code == 404 and error_beside(unknown.text, "number")


def test_only_the_clerk_where_it_was_made_reverses_it(web, web_database):
    city = receive(web_database, "510100", "NH2014", "NH-CITY", 100)
    sign_in(web, "clerk@510121")
    assert web.get(f"/movements/reversal?number={city.number}").status_code == 403
    data = {
        "_csrf": open_form(web, "/movements/distribution")["_csrf"],
        "number": city.number,
        "confirmed": "yes",
    }
    assert web.post("/movements/reversal", data=data).status_code == 403
    assert on_hand(web_database, "510100", "NH2014", "NH-CITY") == 100


def test_an_admin_of_the_city_reverses_anywhere_in_it(web, web_database):
    made = receive(web_database, "510121-ZJ", "NH2014", "NH-ZJ", 40)
    sign_in(web, "admin@510100")
    answer = reverse(web, made.number, memo="管理员红冲")
    assert voucher(web_database, posted_number(answer)).kind == "reversal"
    assert on_hand(web_database, "510121-ZJ", "NH2014", "NH-ZJ") == 0


def test_the_posted_page_shows_the_voucher_to_whoever_sees_it(web, web_database):
    made = receive(web_database, "510121", "GT2014", "GT-NEW", 8)
    sign_in(web, "clerk@510121")
    shown = web.get(f"/movements/done/{made.number}")
    assert shown.status_code == 200
    assert made.number in shown.text and "GT-NEW" in shown.text and "2 套（8 张）" in shown.text
    city = receive(web_database, "510100", "GT2014", "GT-CITY", 8)
    assert web.get(f"/movements/done/{city.number}").status_code == 403
