"""Verification of the movement totals (movement_totals and item_movement_totals,
ledger/totals.py) against the postings, compared by the database: only totals that differ
come out of it.

From genesis, month by month: the day totals against the postings dated in the month, summed
again (through the transactions' date index); each month total against its days, each year
total against its months, and the totals per location × item against those per account. A
level is compared with the level below as the postings make it — the stored rows below plus
whatever differences were found there — so a changed total is named once, not again in every
total that adds it up. Totals whose period does not start where a month or year starts are
named too.

Since a close, as for the balances, what was recorded after it is re-read: the days the
transactions recorded since are dated on have their day totals summed again from all of those
days' postings, and their months and years are checked the same way (against the stored
totals of the days and months nothing recorded since touched, and for the months and years
only at the accounts posted to since: a verification from genesis checks the rest).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import (
    BigInteger,
    Connection,
    and_,
    cast,
    func,
    null,
    or_,
    select,
    union_all,
)

from ledger.db import tables as t
from ledger.db.raw_reads import account_codes, driver_tuples
from ledger.totals import DAY, MONTH, YEAR

Difference = tuple[str, int | None, int | None]  # (total named by codes, expected, found)
# A total's key as compared: (location id, item id, kind, incoming, batch id); the batch is
# ALL_BATCHES for a total per location × item. Deltas: expected less stored, per key.
Key = tuple
ALL_BATCHES = 0
# The totals per location × item are named by their own codes here.
ITEM_MONTH, ITEM_YEAR = 4, 5
NAMES = {DAY: "day", MONTH: "month", YEAR: "year", ITEM_MONTH: "item month", ITEM_YEAR: "item year"}
Found = tuple[int, dt.date, Key, int, int | None]  # (grain, start, key, expected, stored)


def differences(connection: Connection, after: int | None, path: str | None) -> list[Difference]:
    """Every stored total that differs from what the postings say, and every total the postings
    call for that is not stored, at the physical locations under `path` (None: every one): all
    of them, or (`after`, a close's sequence) those of the days, months and years of what was
    recorded after it."""
    check = _Check(connection, path, after)
    if after is None:
        bounds = _bounds(connection)
        if bounds is None:
            return []
        touched = None
        months = _months(*bounds)
        check.misaligned()
    else:
        touched = _days_recorded_after(connection, after)
        months = sorted({_month(day) for day in touched})
    for year in sorted({month.year for month in months}):
        year_start = dt.date(year, 1, 1)
        month_deltas: dict[Key, int] = {}
        for month in (month for month in months if month.year == year):
            days = None if touched is None else sorted(d for d in touched if _month(d) == month)
            deltas = check.days(month, days)
            deltas = check.above(MONTH, month, _month_end(month), deltas)
            check.above(ITEM_MONTH, month, month, _per_item(deltas))
            for key, delta in deltas.items():
                month_deltas[key] = month_deltas.get(key, 0) + delta
        year_deltas = check.above(YEAR, year_start, dt.date(year, 12, 1), month_deltas)
        check.above(ITEM_YEAR, year_start, year_start, _per_item(year_deltas))
    return _named(connection, check.found)


class _Check:
    """The comparisons, each one query, and what they found."""

    def __init__(self, connection: Connection, path: str | None, after: int | None) -> None:
        self.connection = connection
        self.path = path
        self.after = after  # since a close: its sequence (months and years: accounts moved since)
        self.found: list[Found] = []

    def _scoped(self, table, *conditions):
        """`conditions` at the locations under the path."""
        if self.path is None:
            return and_(*conditions)
        loc = t.locations.c
        under = select(loc.id).where(
            loc.physical.is_(True), loc.path.startswith(self.path, autoescape=True)
        )
        return and_(*conditions, table.c.location_id.in_(under))

    def _moved_since(self, queries: list, tables: list, per_item: bool) -> list:
        """`queries` (each of its table), since a close only at the accounts (`per_item`:
        locations × items) posted to after it: joined to them, read once for all (as
        closes.balances_to_check reads them)."""
        if self.after is None:
            return queries
        p = t.postings.c
        columns = ["location_id", "item_id"] + ([] if per_item else ["batch_id"])
        posted = (
            select(*(p[name] for name in columns))
            .where(p.transaction_id > self.after)
            .cte("posted_since")
            .prefix_with("MATERIALIZED")
        )
        moved = select(posted).distinct().subquery("moved_since")
        return [
            query.join(moved, and_(*(moved.c[name] == table.c[name] for name in columns)))
            for query, table in zip(queries, tables, strict=True)
        ]

    def days(self, month: dt.date, days: list[dt.date] | None) -> dict[Key, int]:
        """The day totals of `month` (of `days` in it) against its postings; the deltas."""
        p, tx, loc, m = t.postings.c, t.transactions.c, t.locations.c, t.movement_totals.c
        ranges = [(month, _month_end(month))] if days is None else [(d, d) for d in days]
        posted = (
            select(
                tx.occurred_on.label("start"),
                p.location_id,
                p.item_id,
                tx.kind,
                (p.quantity > 0).label("incoming"),
                p.batch_id,
                func.abs(p.quantity).label("low"),
                cast(null(), BigInteger).label("up"),
            )
            .select_from(t.transactions)
            .join(t.postings, p.transaction_id == tx.id)
        )
        posted = posted.join(t.locations, loc.id == p.location_id).where(
            or_(*(tx.occurred_on.between(first, last) for first, last in ranges)),
            loc.physical.is_(True),
            *([loc.path.startswith(self.path, autoescape=True)] if self.path else []),
        )
        stored = select(
            m.starts_on,
            m.location_id,
            m.item_id,
            m.kind,
            m.incoming,
            m.batch_id,
            cast(null(), BigInteger),
            m.quantity,
        ).where(
            self._scoped(
                t.movement_totals,
                m.grain == DAY,
                or_(*(m.starts_on.between(first, last) for first, last in ranges)),
            )
        )
        deltas: dict[Key, int] = {}
        for start, *key, low, up in self._mismatched(posted, stored, with_start=True):
            self.found.append((DAY, _day(start), _key(key), int(low or 0), up))
            deltas[_key(key)] = deltas.get(_key(key), 0) + int(low or 0) - int(up or 0)
        return deltas

    def above(
        self, grain: int, first: dt.date, last: dt.date, deltas: dict[Key, int]
    ) -> dict[Key, int]:
        """The totals of `grain` starting on `first` against the level below, from `first` to
        `last` (its starts), as stored plus `deltas`; the deltas of this level."""
        per_item = grain in (ITEM_MONTH, ITEM_YEAR)
        below_grain = {MONTH: DAY, YEAR: MONTH, ITEM_MONTH: MONTH, ITEM_YEAR: YEAR}[grain]
        m = t.movement_totals.c
        upper_table = t.item_movement_totals if per_item else t.movement_totals
        u = upper_table.c
        batch_below = cast(ALL_BATCHES, BigInteger) if per_item else m.batch_id
        batch_upper = cast(ALL_BATCHES, BigInteger) if per_item else u.batch_id
        below = select(
            m.location_id,
            m.item_id,
            m.kind,
            m.incoming,
            batch_below.label("batch_id"),
            m.quantity.label("low"),
            cast(null(), BigInteger).label("up"),
        ).select_from(t.movement_totals)
        stored_grain = {ITEM_MONTH: MONTH, ITEM_YEAR: YEAR}.get(grain, grain)
        upper = select(
            u.location_id,
            u.item_id,
            u.kind,
            u.incoming,
            batch_upper,
            cast(null(), BigInteger),
            u.quantity,
        ).select_from(upper_table)
        below, upper = self._moved_since([below, upper], [t.movement_totals, upper_table], per_item)
        # Since a close, the starts listed: joined to the accounts moved since, SQLite planned
        # a BETWEEN as a scan of the whole range per account (10M: --since-close never ended)
        starts = (
            m.starts_on.between(first, last)
            if self.after is None
            else m.starts_on.in_(_starts(below_grain, first, last))
        )
        below = below.where(self._scoped(t.movement_totals, m.grain == below_grain, starts))
        upper = upper.where(
            self._scoped(upper_table, u.grain == stored_grain, u.starts_on == first)
        )
        mismatched = {
            _key(key): (int(low or 0), up) for *key, low, up in self._mismatched(below, upper)
        }
        for key in deltas.keys() - mismatched.keys():  # not read: read alone
            low = self._stored(t.movement_totals, below_grain, (first, last), key, per_item)
            mismatched[key] = (low or 0, self._stored(upper_table, stored_grain, first, key))
        found: dict[Key, int] = {}
        for key, (low, up) in mismatched.items():
            expected = low + deltas.get(key, 0)
            if expected != (up or 0):
                self.found.append((grain, first, key, expected, up))
                found[key] = expected - (up or 0)
        return found

    def _mismatched(self, low, up, with_start: bool = False) -> list[tuple]:
        """Rows of `low` and `up` (key columns, then `low` and `up` quantities) summed per key:
        the keys whose sums differ (a missing side is none)."""
        both = union_all(low, up).subquery()
        keys = list(both.c)[:-2]
        low_sum, up_sum = func.sum(both.c.low), func.sum(both.c.up)
        return driver_tuples(
            self.connection,
            select(*keys, low_sum, up_sum)
            .group_by(*keys)
            .having(func.coalesce(low_sum, -1) != func.coalesce(up_sum, -1)),
        )

    def _stored(self, table, grain, starts, key: Key, all_batches: bool = False) -> int | None:
        """The stored total of one key (`starts`: a start, or (first, last) to add up; with
        `all_batches`, those of every batch of its location × item)."""
        c = table.c
        location, item, kind, incoming, batch = key
        first, last = starts if isinstance(starts, tuple) else (starts, starts)
        conditions = [c.grain == grain, c.starts_on.between(first, last), c.location_id == location]
        conditions += [c.item_id == item, c.kind == kind, c.incoming.is_(incoming)]
        if table is t.movement_totals and not all_batches:
            conditions.append(c.batch_id == batch)
        found = self.connection.execute(select(func.sum(c.quantity)).where(*conditions)).scalar()
        return None if found is None else int(found)

    def misaligned(self) -> None:
        """Month and year totals whose period does not start on the 1st (of January)."""
        for table in (t.movement_totals, t.item_movement_totals):
            c = table.c
            starts = self.connection.execute(
                select(c.grain, c.starts_on)
                .where(self._scoped(table, c.grain.in_((MONTH, YEAR))))
                .distinct()
            )
            for grain, start in starts:
                start = _day(start)
                if start.day != 1 or (grain == YEAR and start.month != 1):
                    rows = self.connection.execute(
                        select(c.location_id, c.item_id, c.kind, c.incoming, c.quantity)
                        .add_columns(
                            c.batch_id
                            if table is t.movement_totals
                            else cast(ALL_BATCHES, BigInteger)
                        )
                        .where(self._scoped(table, c.grain == grain, c.starts_on == start))
                    )
                    shown = grain if table is t.movement_totals else grain + 2
                    for location, item, kind, incoming, quantity, batch in rows:
                        self.found.append(
                            (
                                shown,
                                start,
                                _key((location, item, kind, incoming, batch)),
                                0,
                                quantity,
                            )
                        )


def _per_item(deltas: dict[Key, int]) -> dict[Key, int]:
    summed: dict[Key, int] = {}
    for key, delta in deltas.items():
        item_key = (*key[:4], ALL_BATCHES)
        summed[item_key] = summed.get(item_key, 0) + delta
    return {key: delta for key, delta in summed.items() if delta}


def _key(columns: Iterable) -> Key:
    """A key as compared: its direction a bool, whatever the driver gave."""
    location, item, kind, incoming, batch = columns
    return (location, item, kind, bool(incoming), batch)


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = _month_end(month) + dt.timedelta(days=1)
    return months


def _starts(grain: int, first: dt.date, last: dt.date) -> list[dt.date]:
    """Where totals of `grain` may start from `first` to `last`: each day, or each month's
    (a year's) first day."""
    if grain == DAY:
        return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    return _months(first, last)


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _month_end(day: dt.date) -> dt.date:
    following = day.replace(day=28) + dt.timedelta(days=4)
    return following - dt.timedelta(days=following.day)


def _days_recorded_after(connection: Connection, sequence: int) -> set[dt.date]:
    """The days the transactions recorded after `sequence` are dated on."""
    tx = t.transactions.c
    rows = connection.execute(select(tx.occurred_on).where(tx.id > sequence).distinct())
    return {_day(day) for (day,) in rows}


def _bounds(connection: Connection) -> tuple[dt.date, dt.date] | None:
    """The first and last day anything was posted or totalled."""
    tx, m = t.transactions.c, t.movement_totals.c
    days = [
        _day(value)
        for value in (
            *connection.execute(select(func.min(tx.occurred_on), func.max(tx.occurred_on))).one(),
            *connection.execute(select(func.min(m.starts_on), func.max(m.starts_on))).one(),
        )
        if value is not None
    ]
    return (min(days), max(days)) if days else None


def _named(connection: Connection, found: list[Found]) -> list[Difference]:
    if not found:
        return []
    locations, batches = account_codes(connection)
    items = dict(connection.execute(select(t.items.c.id, t.items.c.code)).all())
    named = []
    for grain, start, (location, item, kind, incoming, batch), expected, stored in found:
        account = f"{locations.get(location, f'#{location}')}/{items.get(item, f'#{item}')}"
        if grain not in (ITEM_MONTH, ITEM_YEAR):
            account += "/" + (batches[batch][1] if batch in batches else f"#{batch}")
        direction = "in" if incoming else "out"
        subject = f"{NAMES[grain]} {start.isoformat()} {account} {kind} {direction}"
        named.append((subject, expected or None, None if stored is None else int(stored)))
    return named


def _day(value) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value
