"""印制计划 in headless Chromium, at a phone's and an office PC's width: the county's clerk fills
in the form (the pack offered by htmx for the 宣传品 chosen), previews the 印制计划表, saves it,
opens 按印制计划分配 from the saved plan's page and — at the PC's width — issues it. Every page
is photographed (build/screenshots/) and checked (workspace.Page.check: nothing from elsewhere,
no console error, no horizontal overflow, every field labelled); the ledger is read afterwards."""

from __future__ import annotations

import pytest

from ledger.db.import_rows import set_populations
from ledger.services import lookups
from ledger.services.audit import verify_ledger
from tests.e2e.workspace import WIDTHS, shot_name

CLERK = "clerk@510121"
SESSIONS: dict[str, dict] = {}
POPULATIONS = {
    "510121-ZJ-PS": 2_620,
    "510121-ZJ-XH": 1_311,
    "510121-ZJ-TJ": 0,
    "510121-HK-HG": 30_000,
    "510121-HK-GM": 5_240,
}


@pytest.fixture(scope="module")
def villages(workspace):
    """金堂县's villages with their 人口 (the demo gives only the counties theirs)."""
    workspace.database.write(lambda store: set_populations(store, POPULATIONS))
    return workspace


@pytest.mark.parametrize("width", WIDTHS)
def test_a_county_plans_a_print_run_and_splits_it(workspace_page, villages, request, width):
    page, database, name = workspace_page, villages.database, shot_name(request)
    page.resize(width)
    page.become(CLERK, SESSIONS)
    page.step(page.visit("/print-plans/new"), name, "01-form")
    page.choose({"f-item_code": "NH2014"})
    assert "捆（500 张）" in page.text_of("#pack-field")
    page.fill({"f-spare_percent": "10", "f-title": "2015年慰问独生子女家庭户年画"})
    page.step(page.press("#preview-print-plan", "#print-preview"), name, "02-preview")
    assert "23 捆（11,500 张）" in page.text_of('tr[data-code="510121-HK-HG"]')
    page.step(page.press("#save-print-plan"), name, "03-saved")
    number = page.driver.current_url.rsplit("/", 1)[1]
    assert number.startswith("YZ-2026-") and number in page.text_of("h1")
    page.step(page.press("#print-plan-pick-go", "#plan-result"), name, "04-allocation")
    # 计划 30 捆, 已发 0, 待发 30 捆, and the county's stock (17,000 张) allows 29 of them
    assert "0 张 30 捆（15,000 张） 29 捆" in page.text_of('#plan-places tr[data-code="510121-HK"]')
    if width != 1280:
        page.step(page.visit(f"/print-plans/{number}", "#plan-shipping"), name, "05-progress")
        return  # the county's stock is issued once, at the PC's width
    allocation = "/" + page.driver.current_url.split("://", 1)[1].split("/", 1)[1]
    page.step(page.press("#apply-plan", "#plan-vouchers", accept=True), name, "05-applied")
    vouchers = page.driver.find_elements("css selector", "#plan-vouchers a")
    issued = [lookups.transaction(database, link.text) for link in vouchers]
    assert {tx.counterparty_code for tx in issued} == {"510121-ZJ", "510121-HK"}
    # the same allocation opened afresh: only the 1 捆 short is due, and nothing is left to
    # send it with, so no 下发 (the plan does not issue twice)
    page.step(page.visit(allocation, "#plan-result"), name, "06-remainder-due")
    row = page.text_of('#plan-places tr[data-code="510121-HK"]')
    assert "29 捆（14,500 张） 1 捆（500 张）" in row
    assert not page.driver.find_elements("css selector", "#apply-plan")
    page.step(page.visit(f"/print-plans/{number}", "#plan-shipping"), name, "07-progress")
    assert "29 捆（14,500 张）" in page.text_of('#plan-shipping tr[data-code="510121-HK"]')
    assert verify_ledger(database).ok
