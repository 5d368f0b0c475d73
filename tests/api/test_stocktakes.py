"""A stocktake over HTTP: opened by the county's clerk, counted, closed, approved."""

from __future__ import annotations

from tests.api.conftest import headers

V1 = "/api/v1"


def test_a_county_counts_and_the_approver_posts_the_difference(client):
    opened = client.post(
        f"{V1}/stocktakes",
        json={"location_code": "510121", "item_codes": ["BYT"], "blind": True},
        headers=headers("clerk"),
    )
    assert opened.status_code == 201, opened.text
    number = opened.json()["number"]
    assert opened.json()["expected"] == []  # blind: no book quantities for the counters
    balance = client.get(
        f"{V1}/balances", params={"location": "510121", "item": "BYT"}, headers=headers("admin")
    ).json()["items"]
    (account,) = [row for row in balance if row["on_hand"]]
    counted = client.post(
        f"{V1}/stocktakes/{number}/counts",
        json={
            "lines": [
                {
                    "location_code": "510121",
                    "item_code": "BYT",
                    "batch_number": account["batch_number"],
                    "quantity": account["on_hand"] - 3,
                }
            ]
        },
        headers=headers("clerk"),
    )
    assert counted.status_code == 200, counted.text
    early = client.get(f"{V1}/stocktakes/{number}/reconciliation", headers=headers("approver"))
    assert early.status_code == 409 and early.json()["code"] == "stocktake_state"
    closed = client.post(f"{V1}/stocktakes/{number}/close", headers=headers("clerk"))
    assert closed.status_code == 200, closed.text
    report = client.get(
        f"{V1}/stocktakes/{number}/reconciliation",
        params={"threshold": 0.5},
        headers=headers("auditor"),
    ).json()
    (line,) = report["lines"]
    assert (line["difference"], line["outcome_name"]) == (-3, "盘亏")
    assert report["by_location"][0]["rate"] == 0.0 and not report["passed"]
    refused = client.post(
        f"{V1}/stocktakes/{number}/approve", json={"reason": "x"}, headers=headers("clerk")
    )
    assert refused.status_code == 403
    unseen = client.post(
        f"{V1}/stocktakes/{number}/approve",
        json={"reason": "三只过期未登记，报损补记"},
        headers=headers("approver"),
    )
    assert unseen.status_code == 409 and unseen.json()["code"] == "approval_preview_stale"
    preview = client.get(f"{V1}/stocktakes/{number}/approval-preview", headers=headers("approver"))
    assert preview.status_code == 200, preview.text
    assert preview.json()["totals"] == [{"unit": "只", "gain": 0, "loss": 3, "net": -3}]
    approved = client.post(
        f"{V1}/stocktakes/{number}/approve",
        json={"reason": "三只过期未登记，报损补记", "preview_digest": preview.json()["digest"]},
        headers=headers("approver"),
    )
    assert approved.status_code == 200, approved.text
    (adjustment,) = approved.json()["adjustments"]
    assert adjustment.startswith("PD-2026-")
    after = client.get(
        f"{V1}/balances", params={"location": "510121", "item": "BYT"}, headers=headers("admin")
    ).json()["items"]
    assert [row["on_hand"] for row in after if row["batch_number"] == account["batch_number"]] == [
        account["on_hand"] - 3
    ]
    missing = client.get(f"{V1}/stocktakes/ST-2026-999999", headers=headers("admin"))
    assert missing.status_code == 404 and missing.json()["code"] == "unknown_stocktake"
