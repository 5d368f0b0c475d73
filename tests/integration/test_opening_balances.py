"""期初建账: stock already on the shelves when an office starts its ledger, on both engines."""

import datetime as dt

import pytest

from ledger import commands as c
from ledger.db import balance_queries
from ledger.model import TransactionKind
from ledger.rules import Code
from ledger.services import reports
from ledger.services.audit import verify_ledger
from tests.builder import ledger_from_text
from tests.support import refused

D = dt.date
AS_OF = D(2026, 1, 1)

TREE = """
location 510100 成都市 city
location 510121 金堂县 county 510100
location 510121-ZJ 赵家镇 township 510121
item NH2014 年画 printed 张 捆=500
item BYT 避孕套 contraceptive 只 盒=3 expiry
"""


@pytest.fixture
def office(ledger):
    ledger_from_text(ledger, TREE)
    return ledger


def on_hand(ledger, location, item, virtual=False, as_of=None):
    with ledger.database.read() as connection:
        lines = balance_queries.balances(
            connection, location, item, None, as_of, include_virtual=virtual
        )
    return sum(line.on_hand for line in lines)


def opening(location, *lines, on=AS_OF, key=None):
    return c.OpenBalances(location, tuple(lines), on, "建账", key)


def test_an_opening_moves_stock_from_the_virtual_opening_location_and_verifies(office):
    tx = office.execute(
        opening(
            "510121",
            c.ReceiptLine("NH2014", "2014-01", 3, unit="捆"),
            c.ReceiptLine("BYT", "B1", 40, unit="盒", expires_on=D(2027, 6, 30)),
        )
    )
    assert tx.kind is TransactionKind.opening and tx.number == "QC-2026-000001"
    assert tx.occurred_on == AS_OF
    assert on_hand(office, "510121", "NH2014") == 1500
    assert on_hand(office, "510121", "BYT") == 120
    assert on_hand(office, "opening", "NH2014", virtual=True) == -1500
    assert on_hand(office, "510121", "NH2014", as_of=AS_OF - dt.timedelta(days=1)) == 0
    report = verify_ledger(office.database)
    assert report.ok, report.findings


def test_an_expired_batch_on_the_shelf_is_recorded_as_it_is(office):
    """Unlike a receipt, an opening records what is there, expired or not (to be written off)."""
    office.execute(opening("510121", c.ReceiptLine("BYT", "OLD", 9, expires_on=D(2025, 3, 1))))
    assert on_hand(office, "510121", "BYT") == 9


def test_opening_rules(office):
    office.execute(opening("510121", c.ReceiptLine("NH2014", "2014-01", 10)))
    refused(
        Code.opening_exists,
        office.execute,
        opening("510121", c.ReceiptLine("NH2014", "2014-02", 10)),
    )
    refused(
        Code.location_must_be_physical,
        office.execute,
        opening("opening", c.ReceiptLine("NH2014", "2014-01", 10)),
    )
    refused(
        Code.batch_expiry_required,
        office.execute,
        opening("510100", c.ReceiptLine("BYT", "NEW", 3)),
    )
    refused(
        Code.date_in_future,
        office.execute,
        opening("510100", c.ReceiptLine("NH2014", "2014-01", 3), on=D(2099, 1, 1)),
    )
    refused(
        Code.duplicate_line,
        office.execute,
        opening(
            "510100",
            c.ReceiptLine("NH2014", "2014-01", 3),
            c.ReceiptLine("NH2014", "2014-01", 4),
        ),
    )
    assert on_hand(office, "510100", "NH2014") == 0  # nothing of the refused ones was kept


def test_a_reversed_opening_may_be_entered_again(office):
    first = office.execute(opening("510121", c.ReceiptLine("NH2014", "2014-01", 10)))
    office.execute(c.Reverse(first.number, AS_OF, "数量录错"))
    office.execute(opening("510121", c.ReceiptLine("NH2014", "2014-01", 12)))
    assert on_hand(office, "510121", "NH2014") == 12


def test_the_summary_shows_openings_in_their_own_column(office):
    office.execute(opening("510121", c.ReceiptLine("NH2014", "2014-01", 2, unit="捆")))
    office.execute(c.Receive("510121", (c.ReceiptLine("NH2014", "2014-01", 300),), D(2026, 2, 1)))

    def rows(date_from, date_to):
        report = office.database.lookup(
            lambda store: reports.period_summary(store, "510121", date_from, date_to, rollup=False)
        )
        return {r["item_code"]: r for r in report.records() if r["location_code"] == "510121"}

    year = rows(AS_OF, D(2026, 6, 30))["NH2014"]
    assert (year["opening"], year["opened"], year["received"], year["closing"]) == (
        0,
        1000,
        300,
        1300,
    )
    later = rows(D(2026, 3, 1), D(2026, 6, 30))["NH2014"]
    assert (later["opening"], later["opened"], later["closing"]) == (1300, 0, 1300)
