"""库存定额 set over HTTP (`POST /api/v1/norms`) and read (`GET /api/v1/norms`): an admin sets a
location's norm within its city, dated and logged as `ledger norms set` does, and a level's
norm for its own city (a second city in the database, 渝中样例市, is out of its reach); a level's
norm for every city only a global admin; everyone else is refused with 403 and nothing is
stored. Bad months, scopes and dates keep their codes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ledger.db import tables as t
from ledger.services import norms
from ledger.services.users import add_user
from tests.api.conftest import headers, token
from tests.bound import Ledger
from tests.builder import ledger_from_text
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


SECOND_CITY = """
location 500100 渝中样例市 city
location 500101 样例一区 county 500100
location 500101-DY 样例镇 township 500101
"""


def add_second_city(database) -> None:
    """渝中样例市 and its admin (token of `admin-yz`)."""
    ledger_from_text(Ledger(database, clock=lambda: TODAY), SECOND_CITY)
    add_user(database, "测试 admin-yz", "admin", "500100", token("admin-yz"))


def test_a_city_admin_sets_its_own_citys_level_norm(client, api_database):
    body = {"level": "township", "min_months": 2, "max_months": 4}
    answer = client.post(f"{V1}/norms", json=body, headers=headers("admin", "n-2"))
    assert answer.status_code == 201, answer.text
    assert (answer.json()["level"], answer.json()["city_code"]) == ("township", "510100")
    named = client.post(
        f"{V1}/norms",
        json={**body, "city_code": "510100", "max_months": 5},
        headers=headers("admin"),
    )
    assert named.status_code == 201 and named.json()["city_code"] == "510100"
    assert logged(api_database) == [
        ("stock_norm.set", "510100 township", "510100"),
        ("stock_norm.set", "510100 township", "510100"),
    ]
    in_force = api_database.lookup(lambda s: norms.norm_of(s, "510121-ZJ", "BYT", TODAY))
    assert (in_force.min_months, in_force.max_months, in_force.source) == (2, 5, "city_level")
    line = client.get(
        f"{V1}/locations/510121-ZJ/suggested-request", headers=headers("requester")
    ).json()
    assert line["lines"], line  # the template's stock at 赵家镇
    assert {(x["min_months"], x["max_months"], x["norm_source"]) for x in line["lines"]} == {
        (2, 5, "city_level")
    }


def test_a_city_admin_may_not_set_another_citys_level_norm(client, api_database):
    add_second_city(api_database)
    body = {"level": "township", "city_code": "500100", "min_months": 2, "max_months": 4}
    refused = client.post(f"{V1}/norms", json=body, headers=headers("admin"))
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert "只能为本市（510100）设级别定额" in refused.json()["detail"]
    assert norms.norms_set(api_database) == [] and logged(api_database) == []
    own = client.post(f"{V1}/norms", json={**body, "city_code": None}, headers=headers("admin-yz"))
    assert own.status_code == 201 and own.json()["city_code"] == "500100"
    listed = client.get(f"{V1}/norms", headers=headers("admin")).json()
    assert listed == []  # 渝中样例市's level norm is not 成都市's
    in_force = api_database.lookup(lambda s: norms.norm_of(s, "510121-ZJ", "BYT", TODAY))
    assert in_force.source == "default"


def test_a_global_admin_sets_every_citys_level_norm_or_one_citys(client, api_database):
    add_second_city(api_database)
    body = {"level": "township", "min_months": 2, "max_months": 4}
    every = client.post(f"{V1}/norms", json=body, headers=headers("global"))
    assert every.status_code == 201, every.text
    assert every.json()["city_code"] is None
    one = client.post(
        f"{V1}/norms",
        json={**body, "city_code": "500100", "max_months": 6},
        headers=headers("global"),
    )
    assert one.status_code == 201 and one.json()["city_code"] == "500100"
    assert logged(api_database) == [
        ("stock_norm.set", "township", None),
        ("stock_norm.set", "500100 township", "500100"),
    ]
    here = api_database.lookup(lambda s: norms.norm_of(s, "510121-ZJ", "BYT", TODAY))
    there = api_database.lookup(lambda s: norms.norm_of(s, "500101-DY", "BYT", TODAY))
    assert tuple(here) == (2, 4, "level") and tuple(there) == (2, 6, "city_level")
    county = client.post(
        f"{V1}/norms", json={**body, "city_code": "510121"}, headers=headers("global")
    )
    assert county.status_code == 422
    assert (county.json()["code"], county.json()["field"]) == ("norm_scope_invalid", "city_code")
    assert len(norms.norms_set(api_database)) == 2


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
