"""Random ledgers for tests: a seeded walk of every movement kind through the use cases — some
backdated, some refused, some reversed, some in one database transaction together — over a
few months that cross the end of a year, so that day, month and year totals all differ."""

from __future__ import annotations

import contextlib
import datetime as dt
import random

from ledger import commands as c
from ledger.rules import LedgerError
from tests.bound import Ledger
from tests.builder import ledger_from_text

SETUP = """
location 510100 成都市 city
location 510121 金堂县 county 510100
location 510121-ZJ 赵家镇 township 510121
location 510121-ZJ-PS 平水村 village 510121-ZJ
location 510181 都江堰市 county 510100
item NH2014 年画 printed 张 捆=500
item GT2014 挂图 printed 张 套=4
item BYT 避孕套 contraceptive 只 盒=3 expiry
"""
PLACES = ("510100", "510121", "510121-ZJ", "510121-ZJ-PS", "510181")
PARENT = {
    "510121": "510100",
    "510121-ZJ": "510121",
    "510121-ZJ-PS": "510121-ZJ",
    "510181": "510100",
}
BATCHES = (("NH2014", "2014-01"), ("NH2014", "2014-02"), ("GT2014", "G1"), ("BYT", "B1"))
EXPIRES = {"B1": dt.date(2027, 6, 30)}
START = dt.date(2025, 11, 20)


class RandomLedger:
    """A ledger walked at random from `START`: `today` moves on as it goes."""

    def __init__(self, ledger: Ledger, seed: int) -> None:
        self.ledger = ledger
        self.rng = random.Random(seed)
        self.today = START
        ledger.clock = lambda: self.today
        self.numbers: list[str] = []  # every transaction made, to reverse some
        self.shipments: list[str] = []
        self.posted = 0
        ledger_from_text(ledger, SETUP)
        opening = [
            c.ReceiptLine(item, batch, 500, expires_on=EXPIRES.get(batch))
            for item, batch in BATCHES
        ]
        self._run(c.OpenBalances("510121", tuple(opening), START - dt.timedelta(days=30)))

    def walk(self, steps: int) -> RandomLedger:
        for _ in range(steps):
            if self.rng.random() < 0.3:
                self.today += dt.timedelta(days=self.rng.choice((1, 1, 2, 5, 13)))
            if self.rng.random() < 0.1:
                self._run_many([self._command() for _ in range(self.rng.randint(2, 4))])
            else:
                self._run(self._command())
        return self

    def _day(self) -> dt.date | None:
        """Mostly today; sometimes a few days back (refused where an account moved since)."""
        return (
            None if self.rng.random() < 0.7 else self.today - dt.timedelta(self.rng.randint(0, 4))
        )

    def _line(self) -> c.LineSpec:
        item, batch = self.rng.choice(BATCHES)
        return c.LineSpec(item, self.rng.randint(1, 120), batch)

    def _command(self):
        rng, place, day = self.rng, self.rng.choice(PLACES), self._day()
        roll = rng.random()
        if roll < 0.18:
            item, batch = rng.choice(BATCHES)
            line = c.ReceiptLine(item, batch, rng.randint(50, 800), expires_on=EXPIRES.get(batch))
            return c.Receive(rng.choice(PLACES[:2]), (line,), day)
        if roll < 0.38:
            return c.Issue(
                place, rng.choice([p for p in PLACES if p != place]), (self._line(),), day
            )
        if roll < 0.5 and self.shipments:
            return c.Confirm(rng.choice(self.shipments), occurred_on=day)
        if roll < 0.62:
            return c.Distribute(place, (self._line(),), day)
        if roll < 0.7:
            return c.Return(place, (self._line(),), day)
        if roll < 0.78:
            return c.WriteOff(place, (self._line(),), "damaged", day)
        if roll < 0.88:
            item, batch = rng.choice(BATCHES)
            difference = rng.choice((-1, 1)) * rng.randint(1, 40)
            return c.Adjust(place, (c.AdjustLine(item, batch, difference),), occurred_on=day)
        if self.numbers:
            return c.Reverse(rng.choice(self.numbers), day)
        return c.Distribute(place, (self._line(),), day)

    def _run(self, command) -> None:
        with contextlib.suppress(LedgerError):  # refused: nothing was written
            self._made([self.ledger.execute(command)], [command])

    def _run_many(self, commands: list) -> None:
        with contextlib.suppress(LedgerError):  # one refused: none of them was written
            self._made(self.ledger.execute_many(commands), commands)

    def _made(self, results: list, commands: list) -> None:
        for result, command in zip(results, commands, strict=True):
            number = getattr(result, "number", None)
            if number is None:
                continue
            self.posted += 1
            self.numbers.append(number)
            if isinstance(command, c.Issue):
                self.shipments.append(number)
