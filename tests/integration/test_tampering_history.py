"""Nothing changes behind verify's back: tampering by someone with direct database access (the
append-only guards dropped) with a posting's date, with what a period close kept, with the end
of the chain, and with the reference data that gives history its meaning — each found and
named, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from ledger import commands as c
from ledger.db import close_checks, journal_queries
from ledger.db.guards import drop_guards
from ledger.db.movement_totals import rebuild as rebuild_totals
from ledger.db.session import Session
from ledger.history import format_checkpoint, parse_checkpoint
from ledger.reference import ReferenceKind
from ledger.rules import Code
from ledger.services import reference
from ledger.services.audit import close_period, verify_ledger
from ledger.services.reference_models import BatchChange
from tests.builder import CITY_TEXT, ledger_from_text
from tests.conftest import TODAY
from tests.support import refused

MAY_END = dt.date(2026, 5, 31)


@pytest.fixture
def closed(ledger):
    """May's movements, May closed, then June's; the guards dropped, as an intruder would."""
    ledger_from_text(
        ledger,
        CITY_TEXT
        + "receipt 510100 NH2014 2014-01 10000 on 2026-05-02\n"
        + "receipt 510100 BYT B1 600 expires 2027-01-31 on 2026-05-02",
    )
    may = ledger.issue(
        c.Issue(
            "510100",
            "510121",
            (c.LineSpec("NH2014", 1000), c.LineSpec("BYT", 60)),
            dt.date(2026, 5, 10),
        )
    )
    ledger.confirm(c.Confirm(may.number, occurred_on=dt.date(2026, 5, 12)))
    ledger.database.write(lambda store: close_period(store, MAY_END, None, TODAY))
    june = ledger.issue(
        c.Issue("510100", "510181", (c.LineSpec("NH2014", 500),), dt.date(2026, 6, 3))
    )
    ledger.confirm(c.Confirm(june.number, occurred_on=dt.date(2026, 6, 5)))
    ledger.distribute(c.Distribute("510121", (c.LineSpec("NH2014", 30),), dt.date(2026, 6, 6)))
    assert all(report.ok for report in both_ways(ledger))
    with ledger.database.engine.begin() as connection:
        drop_guards(connection)
    return ledger


def sql(ledger, statement, **params):
    with ledger.database.engine.begin() as connection:
        connection.execute(text(statement), params)
    ledger.database.catalog.clear()  # as a freshly started process would read it


def both_ways(ledger, **options):
    return (
        verify_ledger(ledger.database, **options),
        verify_ledger(ledger.database, since_close=True, **options),
    )


def named(report, code):
    return [finding for finding in report.findings if finding.code == code]


# ---- a posting's date ----------------------------------------------------------------------


def test_a_posting_dated_unlike_its_transaction_is_found_both_ways(closed):
    sql(
        closed,
        "UPDATE postings SET occurred_on = :day WHERE quantity = -30",
        day=dt.date(2026, 7, 1),
    )
    for report in both_ways(closed):
        (finding,) = report.findings
        assert finding.code == "posting_date_mismatch"
        assert "FF-2026-000001" in finding.subject and "510121/NH2014/2014-01" in finding.subject
        assert (finding.expected, finding.found) == ("2026-06-06", "2026-07-01")


def test_a_posting_moved_into_the_closed_month_is_found_from_genesis(closed):
    sql(
        closed,
        "UPDATE postings SET occurred_on = :day WHERE quantity = -60 AND transaction_id = 3",
        day=dt.date(2026, 6, 2),
    )
    full = verify_ledger(closed.database)
    assert [f.code for f in full.findings] == ["posting_date_mismatch"]
    assert "CK-2026-000001" in full.findings[0].subject


# ---- what a period close kept --------------------------------------------------------------


def test_a_changed_closing_balance_is_named_both_ways(closed):
    sql(
        closed,
        "UPDATE closing_balances SET on_hand = on_hand + 7 WHERE location_id = "
        "(SELECT id FROM locations WHERE code = '510100') AND batch_id = "
        "(SELECT id FROM batches WHERE number = '2014-01')",
    )
    for report in both_ways(closed):
        (finding,) = named(report, "closing_balance_mismatch")
        assert "period close 2026-05-31 (#4)" in finding.subject
        assert "510100/NH2014/2014-01" in finding.subject
        assert (finding.expected, finding.found) == ("9000", "9007")


def test_a_changed_closing_balance_of_an_account_untouched_since_is_named_both_ways(closed):
    sql(
        closed,
        "UPDATE closing_balances SET on_hand = 59 WHERE on_hand = 60 AND location_id = "
        "(SELECT id FROM locations WHERE code = '510121')",
    )
    for report in both_ways(closed):
        (finding,) = named(report, "closing_balance_mismatch")
        assert "510121/BYT/B1" in finding.subject
        assert (finding.expected, finding.found) == ("60", "59")


def test_changed_close_movements_are_recomputed_from_the_postings(closed):
    sql(
        closed,
        "UPDATE close_movements SET quantity = quantity - 100 WHERE quantity = 1000 "
        "AND kind = 'confirmation'",
    )
    full = verify_ledger(closed.database)
    (finding,) = full.findings
    assert finding.code == "close_movement_mismatch"
    assert "510121/NH2014/2014-01 confirmation in" in finding.subject
    assert (finding.expected, finding.found) == ("1000", "900")
    assert verify_ledger(closed.database, since_close=True).ok  # not what it reads


def test_close_movements_are_checked_alike_when_ids_are_too_wide_to_pack(closed, monkeypatch):
    monkeypatch.setattr(close_checks, "packed_bits_max", 0)
    assert verify_ledger(closed.database).ok
    sql(closed, "UPDATE close_movements SET quantity = 999 WHERE quantity = 1000")
    sql(closed, "DELETE FROM close_item_movements WHERE kind = 'receipt'")
    report = verify_ledger(closed.database)
    assert {(f.code, f.subject.split(": ")[1], f.expected, f.found) for f in report.findings} == {
        ("close_movement_mismatch", "510100/NH2014/2014-01 issue out", "1000", "999"),
        ("close_movement_mismatch", "510121/NH2014/2014-01 confirmation in", "1000", "999"),
        ("close_item_movement_mismatch", "510100/NH2014 receipt in", "10000", "none"),
        ("close_item_movement_mismatch", "510100/BYT receipt in", "600", "none"),
    }


def test_changed_and_removed_close_item_movements_are_found(closed):
    sql(closed, "UPDATE close_item_movements SET quantity = 1 WHERE kind = 'issue'")
    sql(closed, "DELETE FROM close_item_movements WHERE kind = 'receipt'")
    found = named(verify_ledger(closed.database), "close_item_movement_mismatch")
    subjects = {(f.subject.split(": ")[1], f.expected, f.found) for f in found}
    assert ("510100/NH2014 issue out", "1000", "1") in subjects
    assert ("510100/NH2014 receipt in", "10000", "none") in subjects
    assert len(found) == 4  # NH2014 and BYT, each issued and received


def test_a_close_row_changed_in_place_is_found(closed):
    sql(closed, "UPDATE period_closes SET accounts = accounts + 1")
    for report in both_ways(closed):
        assert [f.code for f in report.findings] == ["close_accounts_mismatch"]


def test_a_close_moved_later_is_found_by_what_was_dated_into_it(closed):
    sql(closed, "UPDATE period_closes SET period_end = :day", day=dt.date(2026, 6, 5))
    full, since = both_ways(closed)
    assert {f.subject for f in named(since, "posted_into_closed_period")} == {
        "transaction CK-2026-000002 (#5)",
        "transaction QS-2026-000002 (#6)",
    }
    assert named(full, "posted_into_closed_period") and named(full, "close_movement_mismatch")


def test_a_close_pointing_at_another_chain_position_is_found_both_ways(closed):
    sql(closed, "UPDATE period_closes SET hash = :digest", digest="ab" * 32)
    for report in both_ways(closed):
        assert named(report, "close_digest_mismatch")


# ---- checkpoints ---------------------------------------------------------------------------


def head(ledger) -> tuple[int, str]:
    with ledger.database.read() as connection:
        return journal_queries.chain_digest(connection)


def cut_the_last_transaction(ledger) -> None:
    """Remove the last transaction as a careful intruder would: its postings, the balances
    they made, the movement totals (summed again without it) and the chain head — leaving a
    ledger that verifies on its own."""
    sequence, _ = head(ledger)
    with ledger.database.engine.begin() as connection:
        for location, item, batch, quantity in connection.execute(
            text(
                "SELECT location_id, item_id, batch_id, quantity FROM postings "
                "WHERE transaction_id = :id"
            ),
            {"id": sequence},
        ).all():
            connection.execute(
                text(
                    "UPDATE balances SET on_hand = on_hand - :q WHERE location_id = :l "
                    "AND item_id = :i AND batch_id = :b"
                ),
                {"q": quantity, "l": location, "i": item, "b": batch},
            )
        connection.execute(
            text("DELETE FROM postings WHERE transaction_id = :id"), {"id": sequence}
        )
        connection.execute(text("DELETE FROM transactions WHERE id = :id"), {"id": sequence})
        connection.execute(text("DELETE FROM movement_totals"))
        connection.execute(text("DELETE FROM item_movement_totals"))
        rebuild_totals(Session(connection))
        previous = connection.execute(
            text("SELECT hash FROM transactions WHERE id = :id"), {"id": sequence - 1}
        ).scalar_one()
        connection.execute(
            text("UPDATE chain_head SET sequence = :s, hash = :h"),
            {"s": sequence - 1, "h": previous},
        )
        connection.execute(text("UPDATE voucher_counters SET last = last - 1 WHERE prefix = 'FF'"))


def test_a_cut_off_tail_is_found_only_through_a_checkpoint_kept_outside(closed):
    kept = parse_checkpoint(format_checkpoint(*head(closed)))
    assert kept.sequence == 7 and len(kept.hash) == 16
    older = parse_checkpoint(format_checkpoint(4, closed_hash(closed, 4), 64))
    cut_the_last_transaction(closed)
    assert all(report.ok for report in both_ways(closed))  # nothing else shows it
    for report in both_ways(closed, checkpoints=[older, kept]):
        (finding,) = report.findings
        assert (finding.code, finding.subject) == ("checkpoint_missing", f"checkpoint {kept}")
        assert "ends at #6" in finding.message
        assert report.checkpoints == (str(older), str(kept))


def closed_hash(ledger, sequence):
    with ledger.database.read() as connection:
        return connection.execute(
            text("SELECT hash FROM transactions WHERE id = :id"), {"id": sequence}
        ).scalar_one()


def test_a_rewritten_tail_is_found_through_a_checkpoint(closed):
    kept = parse_checkpoint(format_checkpoint(*head(closed)))
    cut_the_last_transaction(closed)
    closed.distribute(c.Distribute("510121", (c.LineSpec("NH2014", 3),), dt.date(2026, 6, 6)))
    assert head(closed)[0] == kept.sequence
    for report in both_ways(closed, checkpoints=[kept]):
        (finding,) = report.findings
        assert finding.code == "checkpoint_mismatch" and finding.expected == kept.hash


def test_checkpoints_are_refused_when_malformed():
    for text_ in ("12", "12:abc", "x:" + "a" * 16, "12:" + "g" * 16, "１２:" + "a" * 16):
        refused(Code.invalid_checkpoint, parse_checkpoint, text_)
    assert parse_checkpoint(" 7:" + "AB" * 8).hash == "ab" * 8


# ---- reference data ------------------------------------------------------------------------


def test_a_batch_expiry_changed_in_place_is_found_with_before_and_after(closed):
    sql(closed, "UPDATE batches SET expires_on = :day WHERE number = 'B1'", day=dt.date(2026, 5, 1))
    for report in both_ways(closed):
        (finding,) = named(report, "reference_changed_in_place")
        assert finding.subject == "batch BYT/B1"
        assert finding.expected == '{"expires_on":"2027-01-31","produced_on":null}'
        assert finding.found == '{"expires_on":"2026-05-01","produced_on":null}'


def test_a_location_re_parented_in_place_is_found(closed):
    sql(
        closed,
        "UPDATE locations SET parent_id = (SELECT id FROM locations WHERE code = '510181'), "
        "path = '/510100/510181/510121-ZJ/' WHERE code = '510121-ZJ'",
    )
    report = verify_ledger(closed.database)
    changed = named(report, "reference_changed_in_place")
    assert [f.subject for f in changed] == ["location 510121-ZJ"]
    assert '"parent":"510121"' in changed[0].expected and '"parent":"510181"' in changed[0].found
    # its village's path no longer follows it
    (path,) = named(report, "location_path_mismatch")
    assert path.subject == "location 510121-ZJ-PS"


def test_a_path_changed_alone_is_found(closed):
    sql(
        closed, "UPDATE locations SET path = '/510100/510181/' || code || '/' WHERE code = '510121'"
    )
    report = verify_ledger(closed.database)
    assert {f.subject for f in named(report, "location_path_mismatch")} >= {"location 510121"}


def test_an_items_pack_size_and_unit_changed_in_place_are_found(closed):
    sql(closed, "UPDATE item_packs SET base_units = 400 WHERE name = '捆'")
    sql(closed, "UPDATE items SET base_unit = '册' WHERE code = 'GT2014'")
    report = verify_ledger(closed.database, since_close=True)
    assert {f.subject for f in named(report, "reference_changed_in_place")} == {
        "item NH2014",
        "item GT2014",
    }


def test_removed_versions_and_rows_inserted_outside_the_ledger_are_found(closed):
    reference.change(
        closed.database,
        ReferenceKind.batch,
        "BYT",
        BatchChange("更正", expires_on=dt.date(2027, 1, 30)),
        None,
        TODAY,
        "B1",
    )
    assert verify_ledger(closed.database).ok
    sql(closed, "DELETE FROM reference_versions WHERE object_type = 'batch' AND version = 2")
    sql(
        closed,
        "INSERT INTO locations (code, name, level, physical, parent_id, path) SELECT "
        "'510121-X', '暗设库点', 'township', physical, id, path || '510121-X/' FROM locations "
        "WHERE code = '510121'",
    )
    sql(
        closed,
        "DELETE FROM reference_versions WHERE object_type = 'location' AND object_id = "
        "(SELECT id FROM locations WHERE code = '510181')",
    )
    report = verify_ledger(closed.database)
    codes = {(f.code, f.subject) for f in report.findings}
    assert codes == {
        ("reference_changed_in_place", "batch BYT/B1"),
        ("reference_unversioned", "location 510121-X"),
        ("reference_unversioned", "location 510181"),
    }
    sql(closed, "DELETE FROM reference_versions WHERE object_type = 'item' AND version = 1")
    assert named(verify_ledger(closed.database), "reference_unversioned")
