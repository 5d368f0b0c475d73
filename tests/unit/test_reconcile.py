"""The reconciliation core: hand-made cases of every outcome, and a property test against a
naive reference implementation on random data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.reconcile import (
    GAIN,
    LOSS,
    MATCH,
    NOT_COUNTED,
    NOT_ON_BOOKS,
    Lines,
    reconcile,
    uncounted,
)


def outcomes(result) -> dict[tuple[int, int, int], tuple[int, int, int, int]]:
    return {
        (int(loc), int(i), int(b)): (int(bk), int(ct), int(d), int(o))
        for loc, i, b, bk, ct, d, o in zip(
            result.location,
            result.item,
            result.batch,
            result.book,
            result.counted,
            result.difference,
            result.outcome,
            strict=True,
        )
    }


BOOK = Lines.of(
    [
        (1, 10, 100, 500),  # matches
        (1, 10, 101, 300),  # 盘盈: 305 counted
        (1, 11, 102, 80),  # 盘亏: 72 counted
        (1, 11, 103, 40),  # not counted
        (2, 10, 100, 1000),  # matches, counted in two parts
    ]
)
COUNTED = Lines.of(
    [
        (1, 10, 100, 500),
        (1, 10, 101, 305),
        (1, 11, 102, 72),
        (1, 12, 104, 6),  # not on the books
        (2, 10, 100, 600),
        (2, 10, 100, 400),
        (2, 12, 105, 0),  # counted zero of something not on the books: consistent
    ]
)


def test_every_outcome_by_hand():
    result = reconcile(BOOK, COUNTED)
    assert outcomes(result) == {
        (1, 10, 100): (500, 500, 0, MATCH),
        (1, 10, 101): (300, 305, 5, GAIN),
        (1, 11, 102): (80, 72, -8, LOSS),
        (1, 11, 103): (40, 0, 0, NOT_COUNTED),
        (1, 12, 104): (0, 6, 6, NOT_ON_BOOKS),
        (2, 10, 100): (1000, 1000, 0, MATCH),
        (2, 12, 105): (0, 0, 0, MATCH),
    }
    first, second = result.by_location
    assert (first.lines, first.matched, first.gains, first.losses) == (4, 1, 1, 1)
    assert (first.not_counted, first.not_on_books) == (1, 1)
    assert first.rate == 0.25 and not first.passed
    assert (second.lines, second.matched, second.rate, second.passed) == (2, 2, 1.0, True)
    assert (result.lines, result.matched) == (6, 3) and result.rate == 0.5
    assert not result.passed and result.threshold == 0.98


def test_a_final_count_treats_missing_lines_as_zero():
    result = reconcile(BOOK, COUNTED, missing_counts_are_zero=True)
    assert outcomes(result)[(1, 11, 103)] == (40, 0, -40, LOSS)
    assert result.lines == 7


def test_declaring_a_place_counted_sets_its_uncounted_lines_to_zero():
    zeros = uncounted(BOOK, COUNTED, [1])
    assert [tuple(map(int, row)) for row in zip(*zeros, strict=True)] == [(1, 11, 103, 0)]
    assert uncounted(BOOK, COUNTED, [2]).location.size == 0  # 2 was counted in full
    assert uncounted(BOOK, COUNTED, []).location.size == 0
    declared = Lines(*(np.concatenate(pair) for pair in zip(COUNTED, zeros, strict=True)))
    assert outcomes(reconcile(BOOK, declared))[(1, 11, 103)] == (40, 0, -40, LOSS)


def test_threshold_and_empty_inputs():
    empty = Lines.of([])
    result = reconcile(empty, empty)
    assert result.lines == 0 and result.rate == 1.0 and result.passed
    assert reconcile(BOOK, BOOK, threshold=1.0).passed
    with pytest.raises(ValueError):
        reconcile(BOOK, COUNTED, threshold=1.5)
    with pytest.raises(ValueError):
        reconcile(Lines.of([(1 << 21, 1, 1, 1)]), empty)


def naive(book_rows, counted_rows, missing_counts_are_zero, threshold):
    book: dict = {}
    for key in book_rows:
        book[key[:3]] = book.get(key[:3], 0) + key[3]
    counted: dict = {}
    for key in counted_rows:
        counted[key[:3]] = counted.get(key[:3], 0) + key[3]
    lines = {}
    for key in sorted(set(book) | set(counted)):
        b, c = book.get(key, 0), counted.get(key, 0)
        if key not in counted and not missing_counts_are_zero:
            lines[key] = (b, 0, 0, NOT_COUNTED)
        elif key not in book and c != 0:
            lines[key] = (0, c, c, NOT_ON_BOOKS)
        else:
            lines[key] = (b, c, c - b, MATCH if c == b else GAIN if c > b else LOSS)
    per_location: dict = {}
    for (place, _, _), (_, _, _, outcome) in lines.items():
        judged, matched = per_location.get(place, (0, 0))
        if outcome != NOT_COUNTED:
            judged += 1
            matched += outcome == MATCH
        per_location[place] = (judged, matched)
    judged = sum(j for j, _ in per_location.values())
    matched = sum(m for _, m in per_location.values())
    rate = matched / judged if judged else 1.0
    return lines, per_location, rate, rate >= threshold


rows = st.lists(
    st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 5), st.integers(0, 50)),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(rows, rows, st.booleans(), st.sampled_from([0.5, 0.9, 0.98, 1.0]))
def test_matches_the_naive_reference(book_rows, counted_rows, final, threshold):
    result = reconcile(Lines.of(book_rows), Lines.of(counted_rows), threshold, final)
    lines, per_location, rate, passed = naive(book_rows, counted_rows, final, threshold)
    assert outcomes(result) == lines
    assert {s.location: (s.lines, s.matched) for s in result.by_location} == per_location
    assert result.rate == pytest.approx(rate) and result.passed == passed


@settings(max_examples=300, deadline=None)
@given(rows, rows, st.sets(st.integers(1, 4)))
def test_a_line_nobody_counted_is_never_adjusted_unless_declared_zero(
    book_rows, counted_rows, places
):
    """未盘 lines keep a difference of 0; declaring places fully counted turns exactly their
    uncounted book lines into counts of 0 and changes nothing else."""
    book, counted = Lines.of(book_rows), Lines.of(counted_rows)
    before = outcomes(reconcile(book, counted))
    counted_keys = {row[:3] for row in counted_rows}
    for key, (_, _, difference, outcome) in before.items():
        if key not in counted_keys:
            assert (difference, outcome) == (0, NOT_COUNTED)
    zeros = uncounted(book, counted, places)
    declared_keys = {tuple(map(int, row[:3])) for row in zip(*zeros, strict=True)}
    naive_book: dict = {}
    for row in book_rows:
        naive_book[row[:3]] = naive_book.get(row[:3], 0) + row[3]
    assert declared_keys == {
        key
        for key, quantity in naive_book.items()
        if key[0] in places and key not in counted_keys and quantity != 0
    }
    assert all(int(q) == 0 for q in zeros.quantity)
    merged = Lines(*(np.concatenate(pair) for pair in zip(counted, zeros, strict=True)))
    after = outcomes(reconcile(book, merged))
    assert after.keys() == before.keys()
    for key, line in after.items():
        if key in declared_keys:
            assert line == (
                naive_book[key],
                0,
                -naive_book[key],
                LOSS if naive_book[key] > 0 else GAIN,
            )
        else:
            assert line == before[key]
