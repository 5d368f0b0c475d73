"""Tampering by someone with direct database access is found by `verify`, which names it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger import commands as c
from ledger.chain import canonical_encoding, chain_hash
from ledger.db.guards import drop_guards
from ledger.services.audit import verify_ledger
from tests.builder import CITY_TEXT, ledger_from_text


@pytest.fixture
def tampered_ledger(ledger):
    """A small sound ledger, with the append-only guards dropped as an intruder would."""
    ledger_from_text(ledger, CITY_TEXT + "receipt 510100 NH2014 2014-01 1000 on 2026-06-01")
    shipment = ledger.issue(c.Issue("510100", "510121", (c.LineSpec("NH2014", 100),), memo="下发"))
    ledger.confirm(c.Confirm(shipment.number))
    ledger.distribute(c.Distribute("510121", (c.LineSpec("NH2014", 30),)))
    assert verify_ledger(ledger.database).ok
    with ledger.database.engine.begin() as connection:
        drop_guards(connection)
    return ledger


def sql(ledger, statement, **params):
    with ledger.database.engine.begin() as connection:
        return connection.execute(text(statement), params)


def findings_about(report, number):
    return [f for f in report.findings if number in f.subject]


def test_an_altered_posting_quantity_is_found_and_named(tampered_ledger):
    sql(
        tampered_ledger,
        "UPDATE postings SET quantity = 40 WHERE quantity = 30 AND transaction_id = "
        "(SELECT id FROM transactions WHERE number = 'FF-2026-000001')",
    )
    report = verify_ledger(tampered_ledger.database)
    assert not report.ok
    named = {f.code for f in findings_about(report, "FF-2026-000001")}
    assert {"hash_mismatch", "unbalanced_transaction", "running_balance_mismatch"} <= named


def test_a_deleted_transaction_is_found_and_named(tampered_ledger):
    sql(tampered_ledger, "DELETE FROM postings WHERE transaction_id = 3")
    sql(tampered_ledger, "DELETE FROM transactions WHERE id = 3")
    report = verify_ledger(tampered_ledger.database)
    codes = {f.code for f in report.findings}
    assert {"sequence_gap", "chain_broken", "balance_mismatch"} <= codes
    gap = next(f for f in report.findings if f.code == "sequence_gap")
    assert "#3" in gap.message


def test_deleting_the_last_transaction_is_found_through_the_chain_head(tampered_ledger):
    sql(tampered_ledger, "DELETE FROM postings WHERE transaction_id = 4")
    sql(tampered_ledger, "DELETE FROM transactions WHERE id = 4")
    report = verify_ledger(tampered_ledger.database)
    assert "chain_head_mismatch" in {f.code for f in report.findings}


def test_a_rehashed_transaction_is_found_and_named(tampered_ledger):
    # Change the memo of the issue and recompute its own hash, as a careful intruder would.
    row = sql(
        tampered_ledger,
        "SELECT id, number, occurred_on, previous_hash FROM transactions WHERE number = 'CK-2026-000001'",
    ).one()
    tx = tampered_ledger.database.lookup(lambda store: store.transaction(row.id))
    encoding = canonical_encoding(
        tx.sequence,
        tx.number,
        tx.kind.value,
        tx.occurred_on,
        tx.location_code,
        tx.counterparty_code,
        tx.reverses_sequence,
        tx.shipment_sequence,
        tx.reason,
        "改过的摘要",
        ((p.location_code, p.item_code, p.batch_number, p.quantity) for p in tx.postings),
    )
    sql(
        tampered_ledger,
        "UPDATE transactions SET memo = :memo, hash = :hash WHERE id = :id",
        memo="改过的摘要",
        hash=chain_hash(tx.previous_hash, encoding),
        id=row.id,
    )
    report = verify_ledger(tampered_ledger.database)
    assert [f.code for f in report.findings] == ["chain_broken"]
    assert "CK-2026-000001" in report.findings[0].subject


def test_an_altered_stored_balance_is_found(tampered_ledger):
    sql(
        tampered_ledger,
        "UPDATE balances SET on_hand = on_hand + 5 WHERE location_id = "
        "(SELECT id FROM locations WHERE code = '510121')",
    )
    report = verify_ledger(tampered_ledger.database)
    mismatch = [f for f in report.findings if f.code == "balance_mismatch"]
    assert mismatch and "510121/NH2014/2014-01" in mismatch[0].subject
    assert (mismatch[0].expected, mismatch[0].found) == ("70", "75")
