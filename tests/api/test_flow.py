"""The township flow over HTTP, checked against balances: request → approve in part → two
shipments → confirm one with a shortage → the request closes."""

from __future__ import annotations

from tests.api.conftest import headers


def on_hand(client, who, location, item):
    response = client.get(
        "/api/v1/balances", params={"location": location, "item": item}, headers=headers(who)
    )
    assert response.status_code == 200, response.text
    return {
        row["batch_number"]: (row["on_hand"], row["reserved"]) for row in response.json()["items"]
    }


def test_request_approve_partly_ship_twice_confirm_with_shortage_close(client):
    county_before = on_hand(client, "clerk", "510121", "NH2014")["2014-01"]
    created = client.post(
        "/api/v1/requests",
        json={
            "requester_code": "510121-ZJ",
            "lines": [{"item_code": "NH2014", "quantity": 4, "unit": "捆"}],
            "memo": "四季度",
        },
        headers=headers("requester"),
    )
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    edited = client.put(
        f"/api/v1/requests/{number}",
        json={
            "lines": [
                {"item_code": "NH2014", "quantity": 6, "unit": "捆"},
                {"item_code": "BYT", "quantity": 10, "unit": "盒"},
            ]
        },
        headers=headers("requester"),
    )
    assert [line["requested"] for line in edited.json()["lines"]] == [3000, 30]
    assert (
        client.post(f"/api/v1/requests/{number}/submit", headers=headers("requester")).json()[
            "status"
        ]
        == "submitted"
    )
    approved = client.post(
        f"/api/v1/requests/{number}/approve",
        json={
            "lines": [
                {"item_code": "NH2014", "quantity": 2000},
                {"item_code": "BYT", "quantity": 30},
            ]
        },
        headers=headers("approver"),
    )
    assert approved.status_code == 200, approved.text
    assert [line["approved"] for line in approved.json()["lines"]] == [2000, 30]
    assert on_hand(client, "clerk", "510121", "NH2014")["2014-01"] == (
        county_before[0],
        county_before[1] + 2000,
    )
    suggestion = client.get(
        f"/api/v1/requests/{number}/suggestion", headers=headers("clerk")
    ).json()
    assert [(s["item_code"], s["batch_number"], s["quantity"]) for s in suggestion] == [
        ("NH2014", "2014-01", 2000),
        ("BYT", "B-EARLY", 30),
    ]
    first = client.post(
        f"/api/v1/requests/{number}/shipments",
        json={
            "lines": [
                {"item_code": "NH2014", "quantity": 1500},
                {"item_code": "BYT", "quantity": 30},
            ]
        },
        headers=headers("clerk"),
    )
    assert first.status_code == 201, first.text
    second = client.post(
        f"/api/v1/requests/{number}/shipments",
        json={"lines": [{"item_code": "NH2014", "quantity": 1, "unit": "捆"}]},
        headers=headers("clerk"),
    )
    assert second.status_code == 201, second.text
    too_much = client.post(
        f"/api/v1/requests/{number}/shipments",
        json={"lines": [{"item_code": "NH2014", "quantity": 1}]},
        headers=headers("clerk"),
    )
    assert too_much.status_code == 422 and too_much.json()["code"] == "exceeds_approved"
    assert on_hand(client, "clerk", "510121", "NH2014")["2014-01"] == (
        county_before[0] - 2000,
        county_before[1],
    )
    confirm_path = f"/api/v1/requests/{number}/shipments/{first.json()['number']}/confirm"
    arrival = {
        "shipment_number": first.json()["number"],
        "received": [{"item_code": "NH2014", "batch_number": "2014-01", "quantity_received": 1480}],
    }
    unconfirmed = client.post(confirm_path, json=arrival, headers=headers("requester"))
    assert unconfirmed.status_code == 409, unconfirmed.text
    assert unconfirmed.json()["code"] == "shortage_unconfirmed"
    assert unconfirmed.json()["missing"] == [
        {
            "item_code": "NH2014",
            "item_name": "年画",
            "batch_number": "2014-01",
            "shipped": 1500,
            "received": 1480,
            "missing": 20,
            "unit": "张",
        }
    ]
    shortage = {
        "reason": "lost_in_transit",
        "lines": [{"item_code": "NH2014", "batch_number": "2014-01", "quantity": 20}],
    }
    short = client.post(
        confirm_path, json={**arrival, "shortage": shortage}, headers=headers("requester")
    )
    assert short.status_code == 201, short.text
    assert short.json()["reason"] == "lost_in_transit"
    assert short.json()["memo"] == "短少原因：运输丢失"
    still_open = client.get(f"/api/v1/requests/{number}", headers=headers("requester")).json()
    assert still_open["status"] == "approved"
    last = client.post(
        f"/api/v1/requests/{number}/shipments/{second.json()['number']}/confirm",
        headers=headers("requester"),
    )
    assert last.status_code == 201, last.text
    closed = client.get(f"/api/v1/requests/{number}", headers=headers("requester")).json()
    assert closed["status"] == "closed"
    assert [(line["issued"], line["received"], line["short"]) for line in closed["lines"]] == [
        (2000, 1980, 20),
        (30, 30, 0),
    ]
    township = on_hand(client, "requester", "510121-ZJ", "NH2014")["2014-01"]
    assert township == (2000 + 1980, 0)  # the template's 2,000 plus what arrived
    events = client.get(f"/api/v1/requests/{number}/events", headers=headers("approver")).json()
    assert [e["action"] for e in events] == [
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
    assert all(e["user_id"] for e in events)
    verification = client.get("/api/v1/audit/verification", headers=headers("auditor-root"))
    assert verification.status_code == 200 and verification.json()["ok"] is True


def test_movements_reads_and_reversal(client, numbers):
    clerk = headers("clerk")
    received = client.post(
        "/api/v1/transactions/receipts",
        json={
            "location_code": "510121",
            "lines": [
                {"item_code": "NH2014", "batch_number": "2014-09", "quantity": 2, "unit": "捆"}
            ],
        },
        headers=clerk,
    )
    assert received.status_code == 201 and received.json()["number"].startswith("RK-2026-")
    distributed = client.post(
        "/api/v1/transactions/distributions",
        json={
            "location_code": "510121",
            "lines": [{"item_code": "NH2014", "quantity": 10, "batch_number": "2014-09"}],
            "memo": "5.29",
        },
        headers=clerk,
    )
    assert distributed.status_code == 201
    reversal = client.post(
        "/api/v1/transactions/reversals",
        json={"transaction_number": distributed.json()["number"]},
        headers=clerk,
    )
    assert (
        reversal.status_code == 201
        and reversal.json()["reverses_sequence"] == distributed.json()["sequence"]
    )
    again = client.post(
        "/api/v1/transactions/reversals",
        json={"transaction_number": distributed.json()["number"]},
        headers=clerk,
    )
    assert again.status_code == 409 and again.json()["code"] == "reversal_already_exists"
    assert again.headers["content-type"].startswith("application/problem+json")
    listing = client.get(
        "/api/v1/transactions", params={"location": "510121", "kind": "reversal"}, headers=clerk
    ).json()
    assert [tx["number"] for tx in listing["items"]] == [reversal.json()["number"]]
    one = client.get(
        f"/api/v1/transactions/{received.json()['number']}", headers=headers("auditor")
    )
    assert one.status_code == 200 and one.json()["postings"][1]["quantity"] == 1000
    by_item = client.get(
        "/api/v1/balances",
        params={"location": "510121", "subtree": True, "group_by": "item"},
        headers=clerk,
    )
    nianhua = next(row for row in by_item.json()["items"] if row["item_code"] == "NH2014")
    accounts = client.get(
        "/api/v1/balances",
        params={"location": "510121", "subtree": True, "item": "NH2014"},
        headers=clerk,
    )
    assert nianhua["on_hand"] == sum(row["on_hand"] for row in accounts.json()["items"])
    assert {row["location_code"] for row in accounts.json()["items"]} == {"510121", "510121-ZJ"}
    as_of = client.get(
        "/api/v1/balances",
        params={"location": "510121", "item": "NH2014", "as_of": "2026-05-01"},
        headers=clerk,
    )
    assert as_of.json()["items"] == []
    digest = client.get("/api/v1/chain/digest", headers=headers("requester")).json()
    assert digest["sequence"] == reversal.json()["sequence"] and len(digest["hash"]) == 64


def test_bad_input_is_a_clear_4xx(client):
    clerk = headers("clerk")
    unknown_field = client.post(
        "/api/v1/transactions/distributions",
        json={
            "location_code": "510121",
            "lines": [{"item_code": "NH2014", "quantity": 1}],
            "colour": "red",
        },
        headers=clerk,
    )
    assert unknown_field.status_code == 400 and unknown_field.json()["code"] == "invalid_request"
    wrong_type = client.post(
        "/api/v1/transactions/distributions",
        json={"location_code": "510121", "lines": "many"},
        headers=clerk,
    )
    assert wrong_type.status_code == 400
    negative = client.post(
        "/api/v1/transactions/distributions",
        json={"location_code": "510121", "lines": [{"item_code": "NH2014", "quantity": -5}]},
        headers=clerk,
    )
    assert negative.status_code == 422 and negative.json()["code"] == "quantity_must_be_positive"
    assert negative.json()["field"] == "lines[0].quantity"
    too_much = client.post(
        "/api/v1/transactions/distributions",
        json={"location_code": "510121", "lines": [{"item_code": "NH2014", "quantity": 10**8}]},
        headers=clerk,
    )
    assert too_much.status_code == 422 and too_much.json()["code"] == "exceeds_available"
    missing = client.get("/api/v1/transactions/CK-2026-999999", headers=clerk)
    assert missing.status_code == 404 and missing.json()["code"] == "unknown_transaction"
    page = client.get("/api/v1/items", params={"limit": 1000}, headers=clerk)
    assert page.status_code == 400
    no_token = client.get("/api/v1/items")
    assert no_token.status_code == 401 and no_token.json()["code"] == "unauthenticated"


def test_pages_are_bounded_and_stable(client):
    first = client.get("/api/v1/transactions", params={"limit": 3}, headers=headers("admin")).json()
    second = client.get(
        "/api/v1/transactions", params={"limit": 3, "offset": 3}, headers=headers("admin")
    ).json()
    sequences = [tx["sequence"] for tx in first["items"] + second["items"]]
    assert sequences == sorted(sequences) and len(set(sequences)) == 6
    assert first["next_offset"] == 3


def test_allocation_plan_compute_and_apply(client):
    plan = client.post(
        "/api/v1/allocation-plans",
        json={
            "source_code": "510121",
            "item_code": "NH2014",
            "quantity": 3000,
            "shares": [
                {"location_code": "510121-ZJ", "weight": 2},
                {"location_code": "510121-ZJ-PS", "weight": 1},
            ],
        },
        headers=headers("approver"),
    )
    assert plan.status_code == 200, plan.text
    assert [(line["location_code"], line["packs"]) for line in plan.json()["lines"]] == [
        ("510121-ZJ", 4),
        ("510121-ZJ-PS", 2),
    ]
    applied = client.post(
        "/api/v1/allocation-plans/apply",
        json={
            "source_code": "510121",
            "item_code": "NH2014",
            "quantity": 3000,
            "shares": [
                {"location_code": "510121-ZJ", "weight": 2},
                {"location_code": "510121-ZJ-PS", "weight": 1},
            ],
        },
        headers=headers("clerk"),
    )
    assert applied.status_code == 201, applied.text
    assert [s["counterparty_code"] for s in applied.json()["shipments"]] == [
        "510121-ZJ",
        "510121-ZJ-PS",
    ]
