"""Voucher numbers: a gapless series per prefix and year (RK-2026-000001 …), table
`voucher_counters`. A series' row is read (locked on PostgreSQL) the first time a unit of work
numbers in it, and written back by `flush`."""

from __future__ import annotations

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
        run = self.session.run
        for prefix, year in sorted(self.dirty):
            counter = self.counters[(prefix, year)]
            last, stored = counter
            if stored:
                run(
                    "UPDATE voucher_counters SET last = ? WHERE prefix = ? AND year = ?",
                    (last, prefix, year),
                )
            else:
                run(
                    "INSERT INTO voucher_counters (prefix, year, last) VALUES (?, ?, ?)",
                    (prefix, year, last),
                )
                counter[1] = True
        self.dirty = set()
