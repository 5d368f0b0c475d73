"""Which request a shipment belongs to (ledger.services.shipment_requests), on each database
engine: a request's shipment names its request, a plain 出库 none, an unknown number is
refused."""

from __future__ import annotations

import pytest

from ledger import commands as c
from ledger.rules import Code, LedgerError
from ledger.services.request_models import Approve, CreateRequest, RequestLineIn, Ship, ShipLine
from ledger.services.shipment_requests import request_of
from tests.bound import Requests
from tests.builder import CITY_TEXT, ledger_from_text


@pytest.fixture
def city(ledger):
    ledger_from_text(
        ledger, CITY_TEXT + "receipt 510121 BYT B1 300 expires 2027-01-01 on 2026-05-02\n"
    )
    return ledger


def test_a_shipment_names_its_request_or_none(city):
    counter = Requests(city)
    line = (RequestLineIn("BYT", 2, "盒"),)
    made = counter.create(CreateRequest("510121-ZJ", line))
    counter.submit(made.number)
    counter.approve(made.number, Approve(line))
    shipped = counter.ship(made.number, Ship((ShipLine("BYT", 6),)))
    plain = city.issue(c.Issue("510121", "510121-ZJ", (c.LineSpec("BYT", 3),)))
    assert request_of(city.database, shipped.number) == made.number
    assert request_of(city.database, plain.number) is None
    with pytest.raises(LedgerError) as refused:
        request_of(city.database, "CK-2026-999999")
    assert refused.value.code is Code.unknown_transaction
