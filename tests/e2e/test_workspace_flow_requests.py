"""申领 end to end in headless Chromium: a township's requester writes a request and submits it,
the county's approver approves it in part, the county's clerk ships it with the FEFO suggestion
the page fills in, and the requester confirms the arrival with one line short, the shortage
named in the second step. Every page on the way is photographed (build/screenshots/) and
checked (workspace.Page.check); the ledger is read through the services after each step.

The whole flow runs at both widths (a phone's, an office PC's): each run writes its own request
on the module's server, so the second run starts from what the first left and reads its
expectations from the ledger, not from constants.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from ledger.model import VirtualLocation
from ledger.requests import STATUS_NAMES
from ledger.services import lookups, requests
from ledger.services.balances import BalanceQuery, balances
from tests.conftest import TODAY
from tests.e2e.workspace import WIDTHS, shot_name

REQUESTER, APPROVER, CLERK = "requester@510121-zj", "approver@510121", "clerk@510121"
TOWNSHIP, COUNTY = "510121-ZJ", "510121"
IN_TRANSIT, ADJUSTMENT = VirtualLocation.in_transit.value, VirtualLocation.adjustment.value
# What the requester asks for (in 捆) and the approver grants: less of the first line.
ASKED = {"NH2014": 4, "DY2014": 2}  # 年画 1捆=500张, 叠页 1捆=1000张
GRANTED = {"NH2014": 3, "DY2014": 2}
BUNDLE = {"NH2014": 500, "DY2014": 1000}
SHORT = ("NH2014", 100)  # arrives 100 张 short

SESSIONS: dict[str, dict] = {}


def stock(database, location: str, item: str) -> tuple[int, int]:
    """(on hand, reserved) of an item at a location, every batch."""
    virtual = location in (IN_TRANSIT, ADJUSTMENT)
    query = BalanceQuery(location_code=location, virtual=virtual, item_code=item)
    rows = balances(database, query)
    return sum(row.on_hand for row in rows), sum(row.reserved for row in rows)


def snapshot(database) -> dict[tuple[str, str], tuple[int, int]]:
    return {
        (place, item): stock(database, place, item)
        for place in (COUNTY, TOWNSHIP, IN_TRANSIT, ADJUSTMENT)
        for item in ASKED
    }


def values_of(page, css: str) -> list[str]:
    return [e.get_attribute("value") for e in page.driver.find_elements(By.CSS_SELECTOR, css)]


def write_and_submit(page, database, name: str) -> str:
    """The requester's part: a new request of two lines in 捆, saved as a draft, submitted."""
    page.become(REQUESTER, SESSIONS)
    page.step(page.visit("/requests"), name, "01-requests")
    page.step(page.press("a[href='/requests/new']"), name, "02-new")
    for row, (item, bundles) in enumerate(ASKED.items()):
        page.choose({f"item-{row}": item})  # htmx brings the item's units
        page.choose({f"unit-{row}": "捆"})
        page.fill({f"quantity-{row}": str(bundles)})
    page.fill({"f-memo": "宣传月入户发放"})
    page.step(page.press("#save-request"), name, "03-draft")
    number = page.driver.current_url.rsplit("/", 1)[1]
    draft = requests.get(database, number)
    assert draft.status == "draft" and draft.requester_code == TOWNSHIP
    assert draft.supplier_code == COUNTY and draft.memo == "宣传月入户发放"
    assert {line.item_code: line.requested for line in draft.lines} == {
        item: bundles * BUNDLE[item] for item, bundles in ASKED.items()
    }
    page.step(page.press("#submit-request"), name, "04-submitted")
    assert requests.get(database, number).status == "submitted"
    assert STATUS_NAMES["submitted"] in page.text_of("h1")
    return number


def approve_in_part(page, name: str, number: str) -> None:
    page.become(APPROVER, SESSIONS)
    page.step(page.visit("/requests?status=submitted"), name, "05-to-approve")
    page.step(page.press(f"a[href='/requests/{number}']"), name, "06-request")
    for row, item in enumerate(values_of(page, "#approve-form input[name=item_code]")):
        page.fill({f"approve-quantity-{row}": str(GRANTED[item])})
        page.choose({f"unit-a{row}": "捆"})
    page.fill({"approve-memo": "年画库存有限，先批 3 捆"})
    page.step(page.press("#approve-request"), name, "07-approved")
    assert STATUS_NAMES["approved"] in page.text_of("h1")


def ship_fefo(page, database, name: str, number: str) -> list[str]:
    """The clerk ships what the page suggests (first expiry, oldest print run first)."""
    page.become(CLERK, SESSIONS)
    page.step(page.visit(f"/requests/{number}"), name, "08-to-ship")
    suggested = requests.suggestion(database, number, TODAY)
    assert values_of(page, "#ship-form input[name=item_code]") == [s.item_code for s in suggested]
    assert values_of(page, "#ship-form select[name=batch_number]") == [
        s.batch_number for s in suggested
    ]
    assert values_of(page, "#ship-form input[name=quantity]") == [
        str(s.quantity) for s in suggested
    ]
    page.step(page.press("#ship-request"), name, "09-shipped")
    found = requests.get(database, number)
    assert len(found.shipments) == 1 and found.shipments[0].confirmation_number is None
    shipment = found.shipments[0].number
    assert page.text_of("#request-shipments").count(shipment) == 1
    page.step(page.press(f"#request-shipments a[href='/vouchers/{shipment}']"), name, "10-voucher")
    assert shipment in page.text_of("h1")
    return [shipment, *(f"{s.item_code}|{s.batch_number}|{s.quantity}" for s in suggested)]


def confirm_short(page, database, name: str, number: str, shipment: str) -> str:
    """The requester types what arrived (one line short), is shown the shortage, names it."""
    page.become(REQUESTER, SESSIONS)
    page.step(page.visit(f"/requests/{number}"), name, "11-arrived")
    form = f"#confirm-{shipment}"
    items = values_of(page, f"{form} input[name=item_code]")
    row = items.index(SHORT[0])
    box = f"received-{shipment}-{row}"
    shipped = int(page.driver.find_element(By.ID, box).get_attribute("value"))
    page.fill({box: str(shipped - SHORT[1])})
    first = page.press(f"#confirm-button-{shipment}")
    page.step(first, name, "12-shortage-asked", status=409)  # nothing posted yet
    assert requests.get(database, number).shipments[0].confirmation_number is None
    shortage = page.text_of(f"#shortage-{shipment}")
    assert "短少确认" in shortage and "100 张" in shortage, shortage
    assert page.driver.find_element(By.ID, box).get_attribute("value") == str(shipped - SHORT[1])
    page.choose({f"reason-{shipment}": "damaged"})
    page.fill({f"note-{shipment}": "一捆受潮破损"})
    assert page.text_of(f"#confirm-button-{shipment}") == "确认短少并签收"
    page.step(page.press(f"#confirm-button-{shipment}"), name, "13-confirmed")
    confirmation = requests.get(database, number).shipments[0].confirmation_number
    assert confirmation is not None
    page.step(page.press(f"a[href='/vouchers/{confirmation}']"), name, "14-confirmation")
    return confirmation


@pytest.mark.parametrize("width", WIDTHS)
def test_a_request_from_a_township_to_its_arrival(workspace_page, workspace, request, width):
    page = workspace_page
    database = workspace.database
    page.resize(width)
    name = shot_name(request)
    before = snapshot(database)

    number = write_and_submit(page, database, name)
    approve_in_part(page, name, number)
    approved = requests.get(database, number)
    granted = {item: bundles * BUNDLE[item] for item, bundles in GRANTED.items()}
    assert approved.status == "approved"
    assert {line.item_code: line.approved for line in approved.lines} == granted
    for item, quantity in granted.items():  # approval reserves at the supplier
        on_hand, reserved = stock(database, COUNTY, item)
        assert (on_hand, reserved) == (before[COUNTY, item][0], before[COUNTY, item][1] + quantity)

    shipment, *picked = ship_fefo(page, database, name, number)
    voucher = lookups.transaction(database, shipment)
    assert voucher.kind == "issue" and voucher.location_code == COUNTY
    assert voucher.counterparty_code == TOWNSHIP
    out = sorted(
        f"{p.item_code}|{p.batch_number}|{-p.quantity}"
        for p in voucher.postings
        if p.location_code == COUNTY
    )
    assert out == sorted(picked)  # exactly the FEFO suggestion the page showed
    for item, quantity in granted.items():  # stock left; the reservation is used up
        assert stock(database, COUNTY, item) == (
            before[COUNTY, item][0] - quantity,
            before[COUNTY, item][1],
        )
        assert stock(database, IN_TRANSIT, item)[0] == before[IN_TRANSIT, item][0] + quantity

    confirmation = confirm_short(page, database, name, number, shipment)
    done = requests.get(database, number)
    assert done.status == "closed"
    lines = {line.item_code: line for line in done.lines}
    short_item, short = SHORT
    for item, quantity in granted.items():
        missing = short if item == short_item else 0
        line = lines[item]
        assert (line.approved, line.issued, line.received, line.short, line.outstanding) == (
            quantity,
            quantity,
            quantity - missing,
            missing,
            0,
        )
        assert stock(database, TOWNSHIP, item)[0] == (
            before[TOWNSHIP, item][0] + quantity - missing
        )
        assert stock(database, IN_TRANSIT, item)[0] == before[IN_TRANSIT, item][0]
        assert stock(database, ADJUSTMENT, item)[0] == before[ADJUSTMENT, item][0] + missing
    arrival = lookups.transaction(database, confirmation)
    assert arrival.shipment_sequence == voucher.sequence and arrival.reason == "damaged"
    assert arrival.location_code == TOWNSHIP
    written_off = [p for p in arrival.postings if p.location_code == ADJUSTMENT]
    assert [(p.item_code, p.quantity) for p in written_off] == [SHORT]
    assert "一捆受潮破损" in arrival.memo
    # The confirmation's page names the shipment it confirms, and the request's page says so.
    assert page.text_of("[data-field=shipment]") == shipment
    page.step(page.visit(f"/requests/{number}"), name, "15-closed")
    assert STATUS_NAMES["closed"] in page.text_of("h1")
    assert not page.driver.find_elements(By.CSS_SELECTOR, f"#confirm-{shipment}")
