"""Reading from a PostgreSQL streaming replica (a hot standby): reports, balances and
verification may read there, so that a province's heavy reads leave the primary to the writes.

A replica is a `Database` that refuses writes. Its transactions are REPEATABLE READ, so every
statement of a report sees the same replayed state; `replayed_sequence` tells which: the
sequence of the last transaction the replica holds (its chain head). A replica lags the primary
by a little; a client that must see its own write asks for at least the sequence that write
answered with (`at_least`), and is read from the primary when the replica does not catch up in
time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select

from ledger.db import tables as t
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.rules import Code, LedgerError

WAIT_S = 2.0  # how long a read that needs a sequence waits for the replica to replay it
POLL_S = 0.02


class ReplicaDatabase(Database):
    """A read-only copy of the ledger: lookups and reads, never a write."""

    @classmethod
    def from_url(cls, url: str, **engine_options) -> ReplicaDatabase:
        if url.startswith("postgresql"):
            engine_options.setdefault("isolation_level", "REPEATABLE READ")
        return cls(make_engine(url, **engine_options))

    def write(self, work: Callable[..., Any], before_commit=None) -> Any:
        raise LedgerError(
            Code.read_only_replica,
            "只读副本不能写入 (the read replica takes no writes)",
        )

    def upgrade(self) -> None:  # the primary's migrations reach it by replication
        return None


def replayed_sequence(connection: Connection) -> int:
    """The sequence of the last transaction the database holds (0 when it holds none)."""
    row = connection.execute(select(t.chain_head.c.sequence)).first()
    return int(row.sequence) if row is not None else 0


def sequence_of(database: Database) -> int:
    with database.read() as connection, connection.begin():
        return replayed_sequence(connection)


def reads_for(
    primary: Database, replica: Database | None, at_least: int = 0
) -> tuple[Database, int, str]:
    """Where a read goes: (database, the sequence it holds at least, "replica" or "primary").

    The replica when there is one and it holds `at_least`, waiting up to WAIT_S for it to
    replay that far; the primary otherwise."""
    if replica is not None:
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                held = sequence_of(replica)
            except Exception:  # a replica that is down: the primary answers
                break
            if held >= at_least:
                return replica, held, "replica"
            if time.monotonic() >= deadline:
                break
            time.sleep(POLL_S)
    return primary, sequence_of(primary), "primary"
