"""Versions of reference data and checkpoints over HTTP."""

from __future__ import annotations

import pytest

from tests.api.conftest import headers

V1 = "/api/v1"


@pytest.fixture
def global_admin():
    """The template's admin of every city."""
    return headers("global")


def test_a_global_admin_corrects_a_batch_expiry_as_a_new_version(client, global_admin):
    url = f"{V1}/batches/BYT/B-LATE/versions"
    body = {"reason": "厂家来函更正有效期", "expires_on": "2027-12-31"}
    keyed = global_admin | {"Idempotency-Key": "fix-b-late"}
    made = client.post(url, json=body, headers=keyed)
    assert made.status_code == 201, made.text
    assert made.json()["version"] == 2 and made.json()["content"]["expires_on"] == "2027-12-31"
    again = client.post(url, json=body, headers=keyed)
    assert again.json() == made.json()
    versions = client.get(url, headers=headers("clerk")).json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["user"] == "测试 global"
    batch = client.get(f"{V1}/batches/BYT/B-LATE", headers=headers("clerk")).json()
    assert batch["expires_on"] == "2027-12-31"
    log = client.get(
        f"{V1}/audit/log", params={"action": "batch.change"}, headers=global_admin
    ).json()
    assert [entry["object_key"] for entry in log["items"]] == ["BYT/B-LATE"]
    verified = client.get(f"{V1}/audit/verification", headers=headers("auditor-root")).json()
    assert verified["ok"], verified["findings"]


def test_only_global_admins_change_items_and_bodies_are_checked(client, global_admin):
    url = f"{V1}/items/NH2014/versions"
    for who in ("clerk", "admin"):  # a city's admin would change every city's history
        refused = client.post(url, json={"reason": "x", "name": "新年画"}, headers=headers(who))
        assert refused.status_code == 403
    unknown = client.post(url, json={"reason": "x", "kind": "printed"}, headers=global_admin)
    assert unknown.status_code == 400
    unit = client.post(url, json={"reason": "换单位", "base_unit": "幅"}, headers=global_admin)
    assert unit.status_code == 422 and unit.json()["code"] == "base_unit_in_use"
    same = client.post(url, json={"reason": "无改动", "name": "年画"}, headers=global_admin)
    assert same.status_code == 422 and same.json()["code"] == "reference_unchanged"


def test_a_location_is_renamed_and_its_history_read_within_the_subtree(client):
    url = f"{V1}/locations/510121-ZJ/versions"
    renamed = client.post(
        url, json={"reason": "撤镇设街道", "name": "赵家街道"}, headers=headers("admin")
    )
    assert renamed.status_code == 201, renamed.text
    shown = client.get(f"{V1}/locations/510121-ZJ", headers=headers("clerk")).json()
    assert shown["name"] == "赵家街道"
    assert len(client.get(url, headers=headers("requester")).json()) == 2
    outside = client.get(f"{V1}/locations/510181/versions", headers=headers("clerk"))
    assert outside.status_code == 403


def test_a_checkpoint_from_the_digest_proves_the_ledger_holds_it(client):
    digest = client.get(f"{V1}/chain/digest", headers=headers("clerk")).json()
    checkpoint = digest["checkpoint"]
    assert checkpoint == f"{digest['sequence']}:{digest['hash'][:16]}"
    url = f"{V1}/audit/verification"
    held = client.get(url, params={"checkpoint": checkpoint}, headers=headers("auditor-root"))
    assert held.json()["ok"] and held.json()["checkpoints"] == [checkpoint]
    other = f"{digest['sequence']}:{'0' * 16}"
    beyond = f"{digest['sequence'] + 5}:{digest['hash']}"
    wrong = client.get(
        url, params={"checkpoint": [other, beyond]}, headers=headers("auditor-root")
    ).json()
    assert not wrong["ok"]
    assert [f["code"] for f in wrong["findings"]] == ["checkpoint_mismatch", "checkpoint_missing"]
    bad = client.get(url, params={"checkpoint": "12:xyz"}, headers=headers("auditor-root"))
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_checkpoint"


def test_a_period_close_answers_with_its_checkpoint(client):
    closed = client.post(
        f"{V1}/audit/period-closes",
        json={"period_end": "2026-06-29"},
        headers=headers("auditor-root"),
    ).json()
    assert closed["checkpoint"] == f"{closed['sequence']}:{closed['hash'][:16]}"
