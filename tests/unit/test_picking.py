import datetime as dt

import pytest

from ledger.picking import Candidate, Pick, pick_batches
from ledger.rules import Code, LedgerError

ON = dt.date(2026, 6, 1)


def test_earliest_expiry_is_picked_first():
    candidates = [
        Candidate("late", 10, dt.date(2028, 1, 1)),
        Candidate("early", 4, dt.date(2026, 12, 1)),
        Candidate("middle", 10, dt.date(2027, 1, 1)),
    ]
    assert pick_batches(candidates, 9, ON) == [Pick("early", 4), Pick("middle", 5)]


def test_oldest_print_run_first_when_nothing_expires():
    candidates = [
        Candidate("2015-01", 10, None, dt.date(2015, 1, 1)),
        Candidate("2014-01", 10, None, dt.date(2014, 1, 1)),
        Candidate("undated", 10),
    ]
    assert pick_batches(candidates, 15, ON) == [Pick("2014-01", 10), Pick("2015-01", 5)]


def test_expired_batches_are_skipped_unless_asked_for():
    candidates = [
        Candidate("expired", 10, dt.date(2026, 5, 31)),
        Candidate("good", 10, dt.date(2027, 1, 1)),
    ]
    assert pick_batches(candidates, 3, ON) == [Pick("good", 3)]
    assert pick_batches(candidates, 3, ON, include_expired=True) == [Pick("expired", 3)]


def test_a_batch_is_usable_through_its_expiry_day():
    assert pick_batches([Candidate("today", 5, ON)], 5, ON) == [Pick("today", 5)]


def test_too_little_unexpired_stock_is_refused():
    candidates = [Candidate("expired", 100, dt.date(2026, 1, 1)), Candidate("good", 2, None)]
    with pytest.raises(LedgerError) as refused:
        pick_batches(candidates, 3, ON)
    assert refused.value.code is Code.exceeds_available
