"""The sets of day, month and year totals `pieces` plans for a range of days add up to exactly
what moved on those days, and whole months and years are read as one set each."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from ledger.totals import COST, COST_BY_ITEM, DAY, MONTH, YEAR, Piece, cost, pieces, starts

FIRST = dt.date(2023, 1, 1)
DAYS = 4 * 366


def _totals(seed: int) -> dict[tuple[int, dt.date], int]:
    """A random amount moved on each day of four years, and each month's and year's sums."""
    rng = random.Random(seed)
    totals: dict[tuple[int, dt.date], int] = {}
    for offset in range(DAYS):
        day = FIRST + dt.timedelta(days=offset)
        moved = rng.randint(1, 1_000)
        for key in starts(day):
            totals[key] = totals.get(key, 0) + moved
    return totals


def _read(plan: list[Piece], totals: dict[tuple[int, dt.date], int]) -> int:
    """The signed sum of the sets a plan names, as the report's query reads them."""
    return sum(
        piece.sign * quantity
        for piece in plan
        for (grain, start), quantity in totals.items()
        if grain == piece.grain and piece.first <= start <= piece.last
    )


def _moved(first: dt.date, last: dt.date, totals) -> int:
    return sum(q for (grain, day), q in totals.items() if grain == DAY and first <= day <= last)


@pytest.mark.parametrize("weights", [COST, COST_BY_ITEM], ids=["per-account", "per-item"])
def test_any_range_adds_up_to_what_moved_on_its_days(weights):
    totals = _totals(5)
    rng = random.Random(6)
    last_day = FIRST + dt.timedelta(days=DAYS - 1)
    for _ in range(400):
        first = FIRST + dt.timedelta(days=rng.randrange(DAYS))
        last = min(first + dt.timedelta(days=rng.choice((0, 3, 20, 40, 200, 500, 900))), last_day)
        plan = pieces(first, last, weights)
        assert _read(plan, totals) == _moved(first, last, totals), (first, last, plan)
        assert cost(plan, weights) <= (last - first).days + 1  # never more than every day


@pytest.mark.parametrize(
    "first, last, plan",
    [
        (dt.date(2025, 1, 1), dt.date(2025, 12, 31), [(1, YEAR, "2025-01-01", "2025-01-01")]),
        (dt.date(2024, 1, 1), dt.date(2025, 12, 31), [(1, YEAR, "2024-01-01", "2025-01-01")]),
        (dt.date(2025, 3, 1), dt.date(2025, 5, 31), [(1, MONTH, "2025-03-01", "2025-05-01")]),
        (dt.date(2025, 2, 1), dt.date(2025, 2, 28), [(1, MONTH, "2025-02-01", "2025-02-01")]),
        (dt.date(2025, 6, 5), dt.date(2025, 6, 9), [(1, DAY, "2025-06-05", "2025-06-09")]),
        (  # nearly a whole month: the month less one day
            dt.date(2025, 6, 2),
            dt.date(2025, 6, 30),
            [(1, MONTH, "2025-06-01", "2025-06-01"), (-1, DAY, "2025-06-01", "2025-06-01")],
        ),
        (  # nearly a whole year: the year less a month and a day
            dt.date(2025, 1, 1),
            dt.date(2025, 11, 29),
            [
                (1, YEAR, "2025-01-01", "2025-01-01"),
                (-1, DAY, "2025-11-30", "2025-11-30"),
                (-1, MONTH, "2025-12-01", "2025-12-01"),
            ],
        ),
    ],
)
def test_whole_periods_are_read_as_their_own_totals(first, last, plan):
    assert pieces(first, last) == [
        Piece(sign, grain, dt.date.fromisoformat(a), dt.date.fromisoformat(b))
        for sign, grain, a, b in plan
    ]


def test_an_empty_range_reads_nothing():
    assert pieces(dt.date(2025, 3, 2), dt.date(2025, 3, 1)) == []


def test_per_location_and_item_a_year_less_two_months_is_cheaper_than_ten_months():
    """A year's totals per location × item cost less than two months' per account."""
    first, last = dt.date(2025, 1, 1), dt.date(2025, 10, 31)
    assert pieces(first, last) == [Piece(1, MONTH, first, dt.date(2025, 10, 1))]
    assert pieces(first, last, COST_BY_ITEM) == [
        Piece(1, YEAR, first, first),
        Piece(-1, MONTH, dt.date(2025, 11, 1), dt.date(2025, 12, 1)),
    ]
