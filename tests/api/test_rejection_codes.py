"""Rejections that have a code of their own over HTTP (docs/errors.md), not `invalid_field`."""

from __future__ import annotations

from tests.api.conftest import headers

V1 = "/api/v1"


def refusal(response) -> tuple[int, str, str | None]:
    body = response.json()
    return response.status_code, body["code"], body.get("field")


def test_a_pack_serial_the_batch_does_not_have_is_not_found(client):
    label = client.get(
        f"{V1}/batches/NH2014/2014-01/packs/999999/label", headers=headers("clerk-city")
    )
    assert refusal(label) == (404, "unknown_labelled_pack", "serial")


def test_a_confirmation_naming_another_shipment_than_its_path_is_refused(client, numbers):
    number = numbers.approved_shipped["in"]
    shipment = numbers.request_shipment["in"]
    answer = client.post(
        f"{V1}/requests/{number}/shipments/{shipment}/confirm",
        json={"shipment_number": numbers.shipment_to_township["in"]},
        headers=headers("requester", "differs-from-path"),
    )
    assert refusal(answer) == (422, "body_differs_from_path", "shipment_number")


def test_more_checkpoints_than_one_verification_takes_is_too_many_lines(client):
    checkpoints = [f"{n}:0123456789abcdef" for n in range(1, 102)]
    answer = client.get(
        f"{V1}/audit/verification",
        params={"checkpoint": checkpoints},
        headers=headers("auditor-root"),
    )
    assert refusal(answer) == (422, "too_many_lines", "checkpoint")


def test_an_unknown_grouping_of_balances_is_refused_by_name(client):
    answer = client.get(f"{V1}/balances", params={"group_by": "village"}, headers=headers("admin"))
    assert refusal(answer) == (422, "unknown_grouping", "group_by")


def test_a_period_that_ends_before_it_starts_is_a_date_range_invalid(client):
    answer = client.get(
        f"{V1}/reports/period-summary",
        params={"under": "510100", "date_from": "2026-06-30", "date_to": "2026-06-01"},
        headers=headers("admin"),
    )
    assert refusal(answer) == (422, "date_range_invalid", "date_from")
