"""How a use case runs: its steps in one unit of work, as its user, on its day.

`database.write` opens the unit of work (one database transaction, committed once at the end,
retried on write conflicts) or, inside another use case's, joins it; `database.lookup` reads in a
transaction of its own (or in the enclosing write's, seeing what it wrote).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database
from ledger.settings import office_today

T = TypeVar("T")


def day(today: dt.date | None) -> dt.date:
    """The use case's day: the one its caller's clock gave, or the office's today."""
    return office_today() if today is None else today


def write(
    database: Database,
    step: Callable[[LedgerStore], T],
    actor: int | None = None,
    today: dt.date | None = None,
) -> T:
    """Run `step` in one unit of work, its vouchers made by `actor` (None: the command line) on
    `today`."""
    return database.write(lambda store: step(store.acting(actor, today)))


def read(database: Database, step: Callable[[LedgerStore], T]) -> T:
    return database.lookup(step)
