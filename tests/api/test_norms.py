"""库存定额 over HTTP: a township's requester reads its own suggestion (and its villages'),
never another township's; the answer carries the service's figures; a request made over the
API keeps the suggestion beside what was asked; the stock alerts report exports."""

from __future__ import annotations

from ledger.services import suggestions
from tests.api.conftest import headers
from tests.conftest import TODAY

V1 = "/api/v1"


def test_a_township_reads_its_own_suggestion_only(client, api_database):
    own = client.get(f"{V1}/locations/510121-ZJ/suggested-request", headers=headers("requester"))
    assert own.status_code == 200, own.text
    answer = own.json()
    expected = api_database.lookup(
        lambda s: suggestions.suggested_request(s, "510121-ZJ", TODAY, 6)
    )
    assert answer["location_code"] == "510121-ZJ" and answer["months"] == 6
    assert (answer["window_from"], answer["window_to"]) == ("2025-12-01", "2026-05-31")
    assert [
        (line["item_code"], line["on_hand"], line["in_transit"], line["suggested"])
        for line in answer["lines"]
    ] == [
        (p.item.code, p.suggestion.on_hand, p.suggestion.in_transit, p.suggestion.suggested)
        for p in expected
    ]
    assert any(line["in_transit"] for line in answer["lines"])  # the template's shipments
    village = client.get(
        f"{V1}/locations/510121-ZJ-PS/suggested-request", headers=headers("requester")
    )
    assert village.status_code == 200
    other = client.get(f"{V1}/locations/510181-QCS/suggested-request", headers=headers("requester"))
    assert other.status_code == 403
    county = client.get(f"{V1}/locations/510121/suggested-request", headers=headers("requester"))
    assert county.status_code == 403
    bad = client.get(
        f"{V1}/locations/510121-ZJ/suggested-request",
        params={"months": 5},
        headers=headers("requester"),
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_field"
    sheet = client.get(
        f"{V1}/locations/510121-ZJ/suggested-request",
        params={"format": "csv", "months": 3},
        headers=headers("requester"),
    )
    assert sheet.status_code == 200 and "建议申领量" in sheet.text


def test_a_request_keeps_the_suggestion_and_the_approver_sees_both(client):
    made = client.post(
        f"{V1}/requests",
        json={"requester_code": "510121-ZJ", "lines": [{"item_code": "NH2014", "quantity": 500}]},
        headers=headers("requester", "norms-request-1"),
    )
    assert made.status_code == 201, made.text
    number = made.json()["number"]
    seen = client.get(f"{V1}/requests/{number}", headers=headers("approver")).json()
    suggested = client.get(
        f"{V1}/locations/510121-ZJ/suggested-request", headers=headers("approver")
    ).json()
    (line,) = seen["lines"]
    expected = {x["item_code"]: x["suggested"] for x in suggested["lines"]}.get("NH2014", 0)
    assert (line["requested"], line["suggested"]) == (500, expected)


def test_the_stock_alerts_report_over_http(client):
    answer = client.get(
        f"{V1}/reports/stock-alerts",
        params={"under": "510121", "months": 3},
        headers=headers("auditor"),
    )
    assert answer.status_code == 200
    report = answer.json()
    assert report["name"] == "stock-alerts" and report["columns"][0]["title"] == "库点编码"
    keys = [column["key"] for column in report["columns"]]
    assert all(row[keys.index("alert")] for row in report["rows"])
    xlsx = client.get(
        f"{V1}/reports/stock-alerts",
        params={"under": "510121", "format": "xlsx", "level": "township"},
        headers=headers("auditor"),
    )
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    refused = client.get(
        f"{V1}/reports/stock-alerts", params={"under": "510181"}, headers=headers("auditor")
    )
    assert refused.status_code == 403
