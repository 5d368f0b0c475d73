"""What 月结 may close next, for a form to offer: the months that have ended (a close of a
period not yet over is refused, `period_not_ended`), after the root's last close (a period
already closed is refused, `period_closed`), and not before the ledger's first movement (a
close of months with nothing in them says nothing). `close_period` stays the judge: this only
keeps the form from offering what it would refuse or what makes no sense to close."""

from __future__ import annotations

import datetime as dt

from ledger.db import report_queries
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database
from ledger.services.audit import root_to_close


def month_ends(
    first: dt.date | None, closed_through: dt.date | None, today: dt.date
) -> list[dt.date]:
    """The ends of the months from the month of `first` (the first movement; None: there is
    none, so nothing to close) and after `closed_through`, that ended before `today`; newest
    first."""
    if first is None:
        return []
    start = first if closed_through is None else max(first, closed_through + dt.timedelta(1))
    year, month = start.year, start.month
    found = []
    while True:
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        end = following - dt.timedelta(days=1)
        if end >= today:
            break
        found.append(end)
        year, month = following.year, following.month
    found.reverse()
    return found


def months_to_close(database: Database, root_code: str | None, today: dt.date) -> list[dt.date]:
    """The month-ends the root `root_code` (None: the ledger's only root; refused as
    `close_period` refuses it when that names none) may be closed through, newest first."""

    def work(store: LedgerStore) -> list[dt.date]:
        root = root_to_close(store.connection, root_code, "月结")
        closed = store.closed_through(store.location(root.code))
        return month_ends(report_queries.first_day(store.connection), closed, today)

    return database.lookup(work)
