"""A count over HTTP counts what it says it counts, on SQLite and PostgreSQL: a county's count
leaves its townships out unless it names them, an uncounted line is 未盘 and never adjusted
unless declared zero, and approval posts only what its preview showed."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from api.app import create_app
from ledger import commands as c
from ledger.db.unit_of_work import Database
from ledger.services.users import add_user
from tests.api.conftest import SETUP, headers, token
from tests.bound import Ledger
from tests.builder import ledger_from_text
from tests.conftest import TODAY

V1 = "/api/v1"


@pytest.fixture
def client(engine):
    database = Database(engine)
    ledger = Ledger(database, clock=lambda: TODAY)
    ledger_from_text(ledger, SETUP)
    for destination, source in (("510121", "510100"), ("510121-ZJ", "510121")):
        quantity = 20000 if destination == "510121" else 2000
        lines = (c.LineSpec("NH2014", quantity),)
        ledger.confirm(c.Confirm(ledger.issue(c.Issue(source, destination, lines)).number))
    for who, location in (("clerk", "510121"), ("approver", "510121")):
        add_user(database, f"测试 {who}", who, location, token(who))
    with TestClient(app=create_app(database, clock=lambda: TODAY)) as test_client:
        yield test_client


def on_hand(client, location) -> int:
    rows = client.get(
        f"{V1}/balances", params={"location": location, "item": "NH2014"}, headers=headers("clerk")
    ).json()["items"]
    return sum(row["on_hand"] for row in rows if row["location_code"] == location)


def count(client, number, location, quantity):
    line = {
        "location_code": location,
        "item_code": "NH2014",
        "batch_number": "2014-01",
        "quantity": quantity,
    }
    return client.post(
        f"{V1}/stocktakes/{number}/counts", json={"lines": [line]}, headers=headers("clerk")
    )


def open_count(client, **scope):
    opened = client.post(
        f"{V1}/stocktakes",
        json={"location_code": "510121", "blind": True, **scope},
        headers=headers("clerk"),
    )
    assert opened.status_code == 201, opened.text
    return opened.json()


def approve(client, number, digest):
    body = {"reason": "盘点核实"} | ({"preview_digest": digest} if digest is not None else {})
    return client.post(f"{V1}/stocktakes/{number}/approve", json=body, headers=headers("approver"))


def test_the_scope_holds_and_uncounted_lines_are_left_alone(client):
    alone = open_count(client)
    assert (alone["include_subtree"], alone["location_codes"]) == (False, [])
    outside = count(client, alone["number"], "510121-ZJ", 2000)
    assert outside.status_code == 422 and outside.json()["code"] == "outside_stocktake"
    elsewhere = client.post(
        f"{V1}/stocktakes",
        json={"location_code": "510121", "location_codes": ["510181"]},
        headers=headers("clerk"),
    )
    assert elsewhere.status_code == 422 and elsewhere.json()["code"] == "outside_stocktake"
    assert elsewhere.json()["field"] == "location_codes[0]"

    whole = open_count(client, include_subtree=True)
    assert count(client, whole["number"], "510121", 17990).status_code == 200  # 10 short
    closed = client.post(f"{V1}/stocktakes/{whole['number']}/close", headers=headers("clerk"))
    assert closed.status_code == 200, closed.text
    lines = {row["location_code"]: row for row in closed.json()["lines"]}
    assert (lines["510121-ZJ"]["outcome_name"], lines["510121-ZJ"]["difference"]) == ("未盘", 0)
    preview = client.get(
        f"{V1}/stocktakes/{whole['number']}/approval-preview", headers=headers("approver")
    ).json()
    assert [(x["location_code"], x["difference"]) for x in preview["adjustments"]] == [
        ("510121", -10)
    ]
    assert [(x["location_code"], x["book"]) for x in preview["not_counted"]] == [
        ("510121-ZJ", 2000)
    ]
    assert preview["totals"] == [{"unit": "张", "gain": 0, "loss": 10, "net": -10}]
    assert preview["vouchers"] == 1
    stale = approve(client, whole["number"], "0" * 64)
    assert stale.status_code == 409 and stale.json()["code"] == "approval_preview_stale"
    assert approve(client, whole["number"], None).status_code == 409
    approved = approve(client, whole["number"], preview["digest"])
    assert approved.status_code == 200, approved.text
    assert len(approved.json()["adjustments"]) == 1
    assert (on_hand(client, "510121"), on_hand(client, "510121-ZJ")) == (17990, 2000)


def test_a_blind_full_count_declares_a_place_counted(client):
    opened = open_count(client, location_codes=["510121-ZJ"])
    assert opened["location_codes"] == ["510121-ZJ"]
    number = opened["number"]
    assert count(client, number, "510121", 18000).status_code == 200
    declared = client.post(
        f"{V1}/stocktakes/{number}/zero-uncounted",
        json={"location_code": "510121-ZJ"},
        headers=headers("clerk"),
    )
    assert declared.status_code == 200, declared.text
    assert [
        (x["location_code"], x["quantity"], x["source"]) for x in declared.json()["counted"]
    ] == [
        ("510121", 18000, "hand"),
        ("510121-ZJ", 0, "declared_zero"),
    ]
    refused = client.post(
        f"{V1}/stocktakes/{number}/zero-uncounted",
        json={"location_code": "510181"},
        headers=headers("clerk"),
    )
    assert refused.status_code == 403  # another county: not this clerk's to declare
    assert (
        client.post(f"{V1}/stocktakes/{number}/close", headers=headers("clerk")).status_code == 200
    )
    preview = client.get(
        f"{V1}/stocktakes/{number}/approval-preview", headers=headers("approver")
    ).json()
    assert [(x["location_code"], x["difference"]) for x in preview["adjustments"]] == [
        ("510121-ZJ", -2000)
    ]
    assert preview["not_counted"] == []
    assert approve(client, number, preview["digest"]).status_code == 200
    assert (on_hand(client, "510121"), on_hand(client, "510121-ZJ")) == (18000, 0)
