"""盘点 end to end in headless Chromium: the county's clerk opens a count of its own place, types
the counts by hand (one line a few units short), ends the count; the reconciliation shows that
line as 盘亏, coloured; the county's approver opens the approval preview and approves, and the
stocktake adjustment is posted. Every page is photographed and checked; the count, the
adjustment voucher and the balances are read through the services.

The whole flow runs at both widths: the second count starts from the book the first one's
adjustment left (its figures come from the ledger, not from constants).
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from ledger.model import VirtualLocation
from ledger.services import lookups, stocktakes
from ledger.services.balances import BalanceQuery, balances
from tests.e2e.workspace import WIDTHS, shot_name

CLERK, APPROVER, COUNTY = "clerk@510121", "approver@510121", "510121"
ADJUSTMENT = VirtualLocation.adjustment.value
OFF = ("GT2014", 4)  # 挂图: 4 张 fewer on the shelf than on the books

SESSIONS: dict[str, dict] = {}


def on_hand(database, location: str, item: str, batch: str | None = None) -> int:
    query = BalanceQuery(
        location_code=location, virtual=location == ADJUSTMENT, item_code=item, batch_number=batch
    )
    return sum(row.on_hand for row in balances(database, query))


def open_and_count(page, database, name: str) -> tuple[str, dict[tuple[str, str], int]]:
    """The clerk opens a count of 金堂县 alone, all items, cut off today, and types every line
    (the book's figure, but OFF's line short); returns the count and its book."""
    page.become(CLERK, SESSIONS)
    page.step(page.visit("/stocktakes"), name, "01-stocktakes")
    assert page.driver.find_element(By.ID, "f-location_code").get_attribute("value") == COUNTY
    page.fill({"f-memo": "半年盘点"})
    page.step(page.press("#open-submit"), name, "02-opened")
    number = page.driver.current_url.split("/stocktakes/", 1)[1].split("?", 1)[0]
    opened = stocktakes.get(database, number)
    assert (opened.status, opened.location_code, opened.blind) == ("counting", COUNTY, False)
    book = {(line.item_code, line.batch_number): line.book for line in opened.expected}
    assert OFF[0] in {item for item, _ in book} and all(q > 0 for q in book.values())
    keys = page.driver.find_elements(By.CSS_SELECTOR, "#count-form input[name^='k-']")
    typed = {}
    for key in keys:
        row = key.get_attribute("name")[2:]
        location, item, batch = key.get_attribute("value").split("|")
        assert location == COUNTY
        counted = book[item, batch] - (OFF[1] if item == OFF[0] else 0)
        page.fill({f"q-{row}": str(counted)})
        assert page.driver.find_element(By.ID, f"u-{row}").get_attribute("value") == (
            lookups.item(database, item).base_unit
        )
        typed[item, batch] = counted
    assert set(typed) == set(book)  # every book line is on the form
    page.step(page.press("#save-counts"), name, "03-counted")
    counted = stocktakes.get(database, number).counted
    assert {(c.item_code, c.batch_number): c.quantity for c in counted} == typed
    return number, book


def close(page, database, name: str, number: str) -> None:
    page.step(page.press("#close-submit", accept=True), name, "04-closed")
    assert stocktakes.get(database, number).status == "closed"
    rows = page.driver.find_elements(By.CSS_SELECTOR, "#reconciliation-lines tbody tr")
    outcomes = {
        row.find_elements(By.TAG_NAME, "td")[1].text: row.get_attribute("data-outcome")
        for row in rows
    }
    item_name = lookups.item(database, OFF[0]).name
    assert outcomes.pop(item_name) == "loss" and set(outcomes.values()) == {"match"}
    assert page.text_of("#count-loss") == "1" and page.text_of("#count-gain") == "0"
    loss = page.driver.find_element(By.CSS_SELECTOR, "#reconciliation-lines tr[data-outcome=loss]")
    match = page.driver.find_element(
        By.CSS_SELECTOR, "#reconciliation-lines tr[data-outcome=match]"
    )
    assert "bad" in loss.get_attribute("class").split()
    colour = "return getComputedStyle(arguments[0].querySelector('td')).backgroundColor"
    highlighted = page.driver.execute_script(colour, loss)
    assert highlighted != page.driver.execute_script(colour, match), highlighted
    assert highlighted not in ("rgba(0, 0, 0, 0)", "transparent")
    assert f"-{OFF[1]}" in loss.text.replace(",", "")


def approve(page, name: str, number: str) -> None:
    page.become(APPROVER, SESSIONS)
    page.step(page.visit(f"/stocktakes/{number}"), name, "05-to-review")
    page.step(page.press("#approve-link"), name, "06-approval-preview")
    assert page.text_of("#adjustment-count") == "1" and page.text_of("#voucher-count") == "1"
    previewed = page.driver.find_elements(By.CSS_SELECTOR, "#preview-lines tbody tr")
    assert len(previewed) == 1 and "bad" in previewed[0].get_attribute("class")
    page.fill({"f-reason": "挂图破损未报损，按实盘调整"})
    page.step(page.press("#approve-submit", accept=True), name, "07-approved")
    assert "done=approved" in page.driver.current_url


@pytest.mark.parametrize("width", WIDTHS)
def test_a_count_with_a_loss_reconciled_and_approved(workspace_page, workspace, request, width):
    page, database = workspace_page, workspace.database
    page.resize(width)
    name = shot_name(request)
    written_off = on_hand(database, ADJUSTMENT, OFF[0])  # what stocktakes took out before

    number, book = open_and_count(page, database, name)
    close(page, database, name, number)
    approve(page, name, number)

    done = stocktakes.get(database, number)
    assert done.status == "approved" and done.approval_reason == "挂图破损未报损，按实盘调整"
    assert len(done.adjustments) == 1
    voucher = lookups.transaction(database, done.adjustments[0])
    assert voucher.location_code == COUNTY and voucher.occurred_on == done.cut_off
    ((item, batch),) = [key for key in book if key[0] == OFF[0]]
    posted = sorted(
        (p.location_code, p.item_code, p.batch_number, p.quantity) for p in voucher.postings
    )
    assert posted == sorted([(COUNTY, item, batch, -OFF[1]), (ADJUSTMENT, item, batch, OFF[1])])
    for (code, number_of_batch), quantity in book.items():  # the books now say what was counted
        expected = quantity - OFF[1] if code == OFF[0] else quantity
        assert on_hand(database, COUNTY, code, number_of_batch) == expected
    assert on_hand(database, ADJUSTMENT, item) == written_off + OFF[1]
    assert done.adjustments[0] in page.text_of("#adjustments")
    page.step(page.visit(f"/vouchers/{done.adjustments[0]}"), name, "08-adjustment-voucher")
