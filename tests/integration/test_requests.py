"""The allocation request flow through the use cases, checked against balances."""

from __future__ import annotations

import pytest

from ledger import commands as c
from ledger.rules import Code
from ledger.services.audit import verify_ledger
from ledger.services.request_models import (
    Approve,
    ConfirmShipment,
    CreateRequest,
    EditRequest,
    Reject,
    RequestLineIn,
    Ship,
    ShipLine,
)
from tests.bound import Requests
from tests.builder import CITY_TEXT, ledger_from_text
from tests.support import refused, stock


@pytest.fixture
def requests(ledger):
    ledger_from_text(
        ledger,
        CITY_TEXT
        + """
receipt 510100 NH2014 2014-01 930000 on 2026-05-01
receipt 510100 BYT B-EARLY 300 expires 2026-09-30 on 2026-05-02
receipt 510100 BYT B-LATE 1440 expires 2028-01-31 on 2026-05-02
""",
    )
    shipment = ledger.issue(
        c.Issue("510100", "510121", (c.LineSpec("NH2014", 20, unit="捆"), c.LineSpec("BYT", 600)))
    )
    ledger.confirm(c.Confirm(shipment.number))
    return Requests(ledger)


def test_request_approve_in_part_ship_twice_confirm_with_shortage_and_close(requests):
    ledger = requests.ledger
    request = requests.create(
        CreateRequest(
            "510121-ZJ", (RequestLineIn("NH2014", 8, "捆"), RequestLineIn("BYT", 100, "盒"))
        )
    )
    assert request.number == "SQ-2026-000001" and request.status == "draft"
    assert request.supplier_code == "510121"
    request = requests.edit(
        request.number,
        EditRequest((RequestLineIn("NH2014", 10, "捆"), RequestLineIn("BYT", 100, "盒"))),
    )
    assert [line.requested for line in request.lines] == [5000, 300]
    refused(Code.request_state, requests.approve, request.number, Approve(()))
    requests.submit(request.number)
    refused(
        Code.exceeds_requested,
        requests.approve,
        request.number,
        Approve((RequestLineIn("NH2014", 5001),)),
    )
    request = requests.approve(
        request.number, Approve((RequestLineIn("NH2014", 6, "捆"), RequestLineIn("BYT", 50, "盒")))
    )
    assert request.status == "approved"
    assert [(line.approved, line.outstanding) for line in request.lines] == [
        (3000, 3000),
        (150, 150),
    ]
    # Approval reserved stock at 金堂县: the earliest-expiring contraceptives first.
    assert stock(ledger, "510121", "BYT") == {"B-EARLY": (300, 150), "B-LATE": (300, 0)}
    assert stock(ledger, "510121", "NH2014") == {"2014-01": (10000, 3000)}
    suggestion = requests.suggestion(request.number)
    assert [(s.item_code, s.batch_number, s.quantity) for s in suggestion] == [
        ("NH2014", "2014-01", 3000),
        ("BYT", "B-EARLY", 150),
    ]
    refused(Code.exceeds_approved, requests.ship, request.number, Ship((ShipLine("NH2014", 3001),)))
    refused(
        Code.fefo_override_reason_required,
        requests.ship,
        request.number,
        Ship((ShipLine("BYT", 30, batch_number="B-LATE"),)),
    )
    first = requests.ship(request.number, Ship((ShipLine("NH2014", 2000), ShipLine("BYT", 150))))
    second = requests.ship(request.number, Ship((ShipLine("NH2014", 2, "捆"),)))
    assert stock(ledger, "510121", "BYT") == {"B-EARLY": (150, 0), "B-LATE": (300, 0)}
    assert stock(ledger, "510121", "NH2014") == {"2014-01": (7000, 0)}
    refused(Code.exceeds_approved, requests.ship, request.number, Ship((ShipLine("NH2014", 1),)))
    received = (c.ReceivedLine("NH2014", "2014-01", 1990),)
    error = refused(
        Code.shortage_unconfirmed,
        requests.confirm,
        request.number,
        ConfirmShipment(first.number, received),
    )
    assert [(m["batch_number"], m["missing"]) for m in error.details["missing"]] == [
        ("2014-01", 10)
    ]
    assert requests.get(request.number).lines[0].short == 0  # nothing recorded
    shortage = c.Shortage("short_shipped", (c.ShortageLine("NH2014", "2014-01", 10),))
    confirmation = requests.confirm(
        request.number, ConfirmShipment(first.number, received, shortage=shortage)
    )
    assert confirmation.reason == "short_shipped" and "发货短少" in confirmation.memo
    assert requests.get(request.number).status == "approved"  # the second shipment is in transit
    refused(Code.shipments_in_transit, requests.close, request.number)
    requests.confirm(request.number, ConfirmShipment(second.number))
    request = requests.get(request.number)
    assert request.status == "closed"
    assert [(line.issued, line.received, line.short) for line in request.lines] == [
        (3000, 2990, 10),
        (150, 150, 0),
    ]
    assert stock(ledger, "510121-ZJ", "NH2014") == {"2014-01": (2990, 0)}
    assert stock(ledger, "510121-ZJ", "BYT") == {"B-EARLY": (150, 0)}
    actions = [event.action for event in requests.events(request.number)]
    assert actions == [
        "created",
        "edited",
        "submitted",
        "approved",
        "shipped",
        "shipped",
        "received",
        "received",
        "closed",
    ]
    assert verify_ledger(ledger.database).ok


def test_an_override_ships_the_later_batch_and_trims_the_reservation(requests):
    request = requests.create(CreateRequest("510121-ZJ", (RequestLineIn("BYT", 60),)))
    requests.submit(request.number)
    requests.approve(request.number, Approve((RequestLineIn("BYT", 60),)))
    shipment = requests.ship(
        request.number,
        Ship((ShipLine("BYT", 60, batch_number="B-LATE", override_reason="乡镇要求长效期"),)),
    )
    assert "乡镇要求长效期" in shipment.memo
    assert stock(requests.ledger, "510121", "BYT") == {"B-EARLY": (300, 0), "B-LATE": (240, 0)}


def test_reject_cancel_and_close_release_what_was_reserved(requests):
    rejected = requests.create(CreateRequest("510121-ZJ", (RequestLineIn("NH2014", 100),)))
    requests.submit(rejected.number)
    refused(Code.invalid_field, requests.reject, rejected.number, Reject(" "))
    assert requests.reject(rejected.number, Reject("库存不足")).status == "rejected"
    refused(Code.request_state, requests.submit, rejected.number)

    cancelled = requests.create(CreateRequest("510121-ZJ", (RequestLineIn("NH2014", 100),)))
    requests.submit(cancelled.number)
    requests.approve(cancelled.number, Approve((RequestLineIn("NH2014", 100),)))
    assert stock(requests.ledger, "510121", "NH2014")["2014-01"][1] == 100
    assert requests.cancel(cancelled.number).status == "cancelled"
    assert stock(requests.ledger, "510121", "NH2014")["2014-01"][1] == 0

    closed = requests.create(CreateRequest("510121-ZJ", (RequestLineIn("NH2014", 100),)))
    requests.submit(closed.number)
    requests.approve(closed.number, Approve((RequestLineIn("NH2014", 100),)))
    shipment = requests.ship(closed.number, Ship((ShipLine("NH2014", 40),)))
    refused(Code.request_state, requests.cancel, closed.number)
    requests.confirm(closed.number, ConfirmShipment(shipment.number))
    assert requests.close(closed.number).status == "closed"
    assert stock(requests.ledger, "510121", "NH2014")["2014-01"] == (10000 - 40, 0)


def test_nothing_approved_closes_at_once_and_unknown_requests_are_refused(requests):
    request = requests.create(CreateRequest("510121-ZJ", (RequestLineIn("NH2014", 100),)))
    requests.submit(request.number)
    assert requests.approve(request.number, Approve(())).status == "closed"
    refused(Code.unknown_request, requests.get, "SQ-2026-999999")
    refused(
        Code.location_has_no_parent,
        requests.create,
        CreateRequest("510100", (RequestLineIn("NH2014", 1),)),
    )
