"""The 凭证 and 库存 pages' reads on SQLite and PostgreSQL: the voucher search (newest first,
part of a number, kind, location, dates, within a subtree), one voucher with its reversal,
original, shipment and confirmation, a voucher's postings as movements, and the tree's
roll-ups."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger import commands as c
from ledger.model import Posting, TransactionKind
from ledger.services import lookups
from ledger.services.stock_tree import stock_tree, virtual_stock
from ledger.services.vouchers import VoucherLine, VoucherSearch, lines_of, search, voucher
from tests.builder import CITY_TEXT, ledger_from_text

D = dt.date


@pytest.fixture
def city(ledger):
    ledger_from_text(
        ledger,
        CITY_TEXT
        + """
receipt 510100 NH2014 2014-01 10000 on 2026-05-01
receipt 510181 NH2014 2014-01 700 on 2026-05-02
""",
    )
    ledger.issue(c.Issue("510100", "510121", (c.LineSpec("NH2014", 1000),), D(2026, 5, 3)))
    ledger.confirm(c.Confirm("CK-2026-000001", occurred_on=D(2026, 5, 4)))
    ledger.issue(c.Issue("510121", "510121-ZJ", (c.LineSpec("NH2014", 300),), D(2026, 5, 5)))
    ledger.confirm(c.Confirm("CK-2026-000002", occurred_on=D(2026, 5, 6)))
    ledger.distribute(c.Distribute("510121-ZJ", (c.LineSpec("NH2014", 20),), D(2026, 5, 7)))
    ledger.reverse(c.Reverse("FF-2026-000001", D(2026, 5, 8)))
    ledger.issue(c.Issue("510121", "510121-ZJ", (c.LineSpec("NH2014", 50),), D(2026, 5, 9)))
    return ledger


def numbers(found) -> list[str]:
    return [t.number for t in found]


def test_the_search_is_newest_first_within_the_subtree(city):
    database = city.database
    everything = numbers(search(database, VoucherSearch(), 100, 0))
    assert everything[0] == "CK-2026-000003" and everything[-1] == "RK-2026-000001"
    assert len(everything) == 9
    township = numbers(search(database, VoucherSearch("/510100/510121/510121-ZJ/"), 100, 0))
    assert township == [
        "CK-2026-000003",
        "HC-2026-000001",
        "FF-2026-000001",
        "QS-2026-000002",
        "CK-2026-000002",
    ]
    assert numbers(search(database, VoucherSearch(number="ck-2026"), 100, 0)) == [
        "CK-2026-000003",
        "CK-2026-000002",
        "CK-2026-000001",
    ]
    assert numbers(search(database, VoucherSearch(number="%"), 100, 0)) == []  # no wildcard
    assert numbers(search(database, VoucherSearch(kind="confirmation"), 100, 0)) == [
        "QS-2026-000002",
        "QS-2026-000001",
    ]
    at = VoucherSearch(location_code="510181")
    assert numbers(search(database, at, 100, 0)) == ["RK-2026-000002"]
    dated = VoucherSearch(date_from=D(2026, 5, 4), date_to=D(2026, 5, 6))
    assert numbers(search(database, dated, 100, 0)) == [
        "QS-2026-000002",
        "CK-2026-000002",
        "QS-2026-000001",
    ]
    assert numbers(search(database, VoucherSearch(), 2, 2)) == everything[2:4]


def test_one_voucher_with_what_is_read_beside_it(city):
    database = city.database
    shipment = voucher(database, "CK-2026-000002")
    assert shipment.confirmation == "QS-2026-000002" and not shipment.reversible
    assert shipment.names["510121-ZJ"] == "赵家镇" and shipment.items["NH2014"].base_unit == "张"
    assert shipment.recorded_at is not None and shipment.recorded_at.tzinfo is not None
    confirmation = voucher(database, "QS-2026-000002")
    assert confirmation.shipment == "CK-2026-000002" and confirmation.reversible
    original = voucher(database, "FF-2026-000001")
    assert original.reversed_by == "HC-2026-000001" and not original.reversible
    reversal = voucher(database, "HC-2026-000001")
    assert reversal.original == "FF-2026-000001" and not reversal.reversible
    assert reversal.transaction.kind is TransactionKind.reversal
    open_shipment = voucher(database, "CK-2026-000003")
    assert open_shipment.confirmation is None and open_shipment.reversible


def test_postings_read_as_movements(city):
    shipment = voucher(city.database, "CK-2026-000002").transaction
    assert lines_of(shipment.postings) == [
        VoucherLine("NH2014", "2014-01", "510121", "in-transit", 300)
    ]
    both = (
        Posting("a", "X", "1", -5),
        Posting("b", "X", "1", -3),
        Posting("c", "X", "1", 6),
        Posting("d", "X", "1", 2),
    )
    assert lines_of(both) == [
        VoucherLine("X", "1", "a", None, 5),
        VoucherLine("X", "1", "b", None, 3),
        VoucherLine("X", "1", None, "c", 6),
        VoucherLine("X", "1", None, "d", 2),
    ]
    into_one = (Posting("a", "X", "1", -5), Posting("b", "X", "1", -3), Posting("c", "X", "1", 8))
    assert lines_of(into_one) == [
        VoucherLine("X", "1", "a", "c", 5),
        VoucherLine("X", "1", "b", "c", 3),
    ]


def test_the_tree_rolls_up_now_and_as_of_a_day(city):
    database = city.database
    county = lookups.location(database, "510121")
    tree = stock_tree(database, county, "/510100/")
    assert tree.top is not None and tree.top.code == "510121" and tree.top.children == 1
    assert tree.top.own == {"NH2014": 650} and tree.top.total == {"NH2014": 650 + 300}
    assert [(n.code, n.own, n.total, n.children) for n in tree.children] == [
        ("510121-ZJ", {"NH2014": 300}, {"NH2014": 300}, 1)
    ]
    then = stock_tree(database, county, "/510100/", as_of=D(2026, 5, 5))
    assert then.top is not None and then.top.total == {"NH2014": 700}
    city_tree = stock_tree(database, None, None, "NH2014")
    assert city_tree.top is None and [n.code for n in city_tree.children] == ["510100"]
    assert city_tree.children[0].total == {"NH2014": 10000 + 700 - 50}
    places, items = virtual_stock(database, "/510100/")
    transit = next(place for place in places if place.code == "in-transit")
    assert transit.total == {"NH2014": 50} and items["NH2014"].code == "NH2014"
