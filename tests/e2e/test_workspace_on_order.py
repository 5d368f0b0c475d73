"""已申领未到 in headless Chromium at a phone's and an office PC's width: 赵家镇, short of its
最低库存 of 100 盒 of 避孕套, has a request for 48 盒 approved and not yet shipped; the new
request's form shows it on order and prefills only the rest, and the home card still says 补货
(the shelf is short until the goods are shipped). Each page photographed and checked
(workspace.Page.check)."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from ledger.services import requests
from ledger.services.request_models import Approve, CreateRequest, RequestLineIn
from ledger.services.stock_minimums import set_stock_minimum
from tests.conftest import TODAY
from tests.e2e.workspace import WIDTHS, shot_name

REQUESTER = "requester@510121-zj"
TOWNSHIP = "510121-ZJ"
SESSIONS: dict[str, dict] = {}


@pytest.fixture(scope="module")
def approved_unshipped(workspace):
    """赵家镇 below 100 盒 (300 只) of 避孕套 with 48 盒 (144 只) approved, nothing shipped."""
    database = workspace.database
    set_stock_minimum(database, TOWNSHIP, "BYT", 100, None, "盒")
    made = requests.create(
        database, CreateRequest(TOWNSHIP, (RequestLineIn("BYT", 48, "盒"),)), None, TODAY
    )
    requests.submit(database, made.number, None, TODAY)
    requests.approve(database, made.number, Approve((RequestLineIn("BYT", 48, "盒"),)), None, TODAY)
    return workspace


@pytest.mark.parametrize("width", WIDTHS)
def test_the_new_request_form_counts_what_is_on_order(
    workspace_page, approved_unshipped, request, width
):
    page, name = workspace_page, shot_name(request)
    page.resize(width)
    page.become(REQUESTER, SESSIONS)
    page.step(page.visit("/", "#alert-count-below"), name, "01-home")
    assert "已申领未到 48 盒（144 只）" in page.text_of("#stock-alerts")  # still 补货
    page.step(page.visit("/requests/new"), name, "02-new-on-order")
    cell = page.driver.find_element(By.CSS_SELECTOR, '#suggested-BYT td[data-label="已申领未到"]')
    assert cell.text == "48 盒（144 只）"
    assert "28 盒（84 只）" in page.text_of("#suggested-BYT")
    quantities = [
        e.get_attribute("value")
        for e in page.driver.find_elements(By.CSS_SELECTOR, "#request-form input[name=quantity]")
    ]
    # 300 只 − 72 只 held (test_workspace_norms: 76 盒 suggested without an order) − 144 = 84
    assert quantities[0] == "28", quantities
