"""出入库 forms under the ledger's rules: refusals beside the input at fault in Chinese (an expired
batch, more than on hand, half a pack), a form posted once however often it is sent, and who
may use the forms where (the clerk at its location, an admin in its city, nobody else; never
without the CSRF token)."""

from __future__ import annotations

from tests.web.conftest import csrf_of, sign_in, signed_in_client
from tests.web.movements_support import (
    count_kind,
    error_beside,
    on_hand,
    open_form,
    post_form,
    posted_number,
    stock_batches_for_fefo,
    value_of,
    voucher,
)


def test_an_expired_batch_is_refused_beside_the_batch_field(web, web_database):
    stock_batches_for_fefo(web_database)
    sign_in(web, "clerk@510121")
    fields = {"item_0": "BYT", "batch_0": "BYT-OLD", "qty_0": "3", "destination_code": "510121-ZJ"}
    refused = post_form(web, "/movements/issue", fields)
    assert refused.status_code == 422
    message = error_beside(refused.text, "batch_0")
    assert "BYT-OLD" in message and "已于 2026-03-31 过期" in message and "不能出库" in message
    assert "(" not in message  # the Chinese, without the English gloss
    assert on_hand(web_database, "510121", "BYT", "BYT-OLD") == 30
    also = post_form(web, "/movements/distribution", {**fields, "destination_code": ""})
    assert also.status_code == 422 and "过期" in error_beside(also.text, "batch_0")
    # a write-off takes the expired batch
    answer = post_form(web, "/movements/write-off", {**fields, "qty_0": "30", "reason": "expired"})
    posted_number(answer)
    assert on_hand(web_database, "510121", "BYT", "BYT-OLD") == 0


def test_more_than_on_hand_is_refused_beside_the_quantity_of_its_line(web, web_database):
    sign_in(web, "clerk@510121")
    have = on_hand(web_database, "510121", "NH2014", "2014-01")
    fields = {
        "rows": "2",
        "item_0": "GT2014",
        "qty_0": "1",
        "item_1": "NH2014",
        "batch_1": "2014-01",
        "qty_1": str(have + 1),
    }
    refused = post_form(web, "/movements/distribution", fields)
    assert refused.status_code == 422
    assert f"库存仅 {have}" in error_beside(refused.text, "qty_1")
    assert error_beside(refused.text, "qty_0") == ""
    assert value_of(refused.text, "qty_1") == str(have + 1)
    assert on_hand(web_database, "510121", "NH2014", "2014-01") == have


def test_a_fefo_line_short_of_stock_is_refused_beside_its_quantity(web, web_database):
    sign_in(web, "clerk@510121")
    have = on_hand(web_database, "510121", "DY2014", "2014-01")
    refused = post_form(
        web, "/movements/distribution", {"item_0": "DY2014", "qty_0": str(have + 1)}
    )
    assert refused.status_code == 422 and "不足" in error_beside(refused.text, "qty_0")


def test_half_a_pack_is_refused_and_whole_packs_convert(web, web_database):
    sign_in(web, "clerk@510121")
    fields = {"item_0": "NH2014", "unit_0": "捆", "qty_0": "2.5"}
    refused = post_form(web, "/movements/distribution", fields)
    assert refused.status_code == 422
    message = error_beside(refused.text, "qty_0")
    assert "整捆" in message and "张" in message
    before = on_hand(web_database, "510121", "NH2014", "2014-01")
    posted_number(post_form(web, "/movements/distribution", {**fields, "qty_0": "2"}))
    assert on_hand(web_database, "510121", "NH2014", "2014-01") == before - 1000


def test_an_unknown_unit_and_a_missing_item_are_shown_beside_their_inputs(web):
    sign_in(web, "clerk@510121")
    unknown = post_form(
        web, "/movements/distribution", {"item_0": "NH2014", "unit_0": "箱", "qty_0": "1"}
    )
    assert unknown.status_code == 422 and "没有计量单位" in error_beside(unknown.text, "qty_0")
    empty = post_form(web, "/movements/distribution", {"qty_0": "3"})
    assert empty.status_code == 422 and error_beside(empty.text, "item_0") == "请选择物资"
    nothing = post_form(web, "/movements/distribution", {})
    assert nothing.status_code == 422 and "至少填写一行" in error_beside(nothing.text, "item_0")
    no_place = post_form(web, "/movements/issue", {"item_0": "NH2014", "qty_0": "1"})
    assert error_beside(no_place.text, "destination_code") == "请选择接收库点"


def test_the_same_form_sent_twice_posts_once(web, web_database):
    sign_in(web, "clerk@510121")
    opened = open_form(web, "/movements/distribution")
    fields = {"item_0": "NH2014", "batch_0": "2014-01", "qty_0": "7"}
    before = (
        count_kind(web_database, "distribution"),
        on_hand(web_database, "510121", "NH2014", "2014-01"),
    )
    first = posted_number(post_form(web, "/movements/distribution", fields, opened))
    again = posted_number(post_form(web, "/movements/distribution", fields, opened))
    assert again == first
    assert count_kind(web_database, "distribution") == before[0] + 1
    assert on_hand(web_database, "510121", "NH2014", "2014-01") == before[1] - 7
    other = post_form(web, "/movements/distribution", {**fields, "qty_0": "8"}, opened)
    assert other.status_code == 409  # the same key with other content: refused, not posted
    assert count_kind(web_database, "distribution") == before[0] + 1
    fresh = post_form(
        web, "/movements/distribution", {**fields, "qty_0": "8"}, {**opened, "once": ""}
    )
    assert posted_number(fresh) != first  # a form without a key simply posts


def test_a_refused_form_comes_back_with_a_new_once_key(web):
    sign_in(web, "clerk@510121")
    opened = open_form(web, "/movements/distribution")
    refused = post_form(web, "/movements/distribution", {"item_0": "NH2014", "qty_0": "0"}, opened)
    assert refused.status_code == 422 and "大于零" in error_beside(refused.text, "qty_0")
    assert f'value="{opened["once"]}"' not in refused.text


def test_a_requester_or_an_approver_is_refused(web_database):
    before = count_kind(web_database, "receipt")
    for login in ("requester@510121-zj", "approver@510121"):
        client = signed_in_client(web_database, login)
        try:
            assert client.get("/movements").status_code == 403
            assert client.get("/movements/receipt").status_code == 403
            assert client.get("/movements/line?kind=issue&row=0&item_0=BYT").status_code == 403
            assert client.get("/movements/reversal?number=RK-2026-000001").status_code == 403
            token = csrf_of(client.get("/").text)
            answer = client.post(
                "/movements/receipt",
                data={"_csrf": token, "item_0": "NH2014", "batch_0": "X1", "qty_0": "1"},
            )
            assert answer.status_code == 403 and "无权" in answer.text
        finally:
            client.__exit__(None, None, None)
    assert count_kind(web_database, "receipt") == before


def test_a_clerk_works_only_at_its_own_location(web, web_database):
    sign_in(web, "clerk@510121")
    assert web.get("/movements?location=510121-ZJ").status_code == 403
    assert web.get("/movements/issue?location=510100").status_code == 403
    assert (
        web.get("/movements/line?kind=issue&row=0&location=510100&item_0=NH2014").status_code == 403
    )
    before = on_hand(web_database, "510121-ZJ", "NH2014", "2014-01")
    answer = post_form(
        web, "/movements/distribution", {"location": "510121-ZJ", "item_0": "NH2014", "qty_0": "1"}
    )
    assert answer.status_code == 403
    assert on_hand(web_database, "510121-ZJ", "NH2014", "2014-01") == before


def test_an_admin_works_anywhere_in_its_city_and_nowhere_else(web, web_database):
    sign_in(web, "admin@510100")
    menu = web.get("/movements?location=510121")
    assert menu.status_code == 200 and 'href="/movements/issue?location=510121"' in menu.text
    assert "金堂县" in menu.text and 'name="location"' in menu.text
    answer = post_form(
        web,
        "/movements/issue?location=510121",
        {"location": "510121", "item_0": "NH2014", "qty_0": "10", "destination_code": "510121-HK"},
    )
    posted = voucher(web_database, posted_number(answer))
    assert posted.location_code == "510121" and posted.counterparty_code == "510121-HK"
    assert web.get("/movements?location=distributed").status_code == 403


def test_a_post_without_the_csrf_token_is_refused(web, web_database):
    sign_in(web, "clerk@510121")
    opened = open_form(web, "/movements/distribution")
    before = count_kind(web_database, "distribution")
    data = {"once": opened["once"], "action": "post", "item_0": "NH2014", "qty_0": "1"}
    answer = web.post("/movements/distribution", data=data, follow_redirects=False)
    assert answer.status_code == 403
    forged = web.post(
        "/movements/distribution", data={**data, "_csrf": "forged"}, follow_redirects=False
    )
    assert forged.status_code == 403
    assert count_kind(web_database, "distribution") == before
