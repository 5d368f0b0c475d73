"""Figures over the postings kept between readings and brought forward, not computed again.

Postings are append-only and numbered with their transaction, in the order transactions commit
(the chain). So a figure computed from the ledger as it stood at chain sequence N stays true of
everything up to N; brought forward by the transactions after N it is true again. A figure is
kept per database and key (a subtree, a period) with the sequence it includes: the next reading
reads only the transactions after it. A new version of reference data (a location moved to
another parent moves its stock to another subtree) or a shorter chain (a backup restored)
computes the figure afresh. Each reading runs in one snapshot, so the sequence and what is read
agree (PostgreSQL: REPEATABLE READ).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Connection

from ledger.db import figure_queries
from ledger.db.unit_of_work import Database

T = TypeVar("T")
KEPT_MAX = 256  # figures kept per database (subtree × period), the least recently read dropped


class _Kept(NamedTuple):
    head: int  # the chain sequence the figure includes
    version: int  # the newest reference version when it was computed
    value: Any


_kept: WeakKeyDictionary[Database, OrderedDict[tuple, _Kept]] = WeakKeyDictionary()
_lock = threading.Lock()


def kept(
    database: Database,
    key: tuple,
    afresh: Callable[[Connection], T],
    forward: Callable[[Connection, T, int, int], T],
) -> T:
    """The figure `key`: kept and brought forward (`forward(connection, value, after,
    through)`), or computed (`afresh(connection)`), in one snapshot."""
    with _lock:
        before = _kept.get(database, OrderedDict()).get(key)
    with database.read(snapshot=True) as connection:
        head, version = figure_queries.watermark(connection)
        if before is None or before.version != version or before.head > head:
            value = afresh(connection)
        elif before.head < head:
            value = forward(connection, before.value, before.head, head)
        else:
            value = before.value
    with _lock:
        figures = _kept.setdefault(database, OrderedDict())
        figures[key] = _Kept(head, version, value)
        figures.move_to_end(key)
        while len(figures) > KEPT_MAX:
            figures.popitem(last=False)
    return value


def forget(database: Database) -> None:
    """Drop the figures kept for `database` (tests; a restore into a live process)."""
    with _lock:
        _kept.pop(database, None)
