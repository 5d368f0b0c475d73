"""Two cities in one database are two ledgers: a period close applies to one city's subtree,
postings check their own city's closes, and a city's verification checks (and names) only its
own transactions and accounts, while a verification of the whole ledger checks everything."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from ledger import commands as c
from ledger.db.guards import drop_guards
from ledger.rules import Code
from ledger.services.audit import close_period, period_closes, verify_ledger
from ledger.services.reports import period_summary_rows
from tests.builder import CITY_TEXT, ledger_from_text
from tests.conftest import TODAY
from tests.support import refused

MAY_END = dt.date(2026, 5, 31)
APRIL_END = dt.date(2026, 4, 30)
SECOND_CITY = """
location 500100 渝中样例市 city
location 500101 样例一区 county 500100
location 500101-DY 样例镇 township 500101
"""


@pytest.fixture
def two_cities(ledger):
    """成都市 and a second city, each with receipts in April and May, movements down its tree
    in May (one shipment of each left in transit) and in June."""
    ledger_from_text(
        ledger,
        CITY_TEXT
        + SECOND_CITY
        + """
receipt 510100 NH2014 2014-01 10000 on 2026-04-02
receipt 500100 NH2014 2014-01 6000 on 2026-04-03
receipt 500100 BYT YZ-1 900 expires 2028-06-30 on 2026-05-02
""",
    )
    for city, county in (("510100", "510121"), ("500100", "500101")):
        may = ledger.issue(
            c.Issue(city, county, (c.LineSpec("NH2014", 1000),), dt.date(2026, 5, 10))
        )
        ledger.confirm(c.Confirm(may.number, occurred_on=dt.date(2026, 5, 12)))
        ledger.issue(c.Issue(city, county, (c.LineSpec("NH2014", 200),), dt.date(2026, 5, 20)))
        ledger.distribute(c.Distribute(county, (c.LineSpec("NH2014", 30),), dt.date(2026, 6, 6)))
    return ledger


def close(ledger, period_end, root=None):
    return ledger.database.write(lambda store: close_period(store, period_end, None, TODAY, root))


def sql(ledger, statement):
    with ledger.database.engine.begin() as connection:
        drop_guards(connection)
        connection.execute(text(statement))


def receipt_at(location: str, day: dt.date) -> c.Receive:
    return c.Receive(location, (c.ReceiptLine("NH2014", "2014-07", 5),), day, "补登")


def test_a_close_names_its_city_when_the_ledger_holds_several(two_cities):
    refused(Code.root_required, close, two_cities, MAY_END)
    refused(Code.root_required, close, two_cities, MAY_END, "510121")  # a county, not a root
    refused(Code.unknown_location, close, two_cities, MAY_END, "NOPE")
    assert period_closes(two_cities.database) == []


def test_a_citys_close_does_not_block_the_other_citys_postings(two_cities):
    made = close(two_cities, MAY_END, "500100")
    assert made.root_code == "500100" and made.period_end == MAY_END
    refused(Code.period_closed, two_cities.receive, receipt_at("500101-DY", MAY_END))
    refused(Code.period_closed, close, two_cities, MAY_END, "500100")
    # 成都市 is open: postings on the closed day go in, and it closes on its own
    two_cities.receive(receipt_at("510121-ZJ", MAY_END))
    two_cities.receive(receipt_at("510100", APRIL_END))
    assert close(two_cities, APRIL_END, "510100").root_code == "510100"
    refused(Code.period_closed, two_cities.receive, receipt_at("510121", APRIL_END))
    two_cities.receive(receipt_at("510121", MAY_END))  # after 成都市's close, in 渝中's closed May
    assert [(p.root_code, p.period_end) for p in period_closes(two_cities.database, "500100")] == [
        ("500100", MAY_END)
    ]
    assert [p.root_code for p in period_closes(two_cities.database, "510100")] == ["510100"]
    assert {p.root_code for p in period_closes(two_cities.database)} == {"500100", "510100"}


def test_a_close_keeps_its_citys_accounts_and_the_shared_virtual_ones(two_cities):
    made = close(two_cities, MAY_END, "500100")
    with two_cities.database.engine.connect() as connection:
        kept = (
            connection.execute(
                text(
                    "SELECT l.code FROM closing_balances cb JOIN locations l ON l.id = cb.location_id "
                    "JOIN period_closes pc ON pc.id = cb.close_id WHERE pc.sequence = :sequence"
                ),
                {"sequence": made.sequence},
            )
            .scalars()
            .all()
        )
        places = set(kept)
        moved = set(
            connection.execute(
                text(
                    "SELECT DISTINCT l.code FROM close_movements m "
                    "JOIN locations l ON l.id = m.location_id"
                )
            ).scalars()
        )
    assert {"500100", "500101", "supplier", "in-transit"} <= places
    assert not places & {"510100", "510121"}
    assert moved == {"500100", "500101"}
    assert made.accounts == len(kept)


def test_a_close_of_every_city_made_before_cities_were_separate_applies_to_both(two_cities):
    """A close with no root (made before migration 0008 in a ledger of several cities) closes
    the period for every city."""
    sql(
        two_cities,
        "INSERT INTO period_closes (root_id, period_end, sequence, hash, accounts, closed_at) "
        "SELECT NULL, '2026-04-30', sequence, hash, 0, '2026-05-01 00:00:00' FROM chain_head",
    )
    for place in ("510121", "500101"):
        refused(Code.period_closed, two_cities.receive, receipt_at(place, APRIL_END))
    refused(Code.period_closed, close, two_cities, APRIL_END, "500100")
    assert [p.root_code for p in period_closes(two_cities.database, "500100")] == [None]


def test_each_city_and_the_whole_ledger_verify_with_closes_at_different_days(two_cities):
    april = close(two_cities, APRIL_END, "510100")
    may = close(two_cities, MAY_END, "500100")
    # after both closes: one voucher in each city
    two_cities.distribute(c.Distribute("500101", (c.LineSpec("NH2014", 5),), dt.date(2026, 6, 8)))
    two_cities.distribute(c.Distribute("510121", (c.LineSpec("NH2014", 4),), dt.date(2026, 6, 9)))
    whole = verify_ledger(two_cities.database)
    chengdu = verify_ledger(two_cities.database, root_code="510100")
    second = verify_ledger(two_cities.database, root_code="500100")
    assert whole.ok and chengdu.ok and second.ok, (whole, chengdu, second)
    assert (whole.root_code, chengdu.root_code, second.root_code) == (None, "510100", "500100")
    # each city counts its own vouchers: 1 receipt, 2 issues, 1 confirmation, 2 distributions
    # in 成都市; 2 receipts and the same in the second city
    assert (chengdu.transactions_checked, second.transactions_checked) == (6, 7)
    assert whole.transactions_checked == 13
    since = verify_ledger(two_cities.database, since_close=True, root_code="500100")
    assert since.ok and since.since_period_end == MAY_END
    assert (since.from_sequence, since.transactions_checked) == (may.sequence, 1)
    chengdu_since = verify_ledger(two_cities.database, since_close=True, root_code="510100")
    assert chengdu_since.ok and chengdu_since.since_period_end == APRIL_END
    assert (chengdu_since.from_sequence, chengdu_since.transactions_checked) == (april.sequence, 1)
    refused(Code.root_required, lambda: verify_ledger(two_cities.database, since_close=True))


def test_a_citys_verification_names_only_its_own_findings(two_cities):
    """Tampering in 成都市: its verification names it; the second city's only counts findings
    on another city's vouchers when the shared chain is hurt, and never names them."""
    with two_cities.database.engine.connect() as connection:
        chengdu_distribution = connection.execute(
            text(
                "SELECT t.number FROM transactions t JOIN locations l ON l.id = t.location_id "
                "WHERE l.code = '510121' AND t.kind = 'distribution'"
            )
        ).scalar_one()
    sql(
        two_cities,
        "UPDATE balances SET on_hand = on_hand + 3 "
        "WHERE location_id = (SELECT id FROM locations WHERE code = '510121')",
    )
    assert verify_ledger(two_cities.database, root_code="500100").ok
    chengdu = verify_ledger(two_cities.database, root_code="510100")
    assert {f.code for f in chengdu.findings} == {"balance_mismatch"}
    assert not verify_ledger(two_cities.database).ok
    sql(
        two_cities,
        f"UPDATE postings SET quantity = -31 WHERE quantity = -30 AND transaction_id = "
        f"(SELECT id FROM transactions WHERE number = '{chengdu_distribution}')",
    )
    second = verify_ledger(two_cities.database, root_code="500100")
    (elsewhere,) = second.findings
    assert elsewhere.code == "other_roots" and int(elsewhere.found) >= 1
    for finding in second.findings:
        shown = f"{finding.subject} {finding.message} {finding.expected} {finding.found}"
        assert chengdu_distribution not in shown and "510121" not in shown
    whole = verify_ledger(two_cities.database)
    assert any(chengdu_distribution in f.subject for f in whole.findings)
    assert "other_roots" not in {f.code for f in whole.findings}


def test_a_tampered_closing_balance_is_found_by_its_city_and_the_whole_ledger(two_cities):
    close(two_cities, MAY_END, "500100")
    sql(
        two_cities,
        "UPDATE closing_balances SET on_hand = on_hand + 7 "
        "WHERE location_id = (SELECT id FROM locations WHERE code = '500101')",
    )
    for report in (
        verify_ledger(two_cities.database),
        verify_ledger(two_cities.database, root_code="500100"),
    ):
        assert "closing_balance_mismatch" in {f.code for f in report.findings}
    assert verify_ledger(two_cities.database, root_code="510100").ok


def test_a_citys_summary_reads_its_own_closes(two_cities):
    """The 收发存汇总表 of each city is the same from the postings alone and from closes made
    at different days in the two cities."""
    days = (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    before = {
        city: two_cities.database.lookup(
            lambda store, city=city: period_summary_rows(store, city, *days)
        )
        for city in ("510100", "500100")
    }
    close(two_cities, APRIL_END, "510100")
    close(two_cities, MAY_END, "500100")
    close(two_cities, dt.date(2026, 6, 7), "500100")
    for city, rows in before.items():
        after = two_cities.database.lookup(
            lambda store, city=city: period_summary_rows(store, city, *days)
        )
        assert after == rows and rows


def test_stock_never_crosses_from_one_city_to_the_other(two_cities):
    ledger = two_cities
    before = ledger.database.lookup(lambda store: store.chain_head()[:])
    for source, destination in (("500100", "510121"), ("510121", "500101-DY")):
        error = refused(
            Code.location_in_other_city,
            ledger.issue,
            c.Issue(source, destination, (c.LineSpec("NH2014", 10),)),
        )
        assert "成都" not in error.message and "样例" not in error.message
    assert ledger.database.lookup(lambda store: store.chain_head()[:]) == before
