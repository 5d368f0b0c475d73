"""Movement totals by day, month and year, and which of them add up to a range of days.

The posting path keeps, for every physical account, what moved in and out per transaction kind
on each day, in each month and in each year (`movement_totals`, three grains of one table), and
per location × item in each month and year (`item_movement_totals`). A report over any range of
days then sums a few sets of those totals instead of the postings:
whole years as year totals, whole months as month totals, the odd days as day totals — or,
where it reads fewer rows, a larger total less the parts outside the range (a year less two
months, a month less three days). `pieces` plans that; it is pure date arithmetic.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

# The grains, as stored.
DAY, MONTH, YEAR = 1, 2, 3
GRAINS = (DAY, MONTH, YEAR)

# What a set of totals costs to read, in day-sets: how many rows a month's (a year's) totals
# hold against a day's, in the synthetic city of 10 million postings a year (a day's: about
# 10,000; a month's: 119,000 per account, 70,000 per location × item; a year's: 1,006,000 and
# 122,000). Only the choice between plans depends on them.
COST = {DAY: 1, MONTH: 12, YEAR: 100}  # per account
COST_BY_ITEM = {DAY: 1, MONTH: 7, YEAR: 12}  # months and years per location × item


class Piece(NamedTuple):
    """Totals to add (sign 1) or take away (sign -1): those of `grain` whose periods start on
    `first` to `last` (both starts of that grain's periods)."""

    sign: int
    grain: int
    first: dt.date
    last: dt.date


def starts(day: dt.date) -> tuple[tuple[int, dt.date], ...]:
    """The (grain, start) of the day, month and year a day falls in, in that order: the totals
    a movement on that day adds into."""
    return ((DAY, day), (MONTH, day.replace(day=1)), (YEAR, day.replace(month=1, day=1)))


def pieces(first: dt.date, last: dt.date, weights: dict[int, int] = COST) -> list[Piece]:
    """Totals whose signed sum is what moved from `first` to `last` (both included), read at
    the least cost by `weights`; none when `first` is after `last`."""
    if first > last:
        return []
    plan: list[Piece] = []
    year_start, year_end = dt.date(first.year, 1, 1), dt.date(last.year, 12, 31)
    whole_first = first.year if first == year_start else first.year + 1
    whole_last = last.year if last == year_end else last.year - 1
    if whole_first > whole_last:  # no whole year: the range lies within one or two years
        if first.year == last.year:
            return _in_year(first, last, weights)
        return _in_year(first, dt.date(first.year, 12, 31), weights) + _in_year(
            dt.date(last.year, 1, 1), last, weights
        )
    if first.year < whole_first:
        plan += _in_year(first, dt.date(first.year, 12, 31), weights)
    plan.append(Piece(1, YEAR, dt.date(whole_first, 1, 1), dt.date(whole_last, 1, 1)))
    if last.year > whole_last:
        plan += _in_year(dt.date(last.year, 1, 1), last, weights)
    return plan


def cost(plan: list[Piece], weights: dict[int, int] = COST) -> int:
    """What reading a plan costs, in day-sets."""
    return sum(weights[piece.grain] * _count(piece) for piece in plan)


def _count(piece: Piece) -> int:
    if piece.grain == DAY:
        return (piece.last - piece.first).days + 1
    if piece.grain == MONTH:
        return (piece.last.year - piece.first.year) * 12 + piece.last.month - piece.first.month + 1
    return piece.last.year - piece.first.year + 1


def _negated(plan: list[Piece]) -> list[Piece]:
    return [piece._replace(sign=-piece.sign) for piece in plan]


def _in_year(first: dt.date, last: dt.date, weights: dict[int, int]) -> list[Piece]:
    """A range within one year: its months and days, or the year less what lies outside."""
    year_start, year_end = dt.date(first.year, 1, 1), dt.date(first.year, 12, 31)
    if (first, last) == (year_start, year_end):
        return [Piece(1, YEAR, year_start, year_start)]
    direct = _months(first, last, weights)
    outside = _negated(
        _months(year_start, first - dt.timedelta(days=1), weights) if first > year_start else []
    )
    if last < year_end:
        outside += _negated(_months(last + dt.timedelta(days=1), year_end, weights))
    rest = [Piece(1, YEAR, year_start, year_start), *outside]
    return direct if cost(direct, weights) <= cost(rest, weights) else rest


def _months(first: dt.date, last: dt.date, weights: dict[int, int]) -> list[Piece]:
    """A range within one year as whole months (one run) and the odd days at either end."""
    plan: list[Piece] = []
    whole_first = first.month if first.day == 1 else first.month + 1
    whole_last = last.month if last == _month_end(last) else last.month - 1
    if first.month == last.month and whole_first > whole_last:
        return _in_month(first, last, weights)
    if first.month < whole_first:
        plan += _in_month(first, _month_end(first), weights)
    if whole_first <= whole_last:
        plan.append(
            Piece(1, MONTH, dt.date(first.year, whole_first, 1), dt.date(first.year, whole_last, 1))
        )
    if last.month > whole_last:
        plan += _in_month(last.replace(day=1), last, weights)
    return plan


def _in_month(first: dt.date, last: dt.date, weights: dict[int, int]) -> list[Piece]:
    """A range within one month: its days, or the month less the days outside."""
    month_start, month_end = first.replace(day=1), _month_end(first)
    direct = [Piece(1, DAY, first, last)]
    rest = [Piece(1, MONTH, month_start, month_start)]
    if first > month_start:
        rest.append(Piece(-1, DAY, month_start, first - dt.timedelta(days=1)))
    if last < month_end:
        rest.append(Piece(-1, DAY, last + dt.timedelta(days=1), month_end))
    return direct if cost(direct, weights) <= cost(rest, weights) else rest


def _month_end(day: dt.date) -> dt.date:
    following = day.replace(day=28) + dt.timedelta(days=4)
    return following - dt.timedelta(days=following.day)
