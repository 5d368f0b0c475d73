"""Over HTTP: a voucher names the signed-in user who made it (in its JSON, on its printed form,
in its CSV), and the operations log is read by the auditors at the top and the admins only."""

from __future__ import annotations

import csv
import io

from tests.api.conftest import headers


def me(client, who: str) -> dict:
    return client.get("/api/v1/me", headers=headers(who)).json()


def test_a_posted_voucher_names_its_maker_in_json_print_and_csv(client):
    clerk = me(client, "clerk")
    made = client.post(
        "/api/v1/transactions/distributions",
        json={"location_code": "510121", "lines": [{"item_code": "NH2014", "quantity": 20}]},
        headers=headers("clerk"),
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["maker_id"], body["maker"], body["chain_version"]) == (
        clerk["id"],
        clerk["label"],
        2,
    )
    number = body["number"]
    again = client.get(f"/api/v1/transactions/{number}", headers=headers("auditor")).json()
    assert again["maker"] == clerk["label"] and again["approver"] is None
    page = client.get(
        f"/api/v1/transactions/{number}/voucher",
        params={"format": "html"},
        headers=headers("auditor"),
    )
    assert page.status_code == 200 and f"制单人：{clerk['label']}" in page.text
    assert page.headers["content-type"] == "text/html; charset=utf-8"  # the charset said once
    exported = client.get(
        f"/api/v1/transactions/{number}/voucher",
        params={"format": "csv"},
        headers=headers("auditor"),
    )
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [f"制单人：{clerk['label']}"] in rows
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"


def test_the_operations_log_is_for_admins_and_the_auditors_at_the_top(client, numbers):
    number = numbers.submitted["in"]
    approved = client.post(
        f"/api/v1/requests/{number}/approve",
        json={"lines": [{"item_code": "NH2014", "quantity": 500}]},
        headers=headers("approver"),
    )
    assert approved.status_code == 200, approved.text
    log = client.get(
        "/api/v1/audit/log", params={"object_key": number}, headers=headers("auditor-root")
    )
    assert log.status_code == 200, log.text
    newest = log.json()["items"][0]
    assert (newest["action"], newest["actor"], newest["root_code"]) == (
        "request.approved",
        me(client, "approver")["label"],
        "510100",
    )
    everything = client.get("/api/v1/audit/log", params={"limit": 200}, headers=headers("admin"))
    assert everything.status_code == 200
    actions = {entry["action"] for entry in everything.json()["items"]}
    assert {"request.approved", "user.add", "stocktake.close"} <= actions
    for who in ("auditor", "clerk", "approver", "requester"):  # the county's auditor included
        refused = client.get("/api/v1/audit/log", headers=headers(who))
        assert refused.status_code == 403, (who, refused.text)


def test_refused_tokens_are_logged_without_the_token_and_without_flooding(client, monkeypatch):
    import api.auth

    bad = {"Authorization": "Bearer lgr_not-a-real-token"}
    for _ in range(3):
        assert client.get("/api/v1/me", headers=bad).status_code == 401

    def failures():
        answer = client.get(
            "/api/v1/audit/log", params={"action": "sign_in.failed"}, headers=headers("admin")
        )
        return answer.json()["items"]

    (first,) = failures()  # three refusals within a minute: one entry
    assert first["after"]["refusals"] == 1 and first["object_type"] == "client"
    assert "not-a-real-token" not in str(first)
    monkeypatch.setattr(api.auth, "failed_sign_in_log_interval_seconds", 0.0)
    assert client.get("/api/v1/me", headers=bad).status_code == 401
    newest = failures()[0]
    assert newest["after"]["refusals"] == 3  # the two held back and this one


def test_the_log_reads_times_with_their_offset_or_in_the_office_zone(client, numbers):
    import datetime as dt
    from zoneinfo import ZoneInfo

    number = numbers.submitted["in"]
    assert (
        client.post(f"/api/v1/requests/{number}/cancel", headers=headers("requester")).status_code
        == 200
    )
    shanghai = dt.datetime.now(ZoneInfo("Asia/Shanghai"))

    def entries(**params):
        answer = client.get(
            "/api/v1/audit/log",
            params={"object_key": number, **params},
            headers=headers("auditor-root"),
        )
        assert answer.status_code == 200, answer.text
        return [entry["action"] for entry in answer.json()["items"]]

    a_minute_ago = (shanghai - dt.timedelta(minutes=1)).replace(microsecond=0)
    assert "request.cancelled" in entries(since=a_minute_ago.isoformat())  # with +08:00
    local = a_minute_ago.replace(tzinfo=None).isoformat()  # no offset: the office's time
    assert "request.cancelled" in entries(since=local)
    assert "request.cancelled" not in entries(until=local)
    later = (shanghai + dt.timedelta(minutes=1)).replace(microsecond=0)
    assert entries(since=later.isoformat()) == []
