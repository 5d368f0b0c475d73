"""Movement totals by day, month and year, and which of them add up to a range of days.

The posting path keeps, for every physical account, what moved in and out per transaction kind
on each day, in each month and in each year (`movement_totals`, three grains of one table). A
report over any range of days then sums a few sets of those totals instead of the postings:
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

# What a set of totals costs to read, in day-sets: roughly how many rows a month's (a year's)
# totals hold against a day's in a year-long ledger of a city (the same account moves on many
# days of a month, in many months of a year). Only the choice between plans depends on them.
COST = {DAY: 1, MONTH: 15, YEAR: 80}


class Piece(NamedTuple):
    """Totals to add (sign 1) or take away (sign -1): those of `grain` whose periods start on
    `first` to `last` (both starts of that grain's periods)."""

    sign: int
    grain: int
    first: dt.date
    last: dt.date


def starts(day: dt.date) -> tuple[tuple[int, dt.date], ...]:
    """The (grain, start) of the day, month and year a day falls in: the totals a movement on
    that day adds into."""
    return ((DAY, day), (MONTH, day.replace(day=1)), (YEAR, day.replace(month=1, day=1)))


def pieces(first: dt.date, last: dt.date) -> list[Piece]:
    """Totals whose signed sum is what moved from `first` to `last` (both included); none when
    `first` is after `last`."""
    if first > last:
        return []
    plan: list[Piece] = []
    year_start, year_end = dt.date(first.year, 1, 1), dt.date(last.year, 12, 31)
    whole_first = first.year if first == year_start else first.year + 1
    whole_last = last.year if last == year_end else last.year - 1
    if whole_first > whole_last:  # no whole year: the range lies within one or two years
        if first.year == last.year:
            return _in_year(first, last)
        return _in_year(first, dt.date(first.year, 12, 31)) + _in_year(
            dt.date(last.year, 1, 1), last
        )
    if first.year < whole_first:
        plan += _in_year(first, dt.date(first.year, 12, 31))
    plan.append(Piece(1, YEAR, dt.date(whole_first, 1, 1), dt.date(whole_last, 1, 1)))
    if last.year > whole_last:
        plan += _in_year(dt.date(last.year, 1, 1), last)
    return plan


def cost(plan: list[Piece]) -> int:
    """What reading a plan costs, in day-sets."""
    return sum(COST[piece.grain] * _count(piece) for piece in plan)


def _count(piece: Piece) -> int:
    if piece.grain == DAY:
        return (piece.last - piece.first).days + 1
    if piece.grain == MONTH:
        return (piece.last.year - piece.first.year) * 12 + piece.last.month - piece.first.month + 1
    return piece.last.year - piece.first.year + 1


def _negated(plan: list[Piece]) -> list[Piece]:
    return [piece._replace(sign=-piece.sign) for piece in plan]


def _in_year(first: dt.date, last: dt.date) -> list[Piece]:
    """A range within one year: its months and days, or the year less what lies outside."""
    year_start, year_end = dt.date(first.year, 1, 1), dt.date(first.year, 12, 31)
    if (first, last) == (year_start, year_end):
        return [Piece(1, YEAR, year_start, year_start)]
    direct = _months(first, last)
    outside = _negated(
        _months(year_start, first - dt.timedelta(days=1)) if first > year_start else []
    )
    if last < year_end:
        outside += _negated(_months(last + dt.timedelta(days=1), year_end))
    rest = [Piece(1, YEAR, year_start, year_start), *outside]
    return direct if cost(direct) <= cost(rest) else rest


def _months(first: dt.date, last: dt.date) -> list[Piece]:
    """A range within one year as whole months (one run) and the odd days at either end."""
    plan: list[Piece] = []
    whole_first = first.month if first.day == 1 else first.month + 1
    whole_last = last.month if last == _month_end(last) else last.month - 1
    if first.month == last.month and whole_first > whole_last:
        return _in_month(first, last)
    if first.month < whole_first:
        plan += _in_month(first, _month_end(first))
    if whole_first <= whole_last:
        plan.append(
            Piece(1, MONTH, dt.date(first.year, whole_first, 1), dt.date(first.year, whole_last, 1))
        )
    if last.month > whole_last:
        plan += _in_month(last.replace(day=1), last)
    return plan


def _in_month(first: dt.date, last: dt.date) -> list[Piece]:
    """A range within one month: its days, or the month less the days outside."""
    month_start, month_end = first.replace(day=1), _month_end(first)
    direct = [Piece(1, DAY, first, last)]
    rest = [Piece(1, MONTH, month_start, month_start)]
    if first > month_start:
        rest.append(Piece(-1, DAY, month_start, first - dt.timedelta(days=1)))
    if last < month_end:
        rest.append(Piece(-1, DAY, last + dt.timedelta(days=1), month_end))
    return direct if cost(direct) <= cost(rest) else rest


def _month_end(day: dt.date) -> dt.date:
    following = day.replace(day=28) + dt.timedelta(days=4)
    return following - dt.timedelta(days=following.day)
