import datetime as dt

import pytest

from ledger.picking import Candidate, Pick, batch_ahead, pick_batches, pick_order
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


def test_ties_in_expiry_and_print_date_go_by_batch_number():
    candidates = [
        Candidate("B-2", 10, dt.date(2027, 1, 1), dt.date(2025, 1, 1)),
        Candidate("B-1", 10, dt.date(2027, 1, 1), dt.date(2025, 1, 1)),
        Candidate("A-9", 10, dt.date(2027, 1, 1), dt.date(2024, 1, 1)),
    ]
    assert [c.batch_number for c in pick_order(candidates, ON)] == ["A-9", "B-1", "B-2"]


def test_batches_with_nothing_available_are_never_picked():
    candidates = [Candidate("held", 0, dt.date(2026, 7, 1)), Candidate("free", 5, None)]
    assert pick_batches(candidates, 5, ON) == [Pick("free", 5)]


def test_expiry_is_judged_on_the_day_given():
    candidates = [Candidate("june", 10, dt.date(2026, 6, 30)), Candidate("later", 10, None)]
    assert pick_batches(candidates, 5, dt.date(2026, 6, 30)) == [Pick("june", 5)]
    assert pick_batches(candidates, 5, dt.date(2026, 7, 1)) == [Pick("later", 5)]


def test_a_movement_takes_its_reserved_batches_first_when_asked():
    candidates = [
        Candidate("early", 10, dt.date(2026, 8, 1)),
        Candidate("reserved-late", 6, dt.date(2028, 1, 1), reserved=4),
        Candidate("reserved-mid", 3, dt.date(2027, 1, 1), reserved=3),
    ]
    assert pick_batches(candidates, 12, ON, reserved_first=True) == [
        Pick("reserved-mid", 3),
        Pick("reserved-late", 6),
        Pick("early", 3),
    ]
    # Ranked by expiry alone (a request's suggestion) the reservation does not go first.
    assert pick_batches(candidates, 12, ON) == [Pick("early", 10), Pick("reserved-mid", 2)]


def test_an_expired_reserved_batch_is_still_skipped():
    candidates = [
        Candidate("reserved-expired", 5, dt.date(2026, 1, 1), reserved=5),
        Candidate("good", 5, dt.date(2027, 1, 1)),
    ]
    assert pick_batches(candidates, 2, ON, reserved_first=True) == [Pick("good", 2)]


def test_a_short_pick_is_refused_with_everything_usable_counted():
    candidates = [Candidate("reserved", 2, None, reserved=2), Candidate("other", 3, None)]
    with pytest.raises(LedgerError) as refused:
        pick_batches(candidates, 6, ON, reserved_first=True)
    assert refused.value.code is Code.exceeds_available
    assert "合计 5，不足 6" in refused.value.message


def test_a_partial_pick_lists_what_there_is():
    candidates = [
        Candidate("a", 2, dt.date(2027, 1, 1)),
        Candidate("expired", 9, dt.date(2026, 1, 1)),
    ]
    assert pick_batches(candidates, 6, ON, partial=True) == [Pick("a", 2)]
    assert pick_batches([], 6, ON, partial=True) == []


EARLY = Candidate("early", 10, dt.date(2026, 8, 1))
LATE = Candidate("late", 10, dt.date(2028, 1, 1))


def test_no_batch_is_ahead_of_the_one_fefo_takes():
    assert batch_ahead([EARLY, LATE], EARLY, ON) is None


def test_an_earlier_batch_with_stock_left_is_ahead_of_a_later_one():
    assert batch_ahead([LATE, EARLY], LATE, ON) == EARLY


def test_an_earlier_batch_this_document_already_empties_is_not_ahead():
    assert batch_ahead([EARLY, LATE], LATE, ON, {"early": 10}) is None
    assert batch_ahead([EARLY, LATE], LATE, ON, {"early": 9}) == EARLY


def test_expired_or_unavailable_batches_are_never_ahead():
    expired = Candidate("expired", 10, dt.date(2026, 5, 1))
    held = Candidate("held", 0, dt.date(2026, 7, 1))
    assert batch_ahead([expired, held, LATE], LATE, ON) is None


def test_the_earliest_batch_ahead_is_named():
    middle = Candidate("middle", 10, dt.date(2027, 1, 1))
    assert batch_ahead([middle, LATE, EARLY], LATE, ON) == EARLY


def test_every_batch_with_stock_is_ahead_of_one_fefo_cannot_pick():
    assert batch_ahead([LATE, EARLY], None, ON) == EARLY
    assert batch_ahead([LATE], None, ON, {"late": 10}) is None
    assert batch_ahead([], None, ON) is None
