"""A role's refusal names what is needed once: an admin-only action asked by a requester says
需要管理员, not 需要管理员或管理员 (an action refused before any write)."""

from __future__ import annotations

from tests.api.conftest import headers

V1 = "/api/v1"


def test_an_admin_only_refusal_names_the_admin_once(client):
    body = {"location_code": "510121-ZJ", "min_months": 1, "max_months": 3}
    answer = client.post(f"{V1}/norms", json=body, headers=headers("requester"))
    assert answer.status_code == 403, answer.text
    detail = answer.json()["detail"]
    assert "需要管理员 " in detail and "管理员或管理员" not in detail, detail
    assert detail.startswith("您的角色（申领人）无权执行此操作")
