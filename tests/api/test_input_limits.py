"""Limits and types at the API, on SQLite and PostgreSQL: integers are JSON integers, the
documented maximum of a field is accepted and one past it refused, huge quantities are refused
before any work, location levels hold, and a field has one JSON type on both engines."""

from __future__ import annotations

import datetime as dt

import pytest
from litestar.testing import TestClient

from api.app import create_app
from ledger.db import journal_queries
from ledger.db.unit_of_work import Database
from ledger.limits import idempotency_key_length_max, memo_length_max
from ledger.services.users import add_user
from tests.api.conftest import SETUP, headers, token
from tests.bound import Ledger
from tests.builder import ledger_from_text
from tests.conftest import TODAY

V1 = "/api/v1"
ADMIN = headers("admin")


@pytest.fixture
def api(engine):
    database = Database(engine)
    ledger_from_text(Ledger(database, clock=lambda: TODAY), SETUP)
    add_user(database, "测试 admin", "admin", "510100", token("admin"))
    with TestClient(app=create_app(database, clock=lambda: TODAY)) as client:
        yield client, database


def state(database) -> tuple:
    with database.read() as connection:
        return journal_queries.counts(connection), journal_queries.chain_digest(connection)


def receipt_body(quantity, unit: str | None = None, item: str = "NH2014") -> bytes:
    line = f'"item_code":"{item}","batch_number":"2014-09","quantity":{quantity}'
    if unit:
        line += f',"unit":"{unit}"'
    if item == "BYT":
        line += ',"expires_on":"2028-01-31"'
    return f'{{"location_code":"510100","lines":[{{{line}}}]}}'.encode()


def post(client, path: str, content: bytes, key: str | None = None):
    request_headers = {**ADMIN, "Content-Type": "application/json"}
    if key is not None:
        request_headers["Idempotency-Key"] = key
    return client.post(V1 + path, content=content, headers=request_headers)


def test_quantities_must_be_json_integers(api):
    client, database = api
    before = state(database)
    for written in ('"10"', "10.0", "1e3", "1E1", "true", "[10]", "null"):
        response = post(client, "/transactions/receipts", receipt_body(written))
        assert response.status_code == 400, (written, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["code"] in ("integer_required", "invalid_request"), problem
        assert problem["field"] == "lines[0].quantity"
    assert state(database) == before
    assert post(client, "/transactions/receipts", receipt_body(10)).status_code == 201


def test_query_integers_are_decimal_integers(api):
    client, _ = api
    for written in ("1e3", "10.0", "0x10", "十"):
        response = client.get(f"{V1}/transactions", params={"limit": written}, headers=ADMIN)
        assert response.status_code == 400, (written, response.text)
        assert response.json()["code"] == "integer_required"
    assert client.get(f"{V1}/transactions?limit=200", headers=ADMIN).status_code == 200
    response = client.get(f"{V1}/transactions?limit=201", headers=ADMIN)
    assert response.status_code == 400 and response.json()["code"] == "integer_out_of_range"


def test_an_idempotency_key_of_the_documented_200_characters_is_accepted(api):
    client, database = api
    key = "k" * idempotency_key_length_max
    first = post(client, "/transactions/receipts", receipt_body(10), key=key)
    assert first.status_code == 201, first.text
    again = post(client, "/transactions/receipts", receipt_body(10), key=key)
    assert again.json()["number"] == first.json()["number"]
    plan = (
        b'{"source_code":"510100","item_code":"NH2014","quantity":1000,'
        b'"shares":[{"location_code":"510121","weight":1},{"location_code":"510181","weight":1}]}'
    )
    applied = post(client, "/allocation-plans/apply", plan, key="p" * 200)
    assert applied.status_code == 201, applied.text
    before = state(database)
    replay = post(client, "/allocation-plans/apply", plan, key="p" * 200)
    assert replay.json() == applied.json() and state(database) == before
    too_long = post(client, "/transactions/receipts", receipt_body(10), key="k" * 201)
    assert too_long.status_code == 422 and too_long.json()["code"] == "text_too_long"
    assert state(database) == before


def test_the_longest_memo_is_accepted(api):
    client, _ = api
    body = receipt_body(10)[:-1] + f',"memo":"{"备" * memo_length_max}"}}'.encode()
    assert post(client, "/transactions/receipts", body).status_code == 201


def test_huge_receipts_are_refused_at_once(api):
    client, database = api
    before = state(database)
    response = post(client, "/transactions/receipts", receipt_body(2_000_000_000, "箱", "BYT"))
    assert response.status_code == 422 and response.json()["code"] == "quantity_too_large"
    response = post(client, "/transactions/receipts", receipt_body(2_000_000_000, None, "BYT"))
    assert response.status_code == 422 and response.json()["code"] == "too_many_packs"
    assert state(database) == before


def test_location_levels_at_the_api(api):
    client, database = api
    before = state(database)
    for body in (
        b'{"code":"V1","name":"\xe6\x9d\x91","level":"village","parent_code":"510100"}',
        b'{"code":"C2","name":"\xe5\xb8\x82","level":"city","parent_code":"510100"}',
        b'{"code":"T1","name":"\xe9\x95\x87","level":"township","parent_code":"510121-ZJ"}',
    ):
        response = post(client, "/locations", body)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "location_level"
    assert state(database) == before
    ok = post(
        client,
        "/locations",
        b'{"code":"510121-ZJ-XH","name":"\xe6\x96\xb0\xe5\x90\x88\xe6\x9d\x91",'
        b'"level":"village","parent_code":"510121-ZJ"}',
    )
    assert ok.status_code == 201, ok.text


def test_as_of_balances_are_integers_on_every_engine(api):
    client, _ = api
    as_of = (TODAY - dt.timedelta(days=1)).isoformat()
    rows = []
    for location in ("510100", "supplier"):  # a physical account, a virtual one (summed)
        response = client.get(
            f"{V1}/balances", params={"location": location, "as_of": as_of}, headers=ADMIN
        )
        assert response.status_code == 200, response.text
        rows += response.json()["items"]
    assert {row["location_code"] for row in rows} == {"510100", "supplier"}
    for row in rows:
        for field in ("on_hand", "reserved", "available"):
            assert type(row[field]) is int, (field, row)
    now = client.get(f"{V1}/balances", params={"location": "510100"}, headers=ADMIN).json()
    assert [row["on_hand"] for row in now["items"]] == [
        row["on_hand"] for row in rows if row["location_code"] == "510100"
    ]


def test_a_key_twice_in_one_object_is_refused_and_changes_nothing(api):
    client, database = api
    before = state(database)
    twice = b'{"location_code":"510121","location_code":"510100","lines":[{"item_code":"NH2014",'
    twice += b'"batch_number":"2014-09","quantity":5}]}'
    response = post(client, "/transactions/receipts", twice)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "duplicate_key"
    assert response.json()["field"] == "location_code"
    assert state(database) == before
