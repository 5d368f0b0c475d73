"""The movement totals repository: what the journal posts at physical accounts, added into the
day, month and year totals (ledger/totals.py) of the same database transaction, and into the
month and year totals per location × item (item_movement_totals).

The journal tells it of every transaction (`add`); it sums in memory per total and `flush`
upserts each total once (INSERT … ON CONFLICT DO UPDATE, on SQLite and PostgreSQL alike), in
key order. A total is a function of one account, whose balance row the posting path has already
locked (FOR UPDATE on PostgreSQL): two writers adding to one total are already queued on that
account, so the totals add no lock of their own to wait in a cycle for; the key order keeps it
so for new rows too.

`rebuild` computes every total from the postings at once (the bulk loader, on the ledger it
loaded; the migrations that added the tables do the same).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ledger.db.session import Session
from ledger.posting import Leg
from ledger.totals import starts

UPSERT = (
    "INSERT INTO movement_totals (grain, starts_on, location_id, item_id, kind, incoming, "
    "batch_id, quantity) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (grain, starts_on, location_id, item_id, kind, incoming, batch_id) "
    "DO UPDATE SET quantity = movement_totals.quantity + excluded.quantity"
)
ITEM_UPSERT = (
    "INSERT INTO item_movement_totals (grain, starts_on, location_id, item_id, kind, incoming, "
    "quantity) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (grain, starts_on, location_id, item_id, kind, incoming) "
    "DO UPDATE SET quantity = item_movement_totals.quantity + excluded.quantity"
)

# A total's key as buffered, in the upsert's column order: (grain, start as written, location
# id, item id, kind, incoming, batch id); a location × item total's without the batch.
Key = tuple[int, object, int, int, str, bool, int]
ItemKey = tuple[int, object, int, int, str, bool]


class MovementTotals:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.added: dict[Key, int] = {}
        self.item_added: dict[ItemKey, int] = {}

    def add(self, kind: str, day: dt.date, legs: Sequence[Leg]) -> None:
        """A transaction's legs at physical locations, added into their day's, month's and
        year's totals."""
        added = self.added
        periods = None
        for leg in legs:
            if not leg.physical:
                continue
            if periods is None:  # the starts as written (ISO text on SQLite): once a transaction
                write_date = self.session.write_date
                periods = [(grain, write_date(start)) for grain, start in starts(day)]
            quantity = leg.quantity
            location_id, item_id, batch_id = leg.key
            incoming = quantity > 0
            size = quantity if incoming else -quantity
            for grain, start in periods:
                key = (grain, start, location_id, item_id, kind, incoming, batch_id)
                added[key] = added.get(key, 0) + size
            item_added = self.item_added
            for grain, start in periods[1:]:  # the month and the year
                item_key = (grain, start, location_id, item_id, kind, incoming)
                item_added[item_key] = item_added.get(item_key, 0) + size

    def flush(self) -> None:
        if not self.added:
            return
        rows = [(*key, quantity) for key, quantity in sorted(self.added.items())]
        item_rows = [(*key, quantity) for key, quantity in sorted(self.item_added.items())]
        self.added, self.item_added = {}, {}
        self.session.run_many(UPSERT, rows)
        self.session.run_many(ITEM_UPSERT, item_rows)


def rebuild(session: Session) -> None:
    """Every total computed from the postings, into empty tables: the day totals grouped from
    the postings at physical locations, each month's from its days, each year's from its
    months, and those per location × item from those per account."""
    run = session.run
    run(
        "INSERT INTO movement_totals (grain, starts_on, location_id, item_id, kind, incoming, "
        "batch_id, quantity) "
        "SELECT 1, t.occurred_on, p.location_id, p.item_id, t.kind, p.quantity > 0, "
        "p.batch_id, SUM(ABS(p.quantity)) "
        "FROM postings p JOIN transactions t ON t.id = p.transaction_id "
        "JOIN locations l ON l.id = p.location_id WHERE l.physical "
        "GROUP BY t.occurred_on, p.location_id, p.item_id, t.kind, p.quantity > 0, p.batch_id"
    )
    for grain, within, start in ((2, 1, "month"), (3, 2, "year")):
        period = _period_start(session, start)
        run(
            "INSERT INTO movement_totals (grain, starts_on, location_id, item_id, kind, "
            f"incoming, batch_id, quantity) SELECT {grain}, {period}, location_id, item_id, "
            "kind, incoming, batch_id, SUM(quantity) FROM movement_totals "
            f"WHERE grain = {within} "
            f"GROUP BY {period}, location_id, item_id, kind, incoming, batch_id"
        )
    run(
        "INSERT INTO item_movement_totals (grain, starts_on, location_id, item_id, kind, "
        "incoming, quantity) SELECT grain, starts_on, location_id, item_id, kind, incoming, "
        "SUM(quantity) FROM movement_totals WHERE grain IN (2, 3) "
        "GROUP BY grain, starts_on, location_id, item_id, kind, incoming"
    )


def _period_start(session: Session, period: str) -> str:
    """SQL for the first day of the month or year of `starts_on`."""
    if session.as_text:  # SQLite keeps dates as ISO text
        return (
            "substr(starts_on, 1, 8) || '01'"
            if period == "month"
            else ("substr(starts_on, 1, 5) || '01-01'")
        )
    return f"CAST(date_trunc('{period}', starts_on) AS DATE)"
