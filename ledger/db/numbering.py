"""Voucher numbers: a gapless series per prefix and year (RK-2026-000001 …), table
`voucher_counters`. A series' row is read (locked on PostgreSQL) the first time a unit of work
numbers in it, and written back by `flush`."""

from __future__ import annotations

from sqlalchemy import insert, update

from ledger.db import tables as t
from ledger.db.session import Session
from ledger.model import VOUCHER_PREFIX, TransactionKind, voucher_number


class Numbering:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.counters: dict[tuple[str, int], list] = {}  # (prefix, year) → [last, stored]
        self.dirty: set[tuple[str, int]] = set()

    def next_number(self, kind: TransactionKind, year: int) -> str:
        return self.next_number_for(VOUCHER_PREFIX[kind], year)

    def next_number_for(self, prefix: str, year: int) -> str:
        """The next number of the series of `prefix` in `year`."""
        counter = self.counters.get((prefix, year))
        if counter is None:
            row = self.session.run(
                "SELECT last FROM voucher_counters WHERE prefix = ? AND year = ?"
                + self.session.lock_clause,
                (prefix, year),
            ).first()
            last = row[0] if row else None
            counter = self.counters[(prefix, year)] = [last or 0, last is not None]
        counter[0] += 1
        self.dirty.add((prefix, year))
        return voucher_number(prefix, year, counter[0])

    def flush(self) -> None:
        c = t.voucher_counters.c
        connection = self.session.connection
        for prefix, year in sorted(self.dirty):
            counter = self.counters[(prefix, year)]
            last, stored = counter
            if stored:
                connection.execute(
                    update(t.voucher_counters).where(c.prefix == prefix, c.year == year),
                    {"last": last},
                )
            else:
                connection.execute(
                    insert(t.voucher_counters), {"prefix": prefix, "year": year, "last": last}
                )
                counter[1] = True
        self.dirty = set()
