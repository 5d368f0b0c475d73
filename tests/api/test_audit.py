"""Period closes and verification over HTTP, as the city's auditor uses them."""

from __future__ import annotations

from tests.api.conftest import headers

V1 = "/api/v1"


def test_the_city_auditor_closes_a_period_and_verifies_since(client):
    closed = client.post(
        f"{V1}/audit/period-closes",
        json={"period_end": "2026-06-29"},
        headers=headers("auditor-root"),
    )
    assert closed.status_code == 201, closed.text
    again = client.post(
        f"{V1}/audit/period-closes",
        json={"period_end": "2026-06-29"},
        headers=headers("auditor-root"),
    )
    assert again.status_code == 422 and again.json()["code"] == "period_closed"
    listed = client.get(f"{V1}/audit/period-closes", headers=headers("clerk")).json()
    assert [c["period_end"] for c in listed] == ["2026-06-29"]
    backdated = client.post(
        f"{V1}/transactions/receipts",
        json={
            "location_code": "510121",
            "lines": [{"item_code": "NH2014", "batch_number": "2014-05", "quantity": 10}],
            "occurred_on": "2026-06-28",
        },
        headers=headers("clerk"),
    )
    assert backdated.status_code == 422 and backdated.json()["code"] == "period_closed"
    full = client.get(f"{V1}/audit/verification", headers=headers("auditor-root")).json()
    since = client.get(
        f"{V1}/audit/verification",
        params={"since_close": True},
        headers=headers("auditor-root"),
    ).json()
    assert full["ok"] and since["ok"]
    assert since["since_period_end"] == "2026-06-29"
    assert since["from_sequence"] == closed.json()["sequence"]
    assert since["transactions_checked"] == 0 < full["transactions_checked"]
