"""库存定额 set over HTTP (`POST /api/v1/norms`) and read (`GET /api/v1/norms`): an admin sets a
location's norm within its city, dated and logged as `ledger norms set` does; a level's norm,
which every city's places of that level follow, only a global admin; everyone else is refused
with 403 and nothing is stored. Bad months, scopes and dates keep their codes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ledger.db import tables as t
from ledger.services import norms
from tests.api.conftest import headers
from tests.conftest import TODAY

V1 = "/api/v1"


def logged(database) -> list[tuple]:
    log, loc = t.operations_log.c, t.locations.c
    with database.read() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                select(log.action, log.object_key, loc.code)
                .outerjoin(t.locations, loc.id == log.root_id)
                .where(log.action == "stock_norm.set")
                .order_by(log.id)
            )
        ]


def test_an_admin_sets_a_norm_of_a_place_of_its_city(client, api_database):
    body = {"location_code": "510121-ZJ", "item_code": "BYT", "min_months": 2, "max_months": 5}
    answer = client.post(f"{V1}/norms", json=body, headers=headers("admin", "n-1"))
    assert answer.status_code == 201, answer.text
    found = answer.json()
    assert (found["location_code"], found["item_code"], found["min_months"]) == (
        "510121-ZJ",
        "BYT",
        2,
    )
    assert found["max_months"] == 5 and found["valid_from"] == TODAY.isoformat()
    again = client.post(f"{V1}/norms", json=body, headers=headers("admin", "n-1"))
    assert again.json() == found  # the same key: answered once, stored once
    stored = norms.norms_set(api_database)
    assert [(s.location_code, s.item_code, s.min_months, s.max_months) for s in stored] == [
        ("510121-ZJ", "BYT", 2, 5)
    ]
    assert logged(api_database) == [("stock_norm.set", "510121-ZJ BYT", "510100")]
    in_force = api_database.lookup(lambda s: norms.norm_of(s, "510121-ZJ", "BYT", TODAY))
    assert (in_force.min_months, in_force.max_months, in_force.source) == (2, 5, "location_item")
    listed = client.get(f"{V1}/norms", headers=headers("requester"))
    assert listed.status_code == 200 and [s["id"] for s in listed.json()] == [found["id"]]


def test_a_level_norm_is_a_global_admins(client, api_database):
    body = {"level": "township", "min_months": 2, "max_months": 4}
    city = client.post(f"{V1}/norms", json=body, headers=headers("admin"))
    assert city.status_code == 403 and city.json()["code"] == "forbidden"
    assert "全局管理员" in city.json()["detail"]
    assert norms.norms_set(api_database) == [] and logged(api_database) == []
    answer = client.post(f"{V1}/norms", json=body, headers=headers("global"))
    assert answer.status_code == 201, answer.text
    assert logged(api_database) == [("stock_norm.set", "township", None)]


def test_others_may_not_set_norms(client, api_database):
    body = {"location_code": "510121-ZJ", "min_months": 1, "max_months": 3}
    for who in ("clerk", "requester", "approver", "auditor"):
        answer = client.post(f"{V1}/norms", json=body, headers=headers(who))
        assert answer.status_code == 403, (who, answer.text)
    other_city = client.post(
        f"{V1}/norms", json={**body, "location_code": "510121-ZJ"}, headers=headers("admin")
    )
    assert other_city.status_code == 201  # its own city's township
    assert len(norms.norms_set(api_database)) == 1


def test_bad_norms_are_refused_with_their_codes(client, api_database):
    place = {"location_code": "510121-ZJ"}
    cases = [
        ({**place, "min_months": 4, "max_months": 2}, "norm_months_invalid", "max_months"),
        ({**place, "min_months": 1, "max_months": 37}, "norm_months_invalid", "max_months"),
        ({"min_months": 1, "max_months": 3}, "norm_scope_invalid", "level"),
        ({"level": "province", "min_months": 1, "max_months": 3}, "norm_scope_invalid", "level"),
        (
            {**place, "min_months": 1, "max_months": 3, "valid_from": "2026-06-29"},
            "norm_date_in_past",
            "valid_from",
        ),
        ({**place, "item_code": "NOPE", "min_months": 1, "max_months": 3}, "unknown_item", None),
    ]
    for body, code, field in cases:
        who = "global" if "level" in body else "admin"
        answer = client.post(f"{V1}/norms", json=body, headers=headers(who))
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["code"] == code, (body, answer.json())
        if field:
            assert answer.json()["field"] == field, (body, answer.json())
    unknown_field = client.post(
        f"{V1}/norms",
        json={**place, "min_months": 1, "max_months": 3, "x": 1},
        headers=headers("admin"),
    )
    assert unknown_field.status_code == 400
    assert norms.norms_set(api_database) == []


def test_a_norm_from_a_later_day_leaves_today_as_it_was(client, api_database):
    later = TODAY + dt.timedelta(days=1)
    body = {"location_code": "510121-ZJ", "min_months": 4, "max_months": 8}
    answer = client.post(
        f"{V1}/norms", json={**body, "valid_from": later.isoformat()}, headers=headers("admin")
    )
    assert answer.status_code == 201
    today = api_database.lookup(lambda s: norms.norm_of(s, "510121-ZJ", "BYT", TODAY))
    tomorrow = api_database.lookup(lambda s: norms.norm_of(s, "510121-ZJ", "BYT", later))
    assert (today.min_months, today.max_months) == (1, 3)
    assert (tomorrow.min_months, tomorrow.max_months) == (4, 8)
