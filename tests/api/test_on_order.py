"""已申领未到 over HTTP: a township's suggested request answers `on_order` beside the fields it
had, and what a submitted, then approved and not yet shipped request asks comes off the
suggestion (the tester's case: an approved 144 只 must not be suggested again); the CSV has the
column."""

from __future__ import annotations

from ledger.services.stock_minimums import set_stock_minimum
from tests.api.conftest import headers

V1 = "/api/v1"
URL = f"{V1}/locations/510121-ZJ/suggested-request"
FIELDS = {
    "item_code",
    "item_name",
    "unit",
    "consumption",
    "months_counted",
    "stock_out_months",
    "amc",
    "min_months",
    "max_months",
    "norm_source",
    "minimum",
    "maximum",
    "on_hand",
    "in_transit",
    "months_of_stock",
    "suggested",
    "pack_size",
    "urgent",
    "alert",
    "on_order",
}


def ceil_to(quantity: int, pack: int | None) -> int:
    pack = pack or 1
    return -(-quantity // pack) * pack if quantity > 0 else 0


def lines(client) -> dict[str, dict]:
    answer = client.get(URL, headers=headers("requester"))
    assert answer.status_code == 200, answer.text
    return {line["item_code"]: line for line in answer.json()["lines"]}


def test_an_approved_request_not_yet_shipped_is_not_suggested_again(client, api_database):
    first = lines(client)
    assert all(set(line) == FIELDS for line in first.values())
    code = "BYT" if "BYT" in first else next(iter(first))
    held = first[code]["on_hand"] + first[code]["in_transit"] + first[code]["on_order"]
    set_stock_minimum(api_database, "510121-ZJ", code, held + 432)  # short by 144 盒 at least
    line = lines(client)[code]
    assert line["suggested"] >= 432
    asked = line["suggested"]
    made = client.post(
        f"{V1}/requests",
        json={"requester_code": "510121-ZJ", "lines": [{"item_code": code, "quantity": asked}]},
        headers=headers("requester", "on-order-1"),
    )
    assert made.status_code == 201, made.text
    number = made.json()["number"]
    assert lines(client)[code]["on_order"] == line["on_order"]  # a draft expects nothing
    submitted = client.post(
        f"{V1}/requests/{number}/submit", headers=headers("requester", "on-order-2")
    )
    assert submitted.status_code in (200, 201), submitted.text
    approved = client.post(
        f"{V1}/requests/{number}/approve",
        json={"lines": [{"item_code": code, "quantity": asked}]},
        headers=headers("approver", "on-order-3"),
    )
    assert approved.status_code in (200, 201), approved.text
    assert approved.json()["status"] == "approved"
    after = lines(client)[code]
    assert after["on_order"] == line["on_order"] + asked
    assert (after["on_hand"], after["in_transit"]) == (line["on_hand"], line["in_transit"])
    expected = ceil_to(
        after["maximum"] - after["on_hand"] - after["in_transit"] - after["on_order"],
        after["pack_size"],
    )
    assert after["suggested"] == expected == 0  # it asked for all that was suggested
    assert after["urgent"] == line["urgent"]  # the shelf is as short as before
    sheet = client.get(URL, params={"format": "csv"}, headers=headers("requester"))
    assert sheet.status_code == 200 and "已申领未到" in sheet.text
