"""A short arrival over HTTP, on SQLite and PostgreSQL: every confirm route refuses to write
stock off in one step, answers what is missing (problem details `missing`, and `missing_packs`
for a scanned arrival), and records the shortage with its reason on the second, explicit step."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.errors import STATUS_BY_CODE
from ledger import commands as c
from ledger.db import balance_queries
from ledger.db.unit_of_work import Database
from ledger.rules import Code
from ledger.services import label_keys
from ledger.services.request_models import Approve, CreateRequest, RequestLineIn, Ship, ShipLine
from ledger.services.users import add_user
from ledger.settings import Settings
from tests.api.conftest import SETUP, headers, token
from tests.bound import Ledger, Requests, Scanning
from tests.builder import ledger_from_text
from tests.conftest import TODAY

V1 = "/api/v1"
NH = {"item_code": "NH2014", "batch_number": "2014-01"}


@pytest.fixture
def served(engine):
    database = Database(engine)
    ledger = Ledger(database, clock=lambda: TODAY)
    ledger_from_text(ledger, SETUP)
    ledger.confirm(
        c.Confirm(ledger.issue(c.Issue("510100", "510121", (c.LineSpec("NH2014", 20000),))).number)
    )
    for who, location in (("clerk", "510121"), ("requester", "510121-ZJ"), ("approver", "510121")):
        add_user(database, f"测试 {who}", who, location, token(who))
    with TestClient(app=create_app(database, clock=lambda: TODAY)) as client:
        yield client, ledger


def balances(ledger) -> dict[str, int]:
    with ledger.database.read() as connection:
        rows = balance_queries.balances(connection, None, "NH2014", "2014-01", include_virtual=True)
    return {row.location_code: row.on_hand for row in rows}


def refused_shortage(response, missing: int) -> dict:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "shortage_unconfirmed" and problem["field"] == "shortage"
    assert [
        (m["item_code"], m["batch_number"], m["missing"], m["unit"]) for m in problem["missing"]
    ] == [("NH2014", "2014-01", missing, "张")]
    return problem


def test_a_short_confirmation_needs_its_shortage_named(served):
    client, ledger = served
    shipment = ledger.issue(c.Issue("510121", "510121-ZJ", (c.LineSpec("NH2014", 3, unit="捆"),)))
    before = balances(ledger)
    arrival = {
        "shipment_number": shipment.number,
        "received": [{**NH, "quantity_received": 1490}],
        "memo": "乡镇签收",
    }
    path = f"{V1}/transactions/confirmations"
    problem = refused_shortage(client.post(path, json=arrival, headers=headers("requester")), 10)
    assert problem["missing"][0] | {} == {
        **NH,
        "item_name": "年画",
        "shipped": 1500,
        "received": 1490,
        "missing": 10,
        "unit": "张",
    }
    assert "短少 10 张" in problem["detail"]
    wrong = {"reason": "damaged", "lines": [{**NH, "quantity": 100}]}
    refused_shortage(
        client.post(path, json={**arrival, "shortage": wrong}, headers=headers("requester")), 10
    )
    unknown = {"reason": "被偷", "lines": [{**NH, "quantity": 10}]}
    answer = client.post(path, json={**arrival, "shortage": unknown}, headers=headers("requester"))
    assert answer.status_code == 422 and answer.json()["field"] == "shortage.reason"
    other = {"reason": "other", "lines": [{**NH, "quantity": 10}]}
    answer = client.post(path, json={**arrival, "shortage": other}, headers=headers("requester"))
    assert answer.status_code == 422 and answer.json()["code"] == "reason_required"
    long_note = {**other, "note": "长" * 201}
    answer = client.post(
        path, json={**arrival, "shortage": long_note}, headers=headers("requester")
    )
    assert answer.json()["code"] == "text_too_long"
    assert answer.status_code == STATUS_BY_CODE.get(Code.text_too_long, 422)
    assert "最多 200" in answer.json()["detail"]
    assert balances(ledger) == before  # no refusal moved anything

    right = {**other, "note": "封条破损，少一叠"}
    posted = client.post(
        path, json={**arrival, "shortage": right}, headers=headers("requester", "confirm-1")
    )
    assert posted.status_code == 201, posted.text
    assert posted.json()["reason"] == "other"
    assert posted.json()["memo"] == "乡镇签收；短少原因：其他，封条破损，少一叠"
    after = balances(ledger)
    assert after["510121-ZJ"] == before.get("510121-ZJ", 0) + 1490
    assert after["adjustment"] == before.get("adjustment", 0) + 10
    assert after.get("in-transit", 0) == before["in-transit"] - 1500
    again = client.post(
        path, json={**arrival, "shortage": right}, headers=headers("requester", "confirm-1")
    )
    assert again.status_code == 201 and again.json()["number"] == posted.json()["number"]


def test_a_request_shipment_short_by_a_pack(served):
    client, ledger = served
    requests = Requests(ledger)
    request = requests.create(CreateRequest("510121-ZJ", (RequestLineIn("NH2014", 4, "捆"),)))
    requests.submit(request.number)
    requests.approve(request.number, Approve((RequestLineIn("NH2014", 4, "捆"),)))
    shipment = requests.ship(request.number, Ship((ShipLine("NH2014", 4, "捆"),)))
    path = f"{V1}/requests/{request.number}/shipments/{shipment.number}/confirm"
    arrival = {
        "shipment_number": shipment.number,
        "received": [{**NH, "quantity_received": 3, "unit": "捆"}],
    }
    refused_shortage(client.post(path, json=arrival, headers=headers("requester")), 500)
    assert (
        client.get(f"{V1}/requests/{request.number}", headers=headers("requester")).json()["status"]
        == "approved"
    )
    shortage = {"reason": "short_shipped", "lines": [{**NH, "quantity": 1, "unit": "捆"}]}
    posted = client.post(path, json={**arrival, "shortage": shortage}, headers=headers("requester"))
    assert posted.status_code == 201, posted.text
    assert posted.json()["reason"] == "short_shipped"
    closed = client.get(f"{V1}/requests/{request.number}", headers=headers("requester")).json()
    assert closed["status"] == "closed"
    assert [(line["received"], line["short"]) for line in closed["lines"]] == [(1500, 500)]


def test_a_request_shipment_confirmed_as_a_plain_confirmation_counts_on_its_request(served):
    """POST /transactions/confirmations of a request's shipment goes through the request, as
    the request's own route and /scan do: what arrived is counted on its lines, it closes."""
    client, ledger = served
    requests = Requests(ledger)
    request = requests.create(CreateRequest("510121-ZJ", (RequestLineIn("NH2014", 4, "捆"),)))
    requests.submit(request.number)
    requests.approve(request.number, Approve((RequestLineIn("NH2014", 4, "捆"),)))
    shipment = requests.ship(request.number, Ship((ShipLine("NH2014", 4, "捆"),)))
    arrival = {
        "shipment_number": shipment.number,
        "received": [{**NH, "quantity_received": 3, "unit": "捆"}],
    }
    path = f"{V1}/transactions/confirmations"
    refused_shortage(client.post(path, json=arrival, headers=headers("requester")), 500)
    shortage = {"reason": "damaged", "lines": [{**NH, "quantity": 1, "unit": "捆"}]}
    posted = client.post(path, json={**arrival, "shortage": shortage}, headers=headers("requester"))
    assert posted.status_code == 201, posted.text
    closed = client.get(f"{V1}/requests/{request.number}", headers=headers("requester")).json()
    assert closed["status"] == "closed"
    assert [(line["received"], line["short"]) for line in closed["lines"]] == [(1500, 500)]
    events = client.get(
        f"{V1}/requests/{request.number}/events", headers=headers("requester")
    ).json()
    assert any(event["action"] == "received" for event in events)


def test_a_scanned_arrival_with_a_pack_missing(served):
    client, ledger = served
    scanning = Scanning(ledger, label_keys.load(Settings.from_environment()))
    shipment = ledger.issue(c.Issue("510121", "510121-ZJ", (c.LineSpec("NH2014", 2, unit="捆"),)))
    document = client.post(
        f"{V1}/scan-documents",
        json={
            "purpose": "confirm",
            "location_code": "510121-ZJ",
            "shipment_number": shipment.number,
        },
        headers=headers("requester"),
    )
    assert document.status_code == 201, document.text
    identifier = document.json()["id"]
    first, second = (p for p in scanning.packs("NH2014", "2014-01", "in-transit"))
    scanned = client.post(
        f"{V1}/scans",
        json={"document": identifier, "payload": first.payload},
        headers=headers("requester"),
    )
    assert scanned.status_code == 200, scanned.text
    before = balances(ledger)
    post = f"{V1}/scan-documents/{identifier}/post"
    problem = refused_shortage(client.post(post, json={}, headers=headers("requester")), 500)
    assert problem["missing_packs"] == [{**NH, "serial": second.serial, "quantity": 500}]
    assert balances(ledger) == before
    assert (
        client.get(f"{V1}/scan-documents/{identifier}", headers=headers("requester")).json()[
            "status"
        ]
        == "open"
    )
    shortage = {"reason": "lost_in_transit", "lines": [{**NH, "quantity": 500}]}
    posted = client.post(post, json={"shortage": shortage}, headers=headers("requester"))
    assert posted.status_code == 200, posted.text
    number = posted.json()["transaction_number"]
    voucher = client.get(f"{V1}/transactions/{number}", headers=headers("requester")).json()
    assert voucher["reason"] == "lost_in_transit" and "运输丢失" in voucher["memo"]
    assert balances(ledger)["510121-ZJ"] == before.get("510121-ZJ", 0) + 500
    assert scanning.pack("NH2014", "2014-01", second.serial).location_code == "adjustment"
