"""出入库 forms: each posts the voucher it says (checked in the ledger's balances), quantities in
packs become base units, several lines go on one voucher, and 「再加一行」 works without a
script."""

from __future__ import annotations

import datetime as dt

from ledger.services import lookups, pickers
from tests.web.conftest import sign_in
from tests.web.movements_support import (
    error_beside,
    on_hand,
    open_form,
    post_form,
    posted_number,
    value_of,
    voucher,
)


def test_the_menu_lists_the_forms_and_the_locations_latest_vouchers(web, web_database):
    sign_in(web, "clerk@510121")
    page = web.get("/movements")
    assert page.status_code == 200
    for path in ("receipt", "issue", "distribution", "return", "write-off", "reversal"):
        assert f'href="/movements/{path}' in page.text
    everything = lookups.transactions(
        web_database, lookups.TransactionFilter(location_code="510121"), 200, 0
    )
    latest = [t.number for t in reversed(everything)][:20]
    assert latest, "the demo has vouchers at 金堂县"
    shown = [n for n in latest if f'href="/vouchers/{n}"' in page.text]
    assert shown == latest
    positions = [page.text.index(f'href="/vouchers/{n}"') for n in latest]
    assert positions == sorted(positions), "newest first"
    city = lookups.transactions(
        web_database, lookups.TransactionFilter(location_code="510100"), 200, 0
    )
    elsewhere = [t.number for t in city if "510121" not in (t.location_code, t.counterparty_code)]
    assert elsewhere and not any(f">{n}<" in page.text for n in elsewhere)


def test_a_receipt_in_packs_posts_the_base_units(web, web_database):
    sign_in(web, "clerk@510121")
    answer = post_form(
        web,
        "/movements/receipt",
        {
            "item_0": "NH2014",
            "batch_0": "NH-2026A",
            "unit_0": "捆",
            "qty_0": "2",
            "memo": "印刷厂送货",
        },
    )
    number = posted_number(answer)
    posted = voucher(web_database, number)
    assert posted.kind == "receipt" and posted.location_code == "510121"
    assert posted.memo == "印刷厂送货" and posted.occurred_on == dt.date(2026, 6, 30)
    here = [p for p in posted.postings if p.location_code == "510121"]
    assert [(p.item_code, p.batch_number, p.quantity) for p in here] == [
        ("NH2014", "NH-2026A", 1000)
    ]
    assert on_hand(web_database, "510121", "NH2014", "NH-2026A") == 1000  # 2 捆 = 1,000 张
    shown = web.get(answer.headers["location"])
    assert shown.status_code == 200 and number in shown.text


def test_a_receipt_of_a_contraceptive_needs_its_expiry_beside_the_field(web, web_database):
    sign_in(web, "clerk@510121")
    fields = {"item_0": "BYT", "batch_0": "BYT-2606", "unit_0": "盒", "qty_0": "10"}
    refused = post_form(web, "/movements/receipt", fields)
    assert refused.status_code == 422
    assert "有效期至" in error_beside(refused.text, "expires_0")
    assert value_of(refused.text, "batch_0") == "BYT-2606"  # what was typed is kept
    assert value_of(refused.text, "qty_0") == "10"
    answer = post_form(web, "/movements/receipt", {**fields, "expires_0": "2029-06-30"})
    posted_number(answer)
    assert on_hand(web_database, "510121", "BYT", "BYT-2606") == 30  # 10 盒 of 3 只
    assert lookups.batch(web_database, "BYT", "BYT-2606").expires_on == dt.date(2029, 6, 30)


def test_an_issue_goes_to_a_location_below_into_transit(web, web_database):
    sign_in(web, "clerk@510121")
    form = web.get("/movements/issue")
    assert 'value="510121-ZJ"' in form.text and 'value="510121-HK"' in form.text
    assert 'value="510100"' not in form.text and 'value="510181"' not in form.text
    before = on_hand(web_database, "510121", "NH2014", "2014-01")
    answer = post_form(
        web,
        "/movements/issue",
        {"item_0": "NH2014", "unit_0": "捆", "qty_0": "2", "destination_code": "510121-ZJ"},
    )
    posted = voucher(web_database, posted_number(answer))
    assert posted.kind == "issue" and posted.counterparty_code == "510121-ZJ"
    assert on_hand(web_database, "510121", "NH2014", "2014-01") == before - 1000


def test_a_distribution_in_sets(web, web_database):
    sign_in(web, "clerk@510121")
    before = on_hand(web_database, "510121", "GT2014", "2014-01")
    answer = post_form(
        web,
        "/movements/distribution",
        {
            "item_0": "GT2014",
            "batch_0": "2014-01",
            "unit_0": "套",
            "qty_0": "3",
            "memo": "5.29 宣传活动",
        },
    )
    posted = voucher(web_database, posted_number(answer))
    assert posted.kind == "distribution"
    assert on_hand(web_database, "510121", "GT2014", "2014-01") == before - 12


def test_a_return_goes_to_the_parent(web, web_database):
    sign_in(web, "clerk@510121")
    page = web.get("/movements/return")
    assert "退回至" in page.text and "成都市" in page.text
    before = (
        on_hand(web_database, "510121", "DY2014", "2014-01"),
        on_hand(web_database, "510100", "DY2014", "2014-01"),
    )
    answer = post_form(web, "/movements/return", {"item_0": "DY2014", "unit_0": "捆", "qty_0": "1"})
    posted = voucher(web_database, posted_number(answer))
    assert posted.kind == "return" and posted.counterparty_code == "510100"
    assert on_hand(web_database, "510121", "DY2014", "2014-01") == before[0] - 1000
    assert on_hand(web_database, "510100", "DY2014", "2014-01") == before[1] + 1000


def test_a_write_off_needs_a_memo_for_other_and_keeps_its_reason(web, web_database):
    sign_in(web, "clerk@510121")
    page = web.get("/movements/write-off")
    for name in ("过期", "破损/霉变", "召回", "丢失", "其他"):
        assert name in page.text
    fields = {"item_0": "NH2014", "batch_0": "2014-01", "qty_0": "20", "reason": "other"}
    refused = post_form(web, "/movements/write-off", fields)
    assert refused.status_code == 422
    assert "摘要中说明" in error_beside(refused.text, "memo")
    before = on_hand(web_database, "510121", "NH2014", "2014-01")
    answer = post_form(
        web, "/movements/write-off", {**fields, "reason": "damaged", "memo": "仓库漏雨"}
    )
    posted = voucher(web_database, posted_number(answer))
    assert posted.kind == "write_off" and posted.reason == "damaged"
    assert on_hand(web_database, "510121", "NH2014", "2014-01") == before - 20


def test_add_a_line_without_a_script_then_post_both_lines_on_one_voucher(web, web_database):
    sign_in(web, "clerk@510121")
    opened = open_form(web, "/movements/distribution")
    typed = {**opened, "rows": "1", "item_0": "NH2014", "qty_0": "5", "unit_0": "张"}
    more = web.post("/movements/distribution", data={**typed, "action": "add_line"})
    assert more.status_code == 200
    assert 'name="item_1"' in more.text and 'name="qty_1"' in more.text
    assert value_of(more.text, "qty_0") == "5"  # what was typed is kept
    assert f'value="{opened["once"]}"' in more.text  # the same form: nothing was posted
    lines = {**typed, "rows": "2", "item_1": "GT2014", "qty_1": "1", "unit_1": "套"}
    answer = web.post(
        "/movements/distribution", data={**lines, "action": "post"}, follow_redirects=False
    )
    posted = voucher(web_database, posted_number(answer))
    here = sorted((p.item_code, p.quantity) for p in posted.postings if p.location_code == "510121")
    assert here == [("GT2014", -4), ("NH2014", -5)]


def test_the_batch_list_follows_the_item_in_fefo_order(web, web_database):
    from tests.web.movements_support import stock_batches_for_fefo

    stock_batches_for_fefo(web_database)
    sign_in(web, "clerk@510121")
    fragment = web.get(
        "/movements/line?kind=issue&row=0&item_0=BYT", headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text
    order = [fragment.text.index(f'value="{n}"') for n in ("BYT-OLD", "BYT-2601", "BYT-2503")]
    assert order == sorted(order), "earliest expiry first"
    expired = fragment.text[order[0] - 20 : fragment.text.index("</option>", order[0])]
    assert "disabled" in expired and "已过期" in expired and "2026-03-31" in expired
    assert "可用 20 盒（60 只）" in fragment.text  # BYT-2601 in packs, base units beside
    assert '<option value="盒"' in fragment.text and '<option value="箱"' in fragment.text
    choices = pickers.batch_choices(web_database, "510121", "BYT", dt.date(2026, 6, 30))
    assert [choice.number for choice in choices] == ["BYT-OLD", "BYT-2601", "BYT-2503"]
    write_off = web.get("/movements/line?kind=write-off&row=2&item_2=BYT")
    old = write_off.text.index('value="BYT-OLD"')
    assert 'name="batch_2"' in write_off.text
    assert "disabled" not in write_off.text[old - 20 : write_off.text.index("</option>", old)]
