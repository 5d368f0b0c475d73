"""年度需求计划 over HTTP: an office reads the plan of its own subtree in every format (the
figures the service computes, tested against the postings in tests/integration), never another
county's; bad years, growths, windows and places are refused with their codes."""

from __future__ import annotations

import csv
import io

import openpyxl

from ledger.services import report_demand
from tests.api.conftest import headers
from tests.conftest import TODAY

V1 = "/api/v1"
PLAN = f"{V1}/reports/demand-plan"


def test_the_plan_of_an_offices_subtree_in_every_format(client, api_database):
    answer = client.get(
        PLAN, params={"under": "510121", "year": 2027, "growth": "5"}, headers=headers("auditor")
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    expected = api_database.lookup(
        lambda s: report_demand.demand_plan_asked_report(s, "510121", 2027, TODAY, None, "5")
    )
    assert report["name"] == "demand-plan" and report["title"] == expected.title
    assert report["subtitle"] == expected.subtitle and "增长率：+5%" in report["subtitle"]
    assert [tuple(row) for row in report["rows"]] == [tuple(row) for row in expected.rows]
    assert [tuple(row) for row in report["totals"]] == [tuple(row) for row in expected.totals]
    assert report["rows"] and report["columns"][0]["title"] == "库点编码"
    sheet = client.get(
        PLAN,
        params={"under": "510121", "year": 2027, "format": "csv", "level": "village"},
        headers=headers("auditor"),
    )
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["库点编码", "库点", "范围"] and "计划需求量" in rows[0]
    assert any(row[2] == "合计" for row in rows)
    book = client.get(
        PLAN,
        params={"under": "510121", "year": 2027, "format": "xlsx", "months": 6},
        headers=headers("auditor"),
    )
    assert book.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(book.content))
    assert workbook.active["A1"].value == "金堂县2027年度需求计划"
    page = client.get(
        PLAN, params={"under": "510121", "year": 2026, "format": "html"}, headers=headers("auditor")
    )
    assert page.status_code == 200 and "金堂县2026年度需求计划" in page.text


def test_a_plan_outside_the_callers_subtree_is_refused(client):
    other = client.get(PLAN, params={"under": "510181", "year": 2027}, headers=headers("auditor"))
    assert other.status_code == 403
    city = client.get(PLAN, params={"under": "510100", "year": 2027}, headers=headers("auditor"))
    assert city.status_code == 403
    own = client.get(
        PLAN, params={"under": "510121-ZJ", "year": 2027}, headers=headers("requester")
    )
    assert own.status_code == 200


def test_bad_input_is_refused_with_its_code(client):
    cases = [
        ({"under": "510121", "year": 2029}, 422, "demand_year_invalid"),
        ({"under": "510121", "year": 2025}, 422, "demand_year_invalid"),
        ({"under": "510121", "year": 2027, "growth": "150"}, 422, "demand_growth_invalid"),
        ({"under": "510121", "year": 2027, "growth": "abc"}, 422, "demand_growth_invalid"),
        ({"under": "510121", "year": 2027, "months": 5}, 422, "invalid_field"),
        ({"under": "NOPE", "year": 2027}, 422, "unknown_location"),
    ]
    for params, status, code in cases:
        answer = client.get(PLAN, params=params, headers=headers("auditor"))
        assert (answer.status_code, answer.json()["code"]) == (status, code), params
    for params, code in (
        ({"under": "510121", "year": "二〇二七"}, "integer_required"),
        ({"under": "510121"}, "invalid_request"),
        ({"under": "510121", "year": 2027, "level": "province"}, "invalid_request"),
    ):
        answer = client.get(PLAN, params=params, headers=headers("auditor"))
        assert (answer.status_code, answer.json()["code"]) == (400, code), params
