"""Verification of the movement totals (movement_totals and item_movement_totals,
ledger/totals.py) against the postings, read month by month so that nothing larger than a
month's day totals and a year's totals is held at once.

From genesis, for each month: its day totals are summed again from the postings dated in it
(through the transactions' date index, by the database) and compared with the stored day
totals; the month's total is those recomputed days added up, compared with the stored month
total; each year's total is its recomputed months added up; the month and year totals per
location × item are those added up over batches. Nothing stored is trusted for what another
row is compared with.

Since a close, as for the balances, what was recorded after it is re-read: the days the
transactions recorded since are dated on have their day totals summed again from all of those
days' postings, and their months and years are checked the same way, starting from the stored
totals of the days and months nothing recorded since touched (a verification from genesis
checks those).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, func, literal, or_, select

from ledger.db import tables as t
from ledger.db.raw_reads import account_codes, driver_tuples
from ledger.totals import DAY, MONTH, YEAR

Difference = tuple[str, int | None, int | None]  # (total named by codes, expected, found)
# A total's key as compared: (start, location id, item id, kind, incoming, batch id).
# The totals per location × item (item_movement_totals) are named by their own codes here.
ITEM_MONTH, ITEM_YEAR = 4, 5
GRAIN_NAMES = {DAY: "day", MONTH: "month", YEAR: "year", ITEM_MONTH: "item month"}
GRAIN_NAMES[ITEM_YEAR] = "item year"
ALL_BATCHES = 0  # the batch of a total per location × item, as compared


def differences(connection: Connection, after: int | None, path: str | None) -> list[Difference]:
    """Every stored total that differs from what the postings say, and every total the postings
    call for that is not stored, at the physical locations under `path` (None: every one): all
    of them, or (`after`, a close's sequence) those of the days, months and years of what was
    recorded after it."""
    if after is None:
        bounds = _bounds(connection)
        if bounds is None:
            return []
        touched = None
        months = _months(*bounds)
    else:
        touched = _days_recorded_after(connection, after)
        months = sorted({day.replace(day=1) for day in touched})
    found: list[tuple[int, tuple, int | None, int | None]] = []
    for year in sorted({month.year for month in months}):
        year_start = dt.date(year, 1, 1)
        year_expected: dict = {}
        checked = [month for month in months if month.year == year]
        if touched is not None:  # the months nothing recorded since touched: as stored
            stored = _stored(connection, MONTH, year_start, dt.date(year, 12, 31), path)
            year_expected = _collapsed(
                {key: q for key, q in stored.items() if key[0] not in checked}, year_start
            )
        for month in checked:
            month_total, month_found = _check_month(connection, month, touched, path)
            found += month_found
            for key, quantity in _collapsed(month_total, year_start).items():
                year_expected[key] = year_expected.get(key, 0) + quantity
        year_end = dt.date(year, 12, 31)
        found += _compare(
            YEAR, year_expected, _stored(connection, YEAR, year_start, year_end, path)
        )
        per_item = _stored(connection, YEAR, year_start, year_end, path, per_item=True)
        found += _compare(ITEM_YEAR, _per_item(year_expected), per_item)
    return _named(connection, found)


def _check_month(
    connection: Connection, month: dt.date, touched: set[dt.date] | None, path: str | None
) -> tuple[dict, list]:
    """A month's day totals and month total against the postings (only the `touched` days
    recomputed, the others as stored): (its day totals as expected, what differs)."""
    month_end = _month_end(month)
    stored_days = _stored(connection, DAY, month, month_end, path)
    if touched is None:
        expected = _day_totals(connection, [(month, month_end)], path)
    else:
        days = sorted(day for day in touched if month <= day <= month_end)
        expected = {key: q for key, q in stored_days.items() if key[0] not in touched}
        expected.update(_day_totals(connection, [(day, day) for day in days], path))
    found = _compare(DAY, expected, stored_days)
    month_total = _collapsed(expected, month)
    found += _compare(MONTH, month_total, _stored(connection, MONTH, month, month_end, path))
    per_item = _stored(connection, MONTH, month, month_end, path, per_item=True)
    found += _compare(ITEM_MONTH, _per_item(month_total), per_item)
    return expected, found


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = _month_end(month) + dt.timedelta(days=1)
    return months


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


def _under(path: str | None) -> list:
    loc = t.locations.c
    physical = [loc.physical.is_(True)]
    return physical if path is None else [*physical, loc.path.startswith(path, autoescape=True)]


def _day_totals(connection: Connection, ranges: list[tuple[dt.date, dt.date]], path) -> dict:
    """The day totals the postings dated in `ranges` (first, last) call for."""
    if not ranges:
        return {}
    p, tx, loc = t.postings.c, t.transactions.c, t.locations.c
    key = [tx.occurred_on, p.location_id, p.item_id, tx.kind, p.quantity > 0, p.batch_id]
    dated = [(tx.occurred_on >= first) & (tx.occurred_on <= last) for first, last in ranges]
    rows = driver_tuples(
        connection,
        select(*key, func.sum(func.abs(p.quantity)))
        .select_from(t.transactions)
        .join(t.postings, p.transaction_id == tx.id)
        .join(t.locations, loc.id == p.location_id)
        .where(or_(*dated), *_under(path))
        .group_by(*key),
    )
    return {_key(row): int(row[-1]) for row in rows}


def _stored(
    connection: Connection, grain: int, first: dt.date, last: dt.date, path, per_item=False
) -> dict:
    """The stored totals of `grain` starting from `first` to `last` (`per_item`: those per
    location × item, under the batch ALL_BATCHES)."""
    m, loc = (t.item_movement_totals if per_item else t.movement_totals).c, t.locations.c
    batch = literal(ALL_BATCHES) if per_item else m.batch_id
    query = select(m.starts_on, m.location_id, m.item_id, m.kind, m.incoming, batch, m.quantity)
    query = query.where(m.grain == grain, m.starts_on >= first, m.starts_on <= last)
    if path is not None:
        query = query.where(m.location_id.in_(select(loc.id).where(*_under(path))))
    return {_key(row): int(row[-1]) for row in driver_tuples(connection, query)}


def _key(row) -> tuple:
    """A total's key as compared: its start as a date and its direction as a bool, whatever
    the driver gave."""
    return (_day(row[0]), row[1], row[2], row[3], bool(row[4]), row[5])


def _per_item(totals: dict) -> dict:
    """Totals per account added up per location × item."""
    summed: dict = {}
    for key, quantity in totals.items():
        item_key = (*key[:5], ALL_BATCHES)
        summed[item_key] = summed.get(item_key, 0) + quantity
    return summed


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
        account = f"{locations.get(location, f'#{location}')}/{items.get(item, f'#{item}')}"
        if grain not in (ITEM_MONTH, ITEM_YEAR):
            account += "/" + (batches[batch][1] if batch in batches else f"#{batch}")
        subject = (
            f"{GRAIN_NAMES[grain]} {start.isoformat()} {account} "
            f"{kind} {'in' if incoming else 'out'}"
        )
        named.append((subject, expected, stored))
    return named


def _day(value) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value
