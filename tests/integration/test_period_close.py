"""Period close (月结): verification since the close agrees with verification from genesis,
postings into a closed period are refused, and tampering before or after a close is found."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from ledger import commands as c
from ledger.db.guards import drop_guards
from ledger.rules import Code
from ledger.services.audit import close_period, period_closes, verify_ledger
from tests.builder import CITY_TEXT, ledger_from_text
from tests.conftest import TODAY, postgres_ledger
from tests.support import refused

MAY_END = dt.date(2026, 5, 31)


@pytest.fixture
def closed(ledger):
    """May's movements, May closed, then June's."""
    ledger_from_text(ledger, CITY_TEXT + "receipt 510100 NH2014 2014-01 10000 on 2026-05-02")
    may = ledger.issue(
        c.Issue("510100", "510121", (c.LineSpec("NH2014", 1000),), dt.date(2026, 5, 10))
    )
    ledger.confirm(c.Confirm(may.number, occurred_on=dt.date(2026, 5, 12)))
    close(ledger, MAY_END)
    june = ledger.issue(
        c.Issue("510100", "510181", (c.LineSpec("NH2014", 500),), dt.date(2026, 6, 3))
    )
    ledger.confirm(c.Confirm(june.number, occurred_on=dt.date(2026, 6, 5)))
    ledger.distribute(c.Distribute("510121", (c.LineSpec("NH2014", 30),), dt.date(2026, 6, 6)))
    return ledger


def close(ledger, period_end):
    return ledger.database.write(lambda store: close_period(store, period_end, None, TODAY))


def sql(ledger, statement):
    with ledger.database.engine.begin() as connection:
        drop_guards(connection)
        connection.execute(text(statement))


def test_since_the_close_and_from_genesis_agree(closed):
    (may,) = period_closes(closed.database)
    assert may.period_end == MAY_END and may.sequence == 3 and may.accounts > 0
    full = verify_ledger(closed.database)
    since = verify_ledger(closed.database, since_close=True)
    assert full.ok and since.ok
    assert (full.from_sequence, full.transactions_checked) == (0, 6)
    assert (since.from_sequence, since.transactions_checked) == (3, 3)
    assert since.since_period_end == MAY_END
    assert (since.digest_sequence, since.digest_hash) == (full.digest_sequence, full.digest_hash)


def test_nothing_is_posted_into_a_closed_period(closed):
    late_receipt = c.Receive(
        "510121-ZJ", (c.ReceiptLine("NH2014", "2014-02", 100),), MAY_END, "补登五月到货"
    )
    refused(Code.period_closed, closed.receive, late_receipt)
    refused(Code.period_closed, close, closed, MAY_END)
    refused(Code.period_not_ended, close, closed, TODAY)
    june = close(closed, dt.date(2026, 6, 10))
    assert june.sequence == 6
    closed.distribute(c.Distribute("510181", (c.LineSpec("NH2014", 1),), dt.date(2026, 6, 11)))
    assert verify_ledger(closed.database, since_close=True).transactions_checked == 1
    assert verify_ledger(closed.database).ok


def test_tampering_after_the_close_is_found_both_ways(closed):
    sql(closed, "UPDATE postings SET quantity = 40 WHERE quantity = 30")
    full = verify_ledger(closed.database)
    since = verify_ledger(closed.database, since_close=True)
    assert since.from_sequence == 3
    for report in (full, since):
        codes = {f.code for f in report.findings if "FF-2026-000001" in f.subject}
        assert "hash_mismatch" in codes


def test_tampering_before_the_close_is_found_from_genesis(closed):
    sql(closed, "UPDATE postings SET quantity = 900 WHERE quantity = 1000 AND transaction_id = 2")
    full = verify_ledger(closed.database)
    codes = {f.code for f in full.findings}
    assert {"hash_mismatch", "closing_balance_mismatch"} <= codes
    # Since the close, only what came after it is read: that is the point of closing.
    assert verify_ledger(closed.database, since_close=True).ok


def test_an_altered_closing_balance_is_found_both_ways(closed):
    sql(
        closed,
        "UPDATE closing_balances SET on_hand = on_hand + 7 WHERE location_id = "
        "(SELECT id FROM locations WHERE code = '510121')",
    )
    full = {f.code for f in verify_ledger(closed.database).findings}
    since = {f.code for f in verify_ledger(closed.database, since_close=True).findings}
    assert "closing_balance_mismatch" in full
    assert "balance_mismatch" in since


def untouched_since_the_close(ledger) -> tuple[str, str]:
    """An account held at the close that nothing posted after it touched: (SQL condition on
    balances, subject as findings name it)."""
    (may,) = period_closes(ledger.database)
    with ledger.database.engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT cb.location_id, cb.item_id, cb.batch_id, l.code, i.code, b.number "
                "FROM closing_balances cb JOIN locations l ON l.id = cb.location_id "
                "JOIN items i ON i.id = cb.item_id JOIN batches b ON b.id = cb.batch_id "
                "WHERE cb.on_hand <> 0 AND NOT EXISTS (SELECT 1 FROM postings p "
                "WHERE p.transaction_id > :after AND p.location_id = cb.location_id "
                "AND p.item_id = cb.item_id AND p.batch_id = cb.batch_id)"
            ),
            {"after": may.sequence},
        ).first()
    location, item, batch, *codes = row
    where = f"location_id = {location} AND item_id = {item} AND batch_id = {batch}"
    return where, "account " + "/".join(codes)


def both_ways(ledger):
    """verify from genesis and since the last close."""
    return verify_ledger(ledger.database), verify_ledger(ledger.database, since_close=True)


def test_an_altered_balance_untouched_since_the_close_is_found_both_ways(closed):
    where, subject = untouched_since_the_close(closed)
    sql(closed, f"UPDATE balances SET on_hand = on_hand + 5, reserved = 2 WHERE {where}")
    for report in both_ways(closed):
        assert {f.code for f in report.findings if f.subject == subject} == {
            "balance_mismatch",
            "reserved_mismatch",
        }


def test_a_removed_balance_untouched_since_the_close_is_found_both_ways(closed):
    where, subject = untouched_since_the_close(closed)
    sql(closed, f"DELETE FROM balances WHERE {where}")
    for report in both_ways(closed):
        (missing,) = report.findings
        assert (missing.code, missing.subject, missing.found) == (
            "balance_missing",
            subject,
            "none",
        )


def test_a_stored_balance_put_back_to_the_close_is_found_since_the_close(closed):
    """510121 distributed 30 after the close; its stored balance reset to the close's figure
    agrees with the close but not with the postings since."""
    sql(
        closed,
        "UPDATE balances SET on_hand = on_hand + 30 "
        "WHERE location_id = (SELECT id FROM locations WHERE code = '510121')",
    )
    since = verify_ledger(closed.database, since_close=True)
    (mismatch,) = since.findings
    assert (mismatch.code, mismatch.subject) == (
        "balance_mismatch",
        "account 510121/NH2014/2014-01",
    )
    assert (mismatch.expected, mismatch.found) == ("970", "1000")


@pytest.fixture
def pg_ledger():
    """A ledger on PostgreSQL, where a DBA could drop the one-reversal-per-transaction
    constraint (SQLite cannot drop it, so there a second reversal cannot even be stored)."""
    with postgres_ledger() as ledger:
        yield ledger


@pytest.mark.postgres
def test_a_second_reversal_after_the_close_of_one_before_it_is_found(pg_ledger):
    ledger = pg_ledger
    ledger_from_text(ledger, CITY_TEXT + "receipt 510100 NH2014 2014-01 10000 on 2026-05-02")
    may = ledger.distribute(c.Distribute("510100", (c.LineSpec("NH2014", 30),), MAY_END))
    ledger.reverse(c.Reverse(may.number, MAY_END))
    close(ledger, MAY_END)
    june = ledger.distribute(
        c.Distribute("510100", (c.LineSpec("NH2014", 20),), dt.date(2026, 6, 3))
    )
    june_reversal = ledger.reverse(c.Reverse(june.number, dt.date(2026, 6, 3)))
    assert verify_ledger(ledger.database, since_close=True).ok
    sql(ledger, "ALTER TABLE transactions DROP CONSTRAINT uq_transactions_reverses_id")
    sql(
        ledger,
        f"UPDATE transactions SET reverses_id = (SELECT id FROM transactions "
        f"WHERE number = '{may.number}') WHERE number = '{june_reversal.number}'",
    )
    full = verify_ledger(ledger.database)
    since = verify_ledger(ledger.database, since_close=True)
    assert (full.from_sequence, since.from_sequence) == (0, 3)
    for report in (full, since):
        twice = [f for f in report.findings if f.code == "reversed_twice"]
        assert [f.subject for f in twice] == [f"transaction {june_reversal.number} (#5)"]
