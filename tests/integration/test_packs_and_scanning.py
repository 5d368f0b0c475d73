"""Packs follow the stock, and scan documents post what was scanned (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger import commands as c
from ledger import labels
from ledger.rules import Code
from ledger.services import request_models as rq
from ledger.services import scan_models as sc
from tests.bound import Requests, Scanning
from tests.builder import CITY_TEXT, ledger_from_text
from tests.support import refused, stock

KEYS = labels.LabelKeys("K1", {"K1": b"test-key-0123456789abcdef"})
OTHER_KEYS = labels.LabelKeys("K1", {"K1": b"another-key-0123456789abcdef"})


@pytest.fixture
def city(ledger):
    ledger_from_text(
        ledger,
        CITY_TEXT
        + """
receipt 510100 NH2014 2014-01 930001 on 2026-05-01
receipt 510100 BYT B-EARLY 1440 expires 2026-12-31 on 2026-05-02
receipt 510100 BYT B-LATE 1440 expires 2027-12-31 on 2026-05-02
""",
    )
    return ledger


@pytest.fixture
def scanning(city):
    return Scanning(city, KEYS)


def where(scanning, item, batch) -> dict[str, list[int]]:
    """Serials of the sealed packs of a batch by location code (in-transit included)."""
    out: dict[str, list[int]] = {}
    for pack in scanning.packs(item, batch):
        out.setdefault(pack.location_code, []).append(pack.serial)
    return out


def sealed_total(scanning, item, batch, location) -> int:
    return sum(p.quantity for p in scanning.packs(item, batch, location) if p.state == "sealed")


def payload(scanning, item, batch, serial) -> str:
    return scanning.pack(item, batch, serial).payload


def test_a_receipt_is_cut_into_packs_with_a_true_remainder(scanning):
    packs = scanning.packs("NH2014", "2014-01")
    assert len(packs) == 1861
    assert [p.quantity for p in packs[:2]] == [500, 500]
    assert packs[-1].quantity == 1 and packs[-1].serial == 1861
    assert {p.location_code for p in packs} == {"510100"}
    byt = scanning.packs("BYT", "B-EARLY")  # 箱 of 720 is the labelled pack, not the 盒 of 3
    assert [p.quantity for p in byt] == [720, 720]
    assert byt[0].pack_name == "箱" and byt[0].expires_on == dt.date(2026, 12, 31)


def test_packs_move_with_issue_confirmation_and_return(city, scanning):
    shipment = city.issue(
        c.Issue("510100", "510121", (c.LineSpec("NH2014", 1200, "2014-01"),), dt.date(2026, 6, 1))
    )
    # Two whole packs travel; a third is opened for the remaining 200 (its rest stays loose).
    assert where(scanning, "NH2014", "2014-01")["in-transit"] == [1, 2]
    opened = scanning.packs("NH2014", "2014-01", sealed_only=False)[2]
    assert opened.state == "opened" and opened.location_code == "510100"
    assert (
        sealed_total(scanning, "NH2014", "2014-01", "510100")
        <= stock(city, "510100", "NH2014")["2014-01"][0]
    )
    city.confirm(c.Confirm(shipment.number, occurred_on=dt.date(2026, 6, 2)))
    assert where(scanning, "NH2014", "2014-01")["510121"] == [1, 2]
    city.return_to_parent(
        c.Return("510121", (c.LineSpec("NH2014", 500, "2014-01"),), dt.date(2026, 6, 3))
    )
    assert where(scanning, "NH2014", "2014-01")["510121"] == [2]
    assert 1 in where(scanning, "NH2014", "2014-01")["510100"]


def test_a_short_arrival_opens_packs_so_sealed_never_exceeds_stock(city, scanning):
    shipment = city.issue(
        c.Issue("510100", "510121", (c.LineSpec("NH2014", 1000, "2014-01"),), dt.date(2026, 6, 1))
    )
    shortage = c.Shortage("damaged", (c.ShortageLine("NH2014", "2014-01", 300),))
    city.confirm(
        c.Confirm(
            shipment.number,
            (c.ReceivedLine("NH2014", "2014-01", 700),),
            dt.date(2026, 6, 2),
            shortage=shortage,
        )
    )
    assert stock(city, "510121", "NH2014") == {"2014-01": (700, 0)}
    assert sealed_total(scanning, "NH2014", "2014-01", "510121") == 500


def test_reversing_an_issue_brings_its_packs_home(city, scanning):
    shipment = city.issue(
        c.Issue("510100", "510121", (c.LineSpec("NH2014", 1000, "2014-01"),), dt.date(2026, 6, 1))
    )
    city.reverse(c.Reverse(shipment.number, dt.date(2026, 6, 1)))
    assert "in-transit" not in where(scanning, "NH2014", "2014-01")
    assert len(where(scanning, "NH2014", "2014-01")["510100"]) == 1861


def test_scan_an_issue_and_its_arrival(city, scanning):
    document = scanning.open_document(
        sc.OpenDocument("issue", "510100", destination_code="510121"), actor=None
    )
    first = scanning.scan(sc.Scan(document.id, payload(scanning, "NH2014", "2014-01", 7)))
    assert first.status == "scanned"
    again = scanning.scan(sc.Scan(document.id, payload(scanning, "NH2014", "2014-01", 7).lower()))
    assert again.status == "already_scanned" and again.document.packs == 1
    scanning.scan(sc.Scan(document.id, payload(scanning, "NH2014", "2014-01", 9)))
    scanning.scan(sc.Scan(document.id, payload(scanning, "NH2014", "2014-01", 10)))
    assert scanning.undo(document.id).packs == 2  # takes back #10, the last scan
    forged = labels.encode(labels.PackLabel("NH2014", "2014-01", 11, 500), OTHER_KEYS)
    refused(Code.label_invalid, scanning.scan, sc.Scan(document.id, forged))
    posted = scanning.post(document.id, occurred_on=dt.date(2026, 6, 1))
    assert posted.status == "posted" and posted.transaction_number.startswith("CK-2026-")
    assert posted.totals == (sc.ScanTotal("NH2014", "年画", "2014-01", 2, 1000, "张"),)
    assert where(scanning, "NH2014", "2014-01")["in-transit"] == [7, 9]
    late = sc.Scan(document.id, payload(scanning, "NH2014", "2014-01", 12))
    refused(Code.scan_document_state, scanning.scan, late)

    arrival = scanning.open_document(
        sc.OpenDocument("confirm", "510121", shipment_number=posted.transaction_number)
    )
    not_in_shipment = payload(scanning, "NH2014", "2014-01", 8)
    refused(Code.pack_not_here, scanning.scan, sc.Scan(arrival.id, not_in_shipment))
    scanning.scan(sc.Scan(arrival.id, payload(scanning, "NH2014", "2014-01", 9)))
    # Pack #7 was not scanned: posting shows what is missing and writes nothing off ...
    error = refused(Code.shortage_unconfirmed, scanning.post, arrival.id, None, dt.date(2026, 6, 2))
    assert error.details["missing_packs"] == [
        {"item_code": "NH2014", "batch_number": "2014-01", "serial": 7, "quantity": 500}
    ]
    assert [(m["shipped"], m["received"], m["missing"]) for m in error.details["missing"]] == [
        (1000, 500, 500)
    ]
    assert scanning.document(arrival.id).status == "open"
    assert where(scanning, "NH2014", "2014-01")["in-transit"] == [7, 9]
    # ... until the receiver names it and says why.
    shortage = c.Shortage("lost_in_transit", (c.ShortageLine("NH2014", "2014-01", 500),))
    done = scanning.post(arrival.id, None, dt.date(2026, 6, 2), shortage=shortage)
    assert done.transaction_number.startswith("QS-2026-")
    confirmation = city.database.lookup(lambda s: s.transaction_by_number(done.transaction_number))
    assert confirmation.reason == "lost_in_transit"
    assert stock(city, "510121", "NH2014") == {"2014-01": (500, 0)}  # pack #7 never arrived
    places = where(scanning, "NH2014", "2014-01")
    assert places["510121"] == [9] and places["adjustment"] == [7]


def test_scan_rules_for_issues(city, scanning):
    document = scanning.open_document(sc.OpenDocument("issue", "510100", destination_code="510121"))
    late = payload(scanning, "BYT", "B-LATE", 1)
    error = refused(Code.fefo_override_reason_required, scanning.scan, sc.Scan(document.id, late))
    assert "B-EARLY" in error.message
    scanning.scan(sc.Scan(document.id, late, override_reason="近效期批次留作 5.29 活动"))
    elsewhere = scanning.open_document(
        sc.OpenDocument("issue", "510121", destination_code="510181")
    )
    refused(
        Code.pack_not_here,
        scanning.scan,
        sc.Scan(elsewhere.id, payload(scanning, "NH2014", "2014-01", 1)),
    )
    posted = scanning.post(document.id, occurred_on=dt.date(2026, 6, 1))
    transaction = city.database.lookup(lambda s: s.transaction_by_number(posted.transaction_number))
    assert "近效期批次留作 5.29 活动" in transaction.memo


def test_an_expired_batch_is_refused_on_issue(city, scanning):
    late_clock = Scanning(type(city)(city.database, clock=lambda: dt.date(2027, 1, 5)), KEYS)
    document = late_clock.open_document(
        sc.OpenDocument("issue", "510100", destination_code="510121")
    )
    refused(
        Code.batch_expired,
        late_clock.scan,
        sc.Scan(document.id, payload(scanning, "BYT", "B-EARLY", 1)),
    )


def test_receive_an_announced_delivery_by_scanning(city, scanning):
    sets = scanning.announce(sc.AnnounceDelivery("510121", "GT2014", "2014-02", 10, unit="套"))
    assert [p.quantity for p in sets] == [4] * 10 and sets[0].state == "announced"
    refused(
        Code.label_unencodable,
        scanning.announce,
        sc.AnnounceDelivery("510121", "NH2014", "第7次印刷", 1200),
    )
    more = scanning.announce(sc.AnnounceDelivery("510121", "NH2014", "2014-07", 1200))
    assert [(p.serial, p.quantity) for p in more] == [(1, 500), (2, 500), (3, 200)]
    document = scanning.open_document(sc.OpenDocument("receive", "510121"))
    elsewhere = scanning.open_document(sc.OpenDocument("receive", "510181"))
    refused(Code.pack_not_here, scanning.scan, sc.Scan(elsewhere.id, more[0].payload))
    scanning.scan(sc.Scan(document.id, more[0].payload))
    scanning.scan(sc.Scan(document.id, more[2].payload))
    posted = scanning.post(document.id, occurred_on=dt.date(2026, 6, 1))
    assert posted.transaction_number.startswith("RK-2026-")
    assert stock(city, "510121", "NH2014") == {"2014-07": (700, 0)}
    states = {p.serial: p.state for p in scanning.packs("NH2014", "2014-07")}
    assert states == {1: "sealed", 2: "announced", 3: "sealed"}


def test_a_count_closes_with_totals_and_posts_nothing(city, scanning):
    before = city.database.lookup(lambda s: s.chain_head()[0])
    document = scanning.open_document(sc.OpenDocument("count", "510100"))
    for serial in (1, 2, 1861):
        scanning.scan(sc.Scan(document.id, payload(scanning, "NH2014", "2014-01", serial)))
    closed = scanning.post(document.id)
    assert closed.status == "posted" and closed.transaction_number is None
    assert closed.totals[0].quantity == 1001 and closed.totals[0].packs == 3
    assert city.database.lookup(lambda s: s.chain_head()[0]) == before


def test_an_opened_pack_cannot_be_scanned_and_nothing_scanned_cannot_post(city, scanning):
    label = payload(scanning, "NH2014", "2014-01", 5)
    opened = scanning.open_pack(sc.OpenPack(label, "510100"))
    assert opened.state == "opened"
    document = scanning.open_document(sc.OpenDocument("issue", "510100", destination_code="510121"))
    refused(Code.pack_opened, scanning.scan, sc.Scan(document.id, label))
    refused(Code.nothing_scanned, scanning.post, document.id)
    refused(Code.nothing_to_undo, scanning.undo, document.id)
    scanning.cancel(document.id)
    refused(Code.scan_document_state, scanning.cancel, document.id)


def test_scanning_against_a_request_ships_it(city, scanning):
    requests = Requests(city)
    request = requests.create(rq.CreateRequest("510121", (rq.RequestLineIn("NH2014", 1000),)))
    requests.submit(request.number)
    requests.approve(request.number, rq.Approve((rq.RequestLineIn("NH2014", 1000),)))
    document = scanning.open_document(
        sc.OpenDocument("issue", "510100", request_number=request.number)
    )
    for serial in (1, 2):
        scanning.scan(sc.Scan(document.id, payload(scanning, "NH2014", "2014-01", serial)))
    refused(
        Code.exceeds_approved,
        scanning.scan,
        sc.Scan(document.id, payload(scanning, "NH2014", "2014-01", 3)),
    )
    posted = scanning.post(document.id, occurred_on=dt.date(2026, 6, 1))
    shipped = requests.get(request.number)
    assert shipped.shipments[0].number == posted.transaction_number
    assert shipped.lines[0].issued == 1000
    arrival = scanning.open_document(
        sc.OpenDocument("confirm", "510121", shipment_number=posted.transaction_number)
    )
    for serial in (1, 2):
        scanning.scan(sc.Scan(arrival.id, payload(scanning, "NH2014", "2014-01", serial)))
    scanning.post(arrival.id, occurred_on=dt.date(2026, 6, 2))
    assert requests.get(request.number).status == "closed"


def test_a_later_batch_needs_no_reason_once_the_earlier_one_is_all_scanned(city, scanning):
    requests = Requests(city)
    request = requests.create(rq.CreateRequest("510121", (rq.RequestLineIn("BYT", 2160),)))
    requests.submit(request.number)
    requests.approve(request.number, rq.Approve((rq.RequestLineIn("BYT", 2160),)))
    document = scanning.open_document(
        sc.OpenDocument("issue", "510100", request_number=request.number)
    )
    late = sc.Scan(document.id, payload(scanning, "BYT", "B-LATE", 1))
    refused(Code.fefo_override_reason_required, scanning.scan, late)
    for serial in (1, 2):
        scanning.scan(sc.Scan(document.id, payload(scanning, "BYT", "B-EARLY", serial)))
    scanning.scan(late)  # B-EARLY is now all in this document
    posted = scanning.post(document.id, occurred_on=dt.date(2026, 6, 1))
    assert [(q.base_unit, q.quantity) for q in posted.quantities] == [("只", 2160)]
    assert stock(city, "510100", "BYT") == {"B-LATE": (720, 0)}


def test_verify_checks_the_packs_against_the_books(city, scanning):
    from ledger.services.audit import verify_ledger

    shipment = city.issue(
        c.Issue("510100", "510121", (c.LineSpec("NH2014", 1200, "2014-01"),), dt.date(2026, 6, 1))
    )
    shortage = c.Shortage("damaged", (c.ShortageLine("NH2014", "2014-01", 300),))
    city.confirm(
        c.Confirm(
            shipment.number,
            (c.ReceivedLine("NH2014", "2014-01", 900),),
            dt.date(2026, 6, 2),
            shortage=shortage,
        )
    )
    city.distribute(
        c.Distribute("510121", (c.LineSpec("NH2014", 450, "2014-01"),), dt.date(2026, 6, 3))
    )
    assert verify_ledger(city.database).ok
    with city.database.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE packs SET quantity = 499 WHERE serial = 1700")
    findings = verify_ledger(city.database).findings
    assert [f.code for f in findings] == ["pack_total_mismatch"]
    assert findings[0].subject == "510100/NH2014/2014-01"
    with city.database.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE packs SET quantity = 500 WHERE serial = 1700")
        connection.exec_driver_sql(
            "UPDATE pack_stock SET sealed_quantity = sealed_quantity + 500 "
            "WHERE location_id = (SELECT id FROM locations WHERE code = '510121')"
        )
        connection.exec_driver_sql(
            "UPDATE packs SET location_id = (SELECT id FROM locations WHERE code = '510121') "
            "WHERE serial = 1700"
        )
    codes = {f.code for f in verify_ledger(city.database).findings}
    assert "packs_exceed_stock" in codes
