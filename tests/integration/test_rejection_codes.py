"""Rejections that have a code of their own (docs/errors.md), not `invalid_field`, through the
use cases on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger import commands as c
from ledger import labels
from ledger.db import http_idempotency
from ledger.db.bulk import BulkLoader
from ledger.model import Item, ItemKind, Location, LocationLevel, Pack
from ledger.reference import ReferenceKind
from ledger.rules import Code
from ledger.services import reference, requests, scanning, stocktakes
from ledger.services.reference_models import BatchChange, ItemChange, LocationChange
from ledger.services.request_models import Approve, CreateRequest, RequestLineIn, Ship, ShipLine
from ledger.services.scan_models import AnnounceDelivery, OpenDocument, Scan
from ledger.services.stocktake_models import OpenStocktake
from ledger.services.users import add_user
from tests.builder import CITY_TEXT, ledger_from_text
from tests.support import refused

KEYS = labels.LabelKeys("K1", {"K1": b"test-key-0123456789abcdef"})


@pytest.fixture
def city(ledger):
    ledger_from_text(
        ledger,
        CITY_TEXT
        + """
receipt 510100 NH2014 2014-01 930000 on 2026-05-01
receipt 510100 BYT B1 1440 expires 2027-12-31 on 2026-05-02
""",
    )
    return ledger


def approved_request(city) -> str:
    """A request of 1000 张 年画 from 金堂县 to 成都市, approved in full."""
    today = city.clock()
    number = requests.create(
        city.database, CreateRequest("510121", (RequestLineIn("NH2014", 1000),)), None, today
    ).number
    requests.submit(city.database, number, None, today)
    requests.approve(city.database, number, Approve((RequestLineIn("NH2014", 1000),)), None, today)
    return number


def open_document(city, command: OpenDocument) -> int:
    return scanning.open_document(city.database, command, None, city.clock()).id


def label_of(city, item: str, batch: str, location: str) -> str:
    return scanning.packs(city.database, KEYS, item, batch, location)[0].payload


def test_a_request_names_only_what_it_asked_for_from_a_supplier_above_it(city):
    today = city.clock()
    elsewhere = CreateRequest("510121-ZJ", (RequestLineIn("NH2014", 10),), "510181")
    refused(Code.supplier_not_above_requester, requests.create, city.database, elsewhere)
    number = requests.create(
        city.database, CreateRequest("510121", (RequestLineIn("NH2014", 1000),)), None, today
    ).number
    requests.submit(city.database, number, None, today)
    other_item = Approve((RequestLineIn("BYT", 3),))
    refused(Code.item_not_requested, requests.approve, city.database, number, other_item)
    requests.approve(city.database, number, Approve((RequestLineIn("NH2014", 1000),)), None, today)
    other_line = Ship((ShipLine("BYT", 3),))
    refused(Code.item_not_requested, requests.ship, city.database, number, other_line)


def test_scanning_against_a_request_takes_its_items_at_its_supplier(city):
    number = approved_request(city)
    document = open_document(city, OpenDocument("issue", "510100", request_number=number))
    box = Scan(document, label_of(city, "BYT", "B1", "510100"))
    refused(Code.item_not_requested, scanning.scan, city.database, KEYS, box)
    at_another_county = OpenDocument("issue", "510181", request_number=number)  # 成都市 supplies
    refused(Code.location_not_supplier, scanning.open_document, city.database, at_another_county)


def test_a_scan_document_has_a_known_purpose_and_confirms_only_what_was_sent_here(city):
    unknown = OpenDocument("weigh", "510100")
    refused(Code.unknown_scan_purpose, scanning.open_document, city.database, unknown)
    shipment = city.issue(c.Issue("510100", "510121", (c.LineSpec("NH2014", 500),)))
    wrong_place = OpenDocument("confirm", "510181", shipment_number=shipment.number)
    refused(Code.shipment_addressed_elsewhere, scanning.open_document, city.database, wrong_place)
    city.reverse(c.Reverse(shipment.number))
    reversed_ = OpenDocument("confirm", "510121", shipment_number=shipment.number)
    refused(Code.not_a_shipment, scanning.open_document, city.database, reversed_)


def test_only_a_receipt_confirmation_scan_takes_a_shortage(city):
    document = open_document(city, OpenDocument("issue", "510100", destination_code="510121"))
    scanning.scan(
        city.database, KEYS, Scan(document, label_of(city, "NH2014", "2014-01", "510100"))
    )
    shortage = c.Shortage("damaged", (c.ShortageLine("NH2014", "2014-01", 1),))
    refused(
        Code.no_shortage_to_confirm,
        scanning.post,
        city.database,
        document,
        None,
        None,
        lambda row: None,
        shortage,
    )


def test_labelled_packs_need_an_item_with_packs_and_a_serial_the_batch_has(city):
    city.add_item(Item("XC", "宣传单", ItemKind.printed, "宣传单", "张", (), False))
    delivery = AnnounceDelivery("510100", "XC", "2026-01", 100)
    refused(Code.item_has_no_packs, scanning.announce, city.database, KEYS, delivery)
    refused(
        Code.unknown_labelled_pack, scanning.pack, city.database, KEYS, "NH2014", "2014-01", 99999
    )


def test_a_stocktake_imports_only_a_known_finished_count_document(city):
    today = city.clock()
    number = stocktakes.open_stocktake(
        city.database, OpenStocktake("510100", item_codes=("NH2014",)), None, today
    ).number
    add = stocktakes.add_scan_document
    refused(Code.unknown_scan_document, add, city.database, number, 99999)
    issue = open_document(city, OpenDocument("issue", "510100", destination_code="510121"))
    refused(Code.not_a_count_document, add, city.database, number, issue)


def test_items_and_locations_keep_their_own_rules(city):
    twice = Item("HB", "海报", ItemKind.printed, "海报", "张", (Pack("捆", 100), Pack("捆", 50)))
    refused(Code.duplicate_pack_name, city.add_item, twice)
    as_base = Item("HB", "海报", ItemKind.printed, "海报", "张", (Pack("张", 1),))
    refused(Code.duplicate_pack_name, city.add_item, as_base)
    dated = c.Receive(
        "510100", (c.ReceiptLine("NH2014", "2014-09", 10, expires_on=dt.date(2030, 1, 1)),)
    )
    refused(Code.expiry_not_tracked, city.receive, dated)
    virtual = Location("XN", "虚拟", LocationLevel.virtual, None)
    refused(Code.location_must_be_physical, city.add_location, virtual)
    orphan = Location("510199", "无上级县", LocationLevel.county, None)
    refused(Code.location_level, city.add_location, orphan)


def test_corrections_of_reference_data_keep_the_same_rules(city):
    def change(kind, code, what, number=None):
        return reference.change(city.database, kind, code, what, None, city.clock(), number)

    dated = BatchChange("加有效期", expires_on=dt.date(2030, 1, 1))
    refused(Code.expiry_not_tracked, change, ReferenceKind.batch, "NH2014", dated, "2014-01")
    packs = ItemChange("包装", packs=(Pack("捆", 500), Pack("捆", 400)))
    refused(Code.duplicate_pack_name, change, ReferenceKind.item, "NH2014", packs)
    renamed = LocationChange("改名", name="在途（新）")
    refused(Code.location_must_be_physical, change, ReferenceKind.location, "in-transit", renamed)


def test_the_bulk_loader_refuses_a_ledger_that_is_not_empty(city):
    refused(Code.ledger_not_empty, BulkLoader, city.database)


def test_a_request_with_a_key_still_at_work_is_refused_as_in_progress(city, monkeypatch):
    user, _ = add_user(city.database, "保管员", "clerk", "510100")
    first = http_idempotency.claim(city.database, user.id, "key-1", "digest")
    assert isinstance(first, http_idempotency.Claim)
    monkeypatch.setattr(http_idempotency, "wait_for_first_seconds_max", 0)
    again = (city.database, user.id, "key-1", "digest")
    refused(Code.idempotency_key_in_progress, http_idempotency.claim, *again)
