"""The pure checks behind `verify`'s history findings: posting dates, checkpoints, reference
data against its versions, location paths."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger.chain import GENESIS_HASH
from ledger.history import (
    Checkpoint,
    ReferenceRow,
    ReferenceVersion,
    check_checkpoints,
    check_location_paths,
    check_reference,
    format_checkpoint,
    parse_checkpoint,
)
from ledger.rules import LedgerError
from ledger.verify import StoredPosting, StoredTransaction, Verifier

DAY = dt.date(2026, 6, 1)


def transaction(*posting_days) -> StoredTransaction:
    postings = tuple(
        StoredPosting("510100", True, "NH2014", "2014-01", None, quantity, 0, day)
        for quantity, day in zip((10, -10), posting_days, strict=True)
    )
    return StoredTransaction(
        1,
        "RK-2026-000001",
        "receipt",
        DAY,
        "510100",
        None,
        None,
        None,
        None,
        "",
        GENESIS_HASH,
        "x",
        postings,
    )


def codes(findings) -> list[str]:
    return [finding.code for finding in findings]


def test_a_posting_dated_unlike_its_transaction_is_named_with_both_days():
    verifier = Verifier()
    verifier.feed(transaction(DAY, dt.date(2026, 6, 2)))
    (finding,) = [f for f in verifier.findings if f.code == "posting_date_mismatch"]
    assert (finding.expected, finding.found) == ("2026-06-01", "2026-06-02")
    assert "RK-2026-000001" in finding.subject


def test_postings_read_without_their_date_are_not_judged():
    verifier = Verifier()
    verifier.feed(transaction(None, None))
    verifier.feed(transaction(DAY, "not a date"))
    assert codes(f for f in verifier.findings if f.code == "posting_date_mismatch") == [
        "posting_date_mismatch"
    ]


def test_checkpoints_print_short_and_parse_back():
    digest = "3f2a9c0e1b7d6a54" + "0" * 48
    assert format_checkpoint(1024, digest) == "1024:3f2a9c0e1b7d6a54"
    assert parse_checkpoint("1024:3F2A9C0E1B7D6A54") == Checkpoint(1024, "3f2a9c0e1b7d6a54")
    assert parse_checkpoint(format_checkpoint(7, digest, 64)).hash == digest
    for bad in ("", "1024", "1024:", "1024:3f2a", "-1:" + "a" * 16, "1:" + "a" * 65, "1:zz" * 8):
        with pytest.raises(LedgerError) as error:
            parse_checkpoint(bad)
        assert error.value.code == "invalid_checkpoint" and error.value.field == "checkpoint"


def test_checkpoints_against_the_stored_hashes():
    stored = {5: "ab" * 32}
    held = Checkpoint(5, "ab" * 8)
    whole = Checkpoint(5, "ab" * 32)
    genesis = Checkpoint(0, "0" * 16)
    assert check_checkpoints([held, whole, genesis], stored, 5) == []
    other = check_checkpoints([Checkpoint(5, "cd" * 8)], stored, 5)
    assert codes(other) == ["checkpoint_mismatch"] and other[0].found == "ab" * 8
    beyond = check_checkpoints([Checkpoint(9, "ab" * 8)], stored, 5)
    assert codes(beyond) == ["checkpoint_missing"] and beyond[0].found == "#5 (head)"
    gap = check_checkpoints([Checkpoint(3, "ab" * 8)], stored, 5)
    assert codes(gap) == ["checkpoint_missing"] and gap[0].found == "none"


def row(key, content, object_id=1, object_type="batch"):
    return ReferenceRow(object_type, object_id, key, content)


def version(number, content, object_id=1, object_type="batch"):
    return ReferenceVersion(object_type, object_id, number, content)


def test_reference_rows_equal_their_last_version():
    assert check_reference([row("BYT/B1", "b")], [version(1, "a"), version(2, "b")]) == []
    (changed,) = check_reference([row("BYT/B1", "c")], [version(1, "a"), version(2, "b")])
    assert (changed.code, changed.subject, changed.expected, changed.found) == (
        "reference_changed_in_place",
        "batch BYT/B1",
        "b",
        "c",
    )


def test_missing_versions_and_objects_are_named():
    assert codes(check_reference([row("BYT/B1", "a")], [])) == ["reference_unversioned"]
    assert codes(check_reference([row("BYT/B1", "b")], [version(1, "a"), version(3, "b")])) == [
        "reference_version_gap"
    ]
    assert codes(check_reference([], [version(1, "a", 9)])) == ["reference_object_missing"]


def test_location_paths_follow_their_parents():
    good = [("510100", None, "/510100/"), ("510121", "510100", "/510100/510121/")]
    assert check_location_paths(good) == []
    (wrong,) = check_location_paths([*good, ("510121-ZJ", "510121", "/510100/510121-ZJ/")])
    assert (wrong.code, wrong.expected) == ("location_path_mismatch", "/510100/510121/510121-ZJ/")
