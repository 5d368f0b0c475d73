"""Verification of the movement totals (movement_totals, ledger/totals.py) against the postings,
read month by month so that nothing larger than a month's day totals and a year's totals is
held at once.

For each month: its day totals are summed again from the postings dated in it (through the
transactions' date index, by the database) and compared with the stored day totals; the month's
total is those recomputed days added up, compared with the stored month total; each year's
total is its recomputed months added up. Nothing stored is trusted for what another row is
compared with — except, verifying since a close, the stored month totals of the months before
the first one re-read, which a verification from genesis checks.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, func, select

from ledger.db import tables as t
from ledger.db.raw_reads import account_codes, driver_tuples
from ledger.totals import DAY, MONTH, YEAR

Difference = tuple[str, int | None, int | None]  # (total named by codes, expected, found)
# A total's key as read: (start, location id, item id, kind, incoming, batch id); its start is
# left out of month and year keys once they are gathered per period.
GRAIN_NAMES = {DAY: "day", MONTH: "month", YEAR: "year"}


def differences(
    connection: Connection, since: dt.date | None, path: str | None
) -> list[Difference]:
    """Every stored total that differs from what the postings say, and every total the postings
    call for that is not stored, at the physical locations under `path` (None: every one), from
    the month of the day after `since` on (None: from the first)."""
    bounds = _bounds(connection)
    if bounds is None:
        return []
    first, last = bounds
    if since is not None:
        first = max(first, since + dt.timedelta(days=1))
    found: list[tuple[int, tuple, int | None, int | None]] = []
    month = first.replace(day=1)
    year_expected = _stored_months_before(connection, month, path)
    while month <= last:
        following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        month_end = following - dt.timedelta(days=1)
        days = _day_totals(connection, month, month_end, path)
        found += _compare(DAY, days, _stored(connection, DAY, month, month_end, path))
        month_total = _collapsed(days, month)
        found += _compare(MONTH, month_total, _stored(connection, MONTH, month, month_end, path))
        year_start = month.replace(month=1)
        for key, quantity in month_total.items():
            year_key = (year_start, *key[1:])
            year_expected[year_key] = year_expected.get(year_key, 0) + quantity
        if following.year != month.year or following > last:
            year_end = dt.date(month.year, 12, 31)
            stored = _stored(connection, YEAR, year_start, year_end, path)
            found += _compare(YEAR, year_expected, stored)
            year_expected = {}
        month = following
    return _named(connection, found)


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


def _under(path: str | None) -> list:
    loc = t.locations.c
    physical = [loc.physical.is_(True)]
    return physical if path is None else [*physical, loc.path.startswith(path, autoescape=True)]


def _day_totals(connection: Connection, first: dt.date, last: dt.date, path: str | None) -> dict:
    """The day totals the postings dated `first` to `last` call for."""
    p, tx, loc = t.postings.c, t.transactions.c, t.locations.c
    key = [tx.occurred_on, p.location_id, p.item_id, tx.kind, p.quantity > 0, p.batch_id]
    rows = driver_tuples(
        connection,
        select(*key, func.sum(func.abs(p.quantity)))
        .select_from(t.transactions)
        .join(t.postings, p.transaction_id == tx.id)
        .join(t.locations, loc.id == p.location_id)
        .where(tx.occurred_on >= first, tx.occurred_on <= last, *_under(path))
        .group_by(*key),
    )
    return {_key(row): int(row[-1]) for row in rows}


def _stored(connection: Connection, grain: int, first: dt.date, last: dt.date, path) -> dict:
    """The stored totals of `grain` starting from `first` to `last`."""
    m, loc = t.movement_totals.c, t.locations.c
    query = select(
        m.starts_on, m.location_id, m.item_id, m.kind, m.incoming, m.batch_id, m.quantity
    )
    query = query.where(m.grain == grain, m.starts_on >= first, m.starts_on <= last)
    if path is not None:
        query = query.where(m.location_id.in_(select(loc.id).where(*_under(path))))
    return {_key(row): int(row[-1]) for row in driver_tuples(connection, query)}


def _stored_months_before(connection: Connection, month: dt.date, path: str | None) -> dict:
    """The stored month totals of `month`'s year before it, as year keys: what a verification
    since a close adds the months it re-reads to."""
    if month.month == 1:
        return {}
    year_start = month.replace(month=1)
    months = _stored(connection, MONTH, year_start, month - dt.timedelta(days=1), path)
    return _collapsed(months, year_start)


def _key(row) -> tuple:
    """A total's key as compared: its start as a date and its direction as a bool, whatever
    the driver gave."""
    return (_day(row[0]), row[1], row[2], row[3], bool(row[4]), row[5])


def _collapsed(totals: dict, start: dt.date) -> dict:
    """Totals of shorter periods added up into one starting on `start`."""
    summed: dict = {}
    for key, quantity in totals.items():
        wider = (start, *key[1:])
        summed[wider] = summed.get(wider, 0) + quantity
    return summed


def _compare(
    grain: int, expected: dict, stored: dict
) -> list[tuple[int, tuple, int | None, int | None]]:
    if expected == stored:  # the usual case, compared at C speed
        return []
    return [
        (grain, key, expected.get(key), stored.get(key))
        for key in sorted(set(expected) | set(stored), key=str)
        if expected.get(key) != stored.get(key)
    ]


def _named(connection: Connection, found: list) -> list[Difference]:
    if not found:
        return []
    locations, batches = account_codes(connection)
    items = dict(connection.execute(select(t.items.c.id, t.items.c.code)).all())
    named = []
    for grain, (start, location, item, kind, incoming, batch), expected, stored in found:
        number = batches[batch][1] if batch in batches else f"#{batch}"
        place = locations.get(location, f"#{location}")
        subject = (
            f"{GRAIN_NAMES[grain]} {start.isoformat()} "
            f"{place}/{items.get(item, f'#{item}')}/{number} "
            f"{kind} {'in' if incoming else 'out'}"
        )
        named.append((subject, expected, stored))
    return named


def _day(value) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value
