"""印制计划 over HTTP: a county clerk makes and saves a plan over its villages, reads it back as
JSON and as the 印制计划表 (CSV, XLSX, print HTML), and when the print run arrives pushes it
down with POST /allocation-plans/apply and `print_plan`: each place gets what the plan says.
Bad input gets its code."""

from __future__ import annotations

import io
import math
from fractions import Fraction

from openpyxl import load_workbook

from ledger.db.balance_queries import balances
from ledger.db.import_rows import set_populations
from tests.api.conftest import headers

V1 = "/api/v1"
PLAN = {
    "office_code": "510121",
    "item_code": "NH2014",
    "level": "village",
    "basis": "household",
    "copies": 1,
    "spare_percent": 10,
    "title": "2015年年画印制计划",
}


def _county_stock(api_database) -> int:
    rows = api_database.lookup(
        lambda s: balances(s.connection, location_code="510121", item_code="NH2014")
    )
    return sum(row.available for row in rows)


def test_a_clerk_saves_a_plan_and_reads_it_in_every_format(client, api_database):
    api_database.write(lambda store: set_populations(store, {"510121-ZJ-PS": 2_620}))
    made = client.post(f"{V1}/print-plans", json={**PLAN, "save": True}, headers=headers("clerk"))
    assert made.status_code == 201, made.text
    plan = made.json()
    lines = {line["location_code"]: line for line in plan["lines"]}
    # 平水村: 2620 ÷ 2.62 = 1000 户 → 1000 张 = 2 捆; 赵家镇 and 金堂县 keep 10% → 1 捆 each
    assert (lines["510121-ZJ-PS"]["units"], lines["510121-ZJ-PS"]["quantity"]) == (1000, 1000)
    assert lines["510121-ZJ"]["quantity"] == 500 and lines["510121"]["quantity"] == 500
    assert lines["510121-ZJ"]["subtree"] == 1500 and plan["total"] == 2000
    on_hand = _county_stock(api_database)
    assert plan["on_hand"] == on_hand
    assert plan["to_print"] == math.ceil(Fraction(max(2000 - on_hand, 0), 500)) * 500
    assert plan["number"].startswith("YZ-2026-") and plan["household_size"] == "2.62"

    number = plan["number"]
    again = client.get(f"{V1}/print-plans/{number}", headers=headers("auditor"))
    assert again.status_code == 200 and again.json() == plan
    csv = client.get(
        f"{V1}/print-plans/{number}", params={"format": "csv"}, headers=headers("clerk")
    )
    text = csv.content.decode("utf-8-sig")
    assert csv.status_code == 200 and "户数" in text and "平水村" in text and "赵家镇 小计" in text
    html = client.get(
        f"{V1}/print-plans/{number}", params={"format": "html"}, headers=headers("clerk")
    )
    assert "2015年年画印制计划" in html.text and "应印数" in html.text
    xlsx = client.get(
        f"{V1}/print-plans/{number}", params={"format": "xlsx"}, headers=headers("clerk")
    )
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = [row for row in sheet.iter_rows(values_only=True) if row and row[1] == "合计"]
    assert rows and rows[0][8] == 2000
    outside = client.get(f"{V1}/print-plans/{number}", headers=headers("clerk-outside"))
    assert outside.status_code == 403


def test_the_print_run_is_pushed_down_as_the_plan_says(client, api_database):
    api_database.write(lambda store: set_populations(store, {"510121-ZJ-PS": 2_620}))
    plan = client.post(
        f"{V1}/print-plans", json={**PLAN, "save": True}, headers=headers("clerk")
    ).json()
    body = {"source_code": "510121", "item_code": "NH2014", "print_plan": plan["number"]}
    preview = client.post(f"{V1}/allocation-plans", json=body, headers=headers("approver"))
    assert preview.status_code == 200, preview.text
    assert [(x["location_code"], x["quantity"]) for x in preview.json()["lines"]] == [
        ("510121-ZJ", 1500)
    ]
    applied = client.post(
        f"{V1}/allocation-plans/apply",
        json={**body, "memo": "年画按印制计划下发"},
        headers=headers("clerk", "print-plan-1"),
    )
    assert applied.status_code == 201, applied.text
    (shipment,) = applied.json()["shipments"]
    assert shipment["counterparty_code"] == "510121-ZJ"
    assert (
        sum(p["quantity"] for p in shipment["postings"] if p["location_code"] == "in-transit")
        == 1500
    )


def test_bad_input_gets_its_code(client, api_database):
    def refused(path, body, who="clerk"):
        answer = client.post(f"{V1}/{path}", json=body, headers=headers(who))
        return answer.status_code, answer.json().get("code"), answer.json().get("field")

    assert refused("print-plans", {**PLAN, "basis": "family"})[:2] == (
        422,
        "print_plan_target_invalid",
    )
    assert refused("print-plans", {**PLAN, "household_size": "2,6"}) == (
        422,
        "print_plan_target_invalid",
        "household_size",
    )
    assert refused("print-plans", {**PLAN, "coverage_percent": 120})[2] == "coverage_percent"
    # 平水村 has no population in the template
    assert refused("print-plans", PLAN)[:2] == (422, "print_plan_population_missing")
    assert refused("print-plans", {**PLAN, "item_code": "BYT"})[:2] == (
        422,
        "print_plan_target_invalid",
    )
    missing = client.get(f"{V1}/print-plans/YZ-2026-999999", headers=headers("clerk"))
    assert (missing.status_code, missing.json()["code"]) == (404, "unknown_print_plan")
    assert refused("allocation-plans", {"source_code": "510121", "item_code": "NH2014"}) == (
        422,
        "invalid_field",
        "quantity",
    )
    api_database.write(lambda store: set_populations(store, {"510121-ZJ-PS": 100}))
    number = client.post(
        f"{V1}/print-plans", json={**PLAN, "save": True}, headers=headers("clerk")
    ).json()["number"]
    base = {"source_code": "510121", "item_code": "NH2014", "print_plan": number}
    share = [{"location_code": "510121-ZJ", "weight": 1}]
    assert refused("allocation-plans", {**base, "shares": share})[:2] == (422, "weights_invalid")
    assert refused("allocation-plans", {**base, "item_code": "BYT"})[:2] == (
        422,
        "print_plan_source_outside",
    )
    assert refused("allocation-plans", {**base, "source_code": "510121-ZJ-PS"})[:2] == (
        422,
        "print_plan_source_outside",
    )


def test_a_saved_plan_is_issued_once_and_a_reversed_issue_is_due_again(client, api_database):
    api_database.write(lambda store: set_populations(store, {"510121-ZJ-PS": 2_620}))
    number = client.post(
        f"{V1}/print-plans", json={**PLAN, "save": True}, headers=headers("clerk")
    ).json()["number"]
    body = {"source_code": "510121", "item_code": "NH2014", "print_plan": number}
    apply = f"{V1}/allocation-plans/apply"
    first = client.post(apply, json=body, headers=headers("clerk", "plan-a"))
    assert first.status_code == 201, first.text
    (shipment,) = first.json()["shipments"]
    replay = client.post(apply, json=body, headers=headers("clerk", "plan-a"))
    assert replay.status_code == 201 and replay.json() == first.json()
    stock = _county_stock(api_database)
    for key in ("plan-b", None):  # a new key, or none: nothing more is due
        again = client.post(apply, json=body, headers=headers("clerk", key))
        assert (again.status_code, again.json()["code"]) == (409, "print_plan_fully_shipped")
    preview = client.post(f"{V1}/allocation-plans", json=body, headers=headers("clerk"))
    assert (preview.status_code, preview.json()["code"]) == (409, "print_plan_fully_shipped")
    assert _county_stock(api_database) == stock
    reversed_ = client.post(
        f"{V1}/transactions/reversals",
        json={"transaction_number": shipment["number"], "memo": "开错了"},
        headers=headers("clerk"),
    )
    assert reversed_.status_code == 201, reversed_.text
    due = client.post(f"{V1}/allocation-plans", json=body, headers=headers("clerk"))
    assert [(x["location_code"], x["quantity"]) for x in due.json()["lines"]] == [
        ("510121-ZJ", 1500)
    ]
    third = client.post(apply, json=body, headers=headers("clerk", "plan-c"))
    assert third.status_code == 201 and len(third.json()["shipments"]) == 1
    assert _county_stock(api_database) == stock  # the reversal put 1500 back, the issue took it


def test_applying_nothing_or_shares_beside_a_print_plan_is_refused(client, api_database):
    api_database.write(lambda store: set_populations(store, {"510121-ZJ-PS": 2_620}))
    number = client.post(
        f"{V1}/print-plans", json={**PLAN, "save": True}, headers=headers("clerk")
    ).json()["number"]
    body = {"source_code": "510121", "item_code": "NH2014", "print_plan": number}
    stock = _county_stock(api_database)

    def refused(path, extra):
        answer = client.post(f"{V1}/{path}", json={**body, **extra}, headers=headers("clerk"))
        return answer.status_code, answer.json().get("code"), answer.json().get("field")

    for quantity in (0, -500):
        assert refused("allocation-plans/apply", {"quantity": quantity}) == (
            422,
            "quantity_must_be_positive",
            "quantity",
        )
    for path in ("allocation-plans", "allocation-plans/apply"):
        assert refused(path, {"shares": []}) == (422, "weights_invalid", "shares")
    plain = {"source_code": "510121", "item_code": "NH2014", "quantity": 0}
    share = [{"location_code": "510121-ZJ", "weight": 1}]
    answer = client.post(
        f"{V1}/allocation-plans/apply", json={**plain, "shares": share}, headers=headers("clerk")
    )
    assert (answer.status_code, answer.json()["code"]) == (422, "quantity_must_be_positive")
    assert _county_stock(api_database) == stock
