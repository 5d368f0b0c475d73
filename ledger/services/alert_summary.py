"""The home page's 库存预警 of a subtree: how many places hold less than their minimum (补货) or
more than their maximum (积压), and the most urgent few, kept between readings.

The alerts are `suggestions.stock_alerts`, the 库存预警表's own figures, and computing them for a
city reads a year of its movement (seconds). They change only when a transaction touches the
subtree (a posting at one of its places, a shipment to one, a reversal), when a norm or a
最低库存 is set, with the reference data, the day or the AMC window — and the suggested
quantities shown beside them when a request of a place of the subtree changes (submitted,
approved, rejected, cancelled, closed: what it has on order). So the summary is kept
(`kept.kept`: per database, read in one snapshot against the chain head) under the key (place,
day, window, newest norm and minimum setting, newest event of the subtree's requests); brought forward to a later head it stays as it
is while the transactions since touched nothing under the place, and is computed afresh
otherwise. Every worker process keeps its own and checks it against the database on each
reading, so none shows another's stale figures.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import NamedTuple

from sqlalchemy import Connection

from ledger import norms as n
from ledger.db import alert_queries
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database
from ledger.services import suggestions
from ledger.services.kept import kept
from ledger.services.suggestions import Position

ALERT_LINES_SHOWN = 8


class AlertSummary(NamedTuple):
    """below / above: how many (place, item) lines are 补货 / 积压; lines: the first
    `ALERT_LINES_SHOWN` by `urgency`."""

    below: int
    above: int
    lines: tuple[Position, ...]


def urgency(position: Position) -> tuple:
    """补货 first, the emptiest (position ÷ minimum) first; then 积压, the most months of
    stock first (stock with no consumption at all before any)."""
    s = position.suggestion
    if s.alert is n.AlertKind.below_minimum:
        return (0, 0, Fraction(s.position, s.minimum or 1))
    months = s.months_of_stock
    return (1, 0, 0) if months is None else (1, 1, -months)


def summarize(found: list[Position], shown: int = ALERT_LINES_SHOWN) -> AlertSummary:
    """The counts of `found` (alerts) and its `shown` most urgent lines."""
    below = sum(1 for p in found if p.suggestion.alert is n.AlertKind.below_minimum)
    lines = tuple(sorted(found, key=urgency)[:shown])
    return AlertSummary(below, len(found) - below, lines)


def alert_summary(database: Database, under: str, today: dt.date, months: int) -> AlertSummary:
    """The alerts of `under`'s subtree on `today` over the AMC window of `months`, kept."""
    with database.read() as connection:
        path = LedgerStore(connection, database.catalog).location(under, "under").path
        mark = (
            alert_queries.settings_mark(connection),
            alert_queries.requests_mark(connection, path),
        )

    def afresh(connection: Connection) -> AlertSummary:
        store = LedgerStore(connection, database.catalog)
        return summarize(suggestions.stock_alerts(store, under, today, months))

    def forward(
        connection: Connection, value: AlertSummary, after: int, through: int
    ) -> AlertSummary:
        place = LedgerStore(connection, database.catalog).location(under, "under")
        if alert_queries.touched_since(connection, place.path, after, through):
            return afresh(connection)
        return value

    return kept(database, ("stock-alerts", under, today, months, mark), afresh, forward)
