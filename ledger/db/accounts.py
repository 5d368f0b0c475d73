"""The accounts repository: balance rows (on hand, reserved, last movement day) of one unit of
work, loaded and locked before they change, and written back by `flush`.

On PostgreSQL the rows are locked `FOR UPDATE` in key order, after the chain head
(`Session.lock_ledger`), so concurrent writers neither go negative nor deadlock. A `fresh` repository (the bulk loader's, on an empty ledger) knows that
no balance row is stored yet and reads none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import select

from ledger.db import tables as t
from ledger.db.session import Session
from ledger.model import AccountKey
from ledger.posting import AccountState, Describe, Leg, apply_legs
from ledger.rules import require

LOCK_CHUNK = 300  # accounts per locking SELECT (3 parameters each)
# PostgreSQL: the rows locked FOR UPDATE in key order. SQLite: a join on the VALUES, which it
# answers from the primary key (for `IN (VALUES …)` SQLite 3.40 scans the whole table).
STATES = (
    "SELECT location_id, item_id, batch_id, on_hand, reserved, last_occurred_on "
    "FROM balances WHERE (location_id, item_id, batch_id) IN (VALUES {rows}) "
    "ORDER BY location_id, item_id, batch_id FOR UPDATE"
)
SQLITE_STATES = (
    "SELECT b.location_id, b.item_id, b.batch_id, b.on_hand, b.reserved, b.last_occurred_on "
    "FROM (VALUES {rows}) AS v JOIN balances AS b ON b.location_id = v.column1 "
    "AND b.item_id = v.column2 AND b.batch_id = v.column3"
)
BALANCES_INSERT = (
    "INSERT INTO balances (on_hand, reserved, last_occurred_on, location_id, item_id, batch_id) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
BALANCES_UPDATE = (
    "UPDATE balances SET on_hand = ?, reserved = ?, last_occurred_on = ? "
    "WHERE location_id = ? AND item_id = ? AND batch_id = ?"
)


class Accounts:
    def __init__(self, session: Session, describe: Describe, fresh: bool = False) -> None:
        self.session = session
        self.describe = describe  # names an account in a refusal
        self.fresh = fresh
        self.states: dict[AccountKey, AccountState] = {}
        self.dirty: set[AccountKey] = set()

    def lock_states(self, keys: Iterable[AccountKey]) -> dict[AccountKey, AccountState]:
        """Load (and on PostgreSQL lock, in key order) the states of `keys` not yet loaded."""
        states = self.states
        missing = sorted({key for key in keys if key not in states})
        if not missing:
            return states
        if self.fresh:
            for key in missing:
                self.states[key] = AccountState(is_new=True)
            return self.states
        self.session.lock_ledger()  # the chain head first: no deadlock (Session.lock_ledger)
        for start in range(0, len(missing), LOCK_CHUNK):
            chunk = missing[start : start + LOCK_CHUNK]
            rows = ", ".join(["(?, ?, ?)"] * len(chunk))
            statement = (SQLITE_STATES if self.session.as_text else STATES).format(rows=rows)
            parameters = tuple(value for key in chunk for value in key)
            found = {
                AccountKey(row[0], row[1], row[2]): AccountState(
                    row[3], row[4], self.session.read_date(row[5])
                )
                for row in self.session.run(statement, parameters)
            }
            for key in chunk:
                self.states[key] = found.get(key) or AccountState(is_new=True)
        return self.states

    def stocked_batches(self, location_id: int, item_id: int) -> list[tuple[int, int, int]]:
        """(batch id, on hand, reserved) of every batch of an item in stock at a location, as
        written so far (not yet locked: lock the ones you pick with `lock_states`)."""
        self.session.flush()
        b = t.balances.c
        return [
            (row[0], row[1], row[2])
            for row in self.session.connection.execute(
                select(b.batch_id, b.on_hand, b.reserved).where(
                    b.location_id == location_id, b.item_id == item_id, b.on_hand > 0
                )
            )
        ]

    def apply(self, legs: Sequence[Leg], occurred_on: dt.date) -> list[int]:
        """Check the legs against the locked states and apply them (ledger.posting); the
        balance after each leg."""
        keys = [leg.key for leg in legs]
        if not self.fresh:  # (fresh: `apply_legs` starts the accounts it does not find empty)
            self.lock_states(keys)
        balances_after = apply_legs(legs, self.states, occurred_on, self.describe)
        self.dirty.update(keys)
        return balances_after

    def change_reserved(self, key: AccountKey, change: int) -> None:
        """Reserve (+) or release (−) on an account already locked."""
        state = self.lock_states([key])[key]
        require(0 <= state.reserved + change <= state.on_hand, f"reserve out of range on {key}")
        state.reserved += change
        self.dirty.add(key)

    def flush(self) -> None:
        if not self.dirty:
            return
        new_rows, changed_rows = [], []
        write_date = self.session.write_date
        for key in sorted(self.dirty):  # in key order, as they were locked
            state = self.states[key]
            values = (state.on_hand, state.reserved, write_date(state.last_on), *key)
            if state.is_new:
                new_rows.append(values)
                state.is_new = False
            else:
                changed_rows.append(values)
        self.dirty = set()
        self.session.run_many(BALANCES_INSERT, new_rows)
        self.session.run_many(BALANCES_UPDATE, changed_rows)
