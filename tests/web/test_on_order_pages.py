"""已申领未到 on the request form: after 赵家镇's request for 48 盒 (144 只) of 避孕套 is approved
and not yet shipped, /requests/new shows it on order and prefills only what is still short;
a draft being edited does not count its own lines. Figures from the balances and the requests'
own lines, not from the suggestion."""

from __future__ import annotations

import re

from ledger.services import requests
from ledger.services.request_models import Approve, CreateRequest, RequestLineIn
from ledger.services.stock_minimums import set_stock_minimum
from tests.conftest import TODAY
from tests.web.requests_support import signed_in
from tests.web.test_norm_pages import TOWNSHIP, on_hand, section, text

MINIMUM = 600  # 只: far above 赵家镇's AMC × 3 months, so the maximum is this floor


def on_order(database, item: str) -> int:
    """What 赵家镇's open requests still expect, from their own lines."""
    total = 0
    for found in requests.listed(database, None, None, 1000, 0):
        if found.requester_code != TOWNSHIP:
            continue
        for line in found.lines:
            if line.item_code == item and found.status == "submitted":
                total += line.requested
            elif line.item_code == item and found.status == "approved":
                total += (line.approved or 0) - line.issued
    return total


def ask(database, quantity: int, approve: bool) -> str:
    made = requests.create(
        database, CreateRequest(TOWNSHIP, (RequestLineIn("BYT", quantity),)), None, TODAY
    )
    if approve:
        requests.submit(database, made.number, None, TODAY)
        requests.approve(
            database, made.number, Approve((RequestLineIn("BYT", quantity),)), None, TODAY
        )
    return made.number


def test_an_approved_unshipped_request_is_on_order_on_the_new_form(web_database):
    set_stock_minimum(web_database, TOWNSHIP, "BYT", MINIMUM, None)
    ask(web_database, 144, approve=True)
    ordered = on_order(web_database, "BYT")
    assert ordered >= 144
    wanted = MINIMUM - on_hand(web_database, TOWNSHIP, "BYT") - ordered  # none in transit
    expected = -(-wanted // 3) * 3
    assert expected > 0
    with signed_in(web_database, "requester@510121-zj") as client:
        page = client.get("/requests/new").text
    shown = text(section(page, "suggested-lines"))
    assert "已申领未到" in shown
    assert f"（{ordered} 只）" in shown and f"（{expected} 只）" in shown
    assert f'id="quantity-0" name="quantity" inputmode="numeric" value="{expected // 3}"' in page
    assert re.search(r'id="hint-0"[^>]*>[^<]*已申领未到 ' + f"{ordered:,}", page)


def test_a_draft_is_not_on_order_against_itself_on_its_edit_page(web_database):
    set_stock_minimum(web_database, TOWNSHIP, "BYT", MINIMUM, None)
    ask(web_database, 144, approve=True)
    ordered = on_order(web_database, "BYT")
    draft = ask(web_database, 90, approve=False)
    assert on_order(web_database, "BYT") == ordered
    with signed_in(web_database, "requester@510121-zj") as client:
        page = client.get(f"/requests/{draft}/edit").text
    shown = text(section(page, "suggested-lines"))
    assert f"（{ordered} 只）" in shown and f"（{ordered + 90} 只）" not in shown
