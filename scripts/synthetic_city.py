"""A synthetic city: reproducible reference data and a year of movements, at any size.

    python -m scripts.synthetic_city --postings 1000000 --seed 7 --mode bulk
    python -m scripts.synthetic_city --postings 20000 --mode use-cases --database sqlite:///x.db

One city (成都市) with its 20 区(市)县, about 300 乡镇/街道 and 3,000 村/社区, the items and units of
the seed documents, print runs and contraceptive batches with expiry, and a year (2025) of flows:
print runs and deliveries in at the city, allocations reserved and issued down the tree (city →
county → township → village), arrivals confirmed a few days later (about 2% short),
distributions to the public, write-offs (damaged, expired) and stocktake adjustments.

`generate` yields the same commands for the same seed and size. Two ways to load them:

- `use-cases`: every command through the use case `execute_many` (every rule applied, slow);
- `bulk`: the same transactions computed with the pure core (posting engine, numbering, hash
  chain) and written straight into the tables in large batches. The result is the same ledger:
  same voucher numbers, same hash chain, same balances, and `ledger verify` passes. It writes no
  pack rows (labels are not part of the ledger) and needs an empty ledger.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import multiprocessing
import queue
import random
import sys
import time
from collections.abc import Iterator
from typing import NamedTuple

from ledger import commands as c
from ledger.model import Location, LocationLevel
from ledger.services.demo import COUNTIES, ITEMS

YEAR = 2025
START = dt.date(YEAR, 1, 1)
DAYS = 365
CLOCK = dt.date(YEAR + 1, 1, 1)  # the ledger's "today" while loading
CITY = Location("510100", "成都市", LocationLevel.city)
PRINTED = [item for item in ITEMS if not item.expiry_tracked]
CONTRACEPTIVES = [item for item in ITEMS if item.expiry_tracked]
DIGITS = "〇一二三四五六七八九"


class Shape(NamedTuple):
    counties: int = 20
    townships_per_county: int = 15  # 300
    villages_per_township: int = 10  # 3,000


CITY_SHAPE = Shape()


def _number_name(n: int) -> str:
    return "".join(DIGITS[int(d)] for d in str(n))


def locations(shape: Shape = CITY_SHAPE) -> list[Location]:
    """The tree, parents before children: city, counties, townships, villages."""
    tree = [CITY]
    for code, name, _ in COUNTIES[: shape.counties]:
        tree.append(Location(code, name, LocationLevel.county, CITY.code))
    for code, name, _ in COUNTIES[: shape.counties]:
        for t in range(1, shape.townships_per_county + 1):
            township = f"{code}{t:03d}"
            tree.append(
                Location(township, f"{name}{_number_name(t)}号镇", LocationLevel.township, code)
            )
            for v in range(1, shape.villages_per_township + 1):
                tree.append(
                    Location(
                        f"{township}{v:03d}",
                        f"{name}{_number_name(t)}号镇{_number_name(v)}号村",
                        LocationLevel.village,
                        township,
                    )
                )
    return tree


def reference_commands(shape: Shape = CITY_SHAPE) -> list:
    return [c.AddItem(item) for item in ITEMS] + [c.AddLocation(loc) for loc in locations(shape)]


class _Batch(NamedTuple):
    item: str
    number: str
    expires_on: dt.date | None


class _World:
    """What the generator knows of the stock, to keep every command valid."""

    def __init__(self, shape: Shape) -> None:
        self.tree = locations(shape)
        self.children: dict[str, list[str]] = {}
        for location in self.tree:
            if location.parent_code:
                self.children.setdefault(location.parent_code, []).append(location.code)
        self.counties = [loc.code for loc in self.tree if loc.level is LocationLevel.county]
        self.townships = [loc.code for loc in self.tree if loc.level is LocationLevel.township]
        self.villages = [loc.code for loc in self.tree if loc.level is LocationLevel.village]
        self.stock: dict[str, dict[_Batch, int]] = {loc.code: {} for loc in self.tree}
        self.counters: dict[str, int] = {}
        self.batches: list[_Batch] = []
        self.in_transit: dict[int, list] = {}  # due day → [(number, dest, batch, quantity)]

    def number(self, prefix: str) -> str:
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}-{YEAR}-{self.counters[prefix]:06d}"

    def usable(self, location: str, day: dt.date) -> list[tuple[_Batch, int]]:
        return [
            (batch, quantity)
            for batch, quantity in self.stock[location].items()
            if quantity > 0 and (batch.expires_on is None or batch.expires_on >= day)
        ]

    def move(self, location: str, batch: _Batch, change: int) -> None:
        held = self.stock[location].get(batch, 0) + change
        assert held >= 0, (location, batch, change)
        if held:
            self.stock[location][batch] = held
        else:
            self.stock[location].pop(batch, None)


def generate(postings: int, seed: int = 7, shape: Shape = CITY_SHAPE) -> Iterator[list]:
    """Commands, one list per business day of 2025, about `postings` postings in all."""
    rng = random.Random(seed)
    world = _World(shape)
    per_day = max(1, round(postings / 2.9 / DAYS))  # ~2.9 postings per operation, arrivals included
    for offset in range(DAYS):
        day = START + dt.timedelta(days=offset)
        commands: list = []
        commands += _deliveries(world, rng, day, offset)
        commands += _arrivals(world, rng, day)
        for _ in range(per_day):
            commands += _one(world, rng, day)
        yield commands


def _deliveries(world: _World, rng: random.Random, day: dt.date, offset: int) -> list:
    """Print runs each quarter, contraceptive deliveries each month, and whenever the city runs
    low."""
    lines: list[tuple[_Batch, int, dt.date, dt.date | None]] = []
    city = world.stock[CITY.code]
    for item in PRINTED:
        held = sum(q for b, q in city.items() if b.item == item.code)
        if offset % 91 == 0 or held < 20_000:
            number = f"{YEAR}-{offset // 7 + 1:02d}"
            batch = _Batch(item.code, number, None)
            if batch in world.batches:
                continue
            lines.append((batch, rng.randrange(400_000, 1_000_001, 100), day, None))
    for item in CONTRACEPTIVES:
        held = sum(q for b, q in city.items() if b.item == item.code)
        if offset % 30 == 0 or held < 20_000:
            number = f"{item.code[:2]}-{YEAR % 100:02d}{offset:03d}"
            expiry = day + dt.timedelta(days=rng.randrange(200, 900))
            batch = _Batch(item.code, number, expiry)
            if batch in world.batches:
                continue
            produced = day - dt.timedelta(days=rng.randrange(30, 200))
            lines.append((batch, rng.randrange(100_000, 400_001, 10), produced, expiry))
    commands = []
    for batch, quantity, produced, expires in lines:
        world.batches.append(batch)
        world.move(CITY.code, batch, quantity)
        world.number("RK")
        commands.append(
            c.Receive(
                CITY.code,
                (c.ReceiptLine(batch.item, batch.number, quantity, None, produced, expires),),
                day,
                f"入库 {batch.item} {batch.number}",
            )
        )
    return commands


def _arrivals(world: _World, rng: random.Random, day: dt.date) -> list:
    commands = []
    for number, destination, batch, quantity in world.in_transit.pop(day.toordinal(), []):
        received = quantity
        if rng.random() < 0.02:
            received = quantity - max(1, quantity // rng.randrange(20, 200))
        world.move(destination, batch, received)
        world.number("QS")
        lines: tuple[c.ReceivedLine, ...] = ()
        shortage = None
        if received != quantity:
            lines = (c.ReceivedLine(batch.item, batch.number, received),)
            missing = (c.ShortageLine(batch.item, batch.number, quantity - received),)
            shortage = c.Shortage(c.ShortageReason.lost_in_transit, missing)
        commands.append(c.Confirm(number, lines, day, f"签收 {number}", shortage=shortage))
    return commands


def _one(world: _World, rng: random.Random, day: dt.date) -> list:
    roll = rng.random()
    if roll < 0.40:
        made = _distribute(world, rng, day, rng.choice(world.villages))
    elif roll < 0.48:
        made = _distribute(world, rng, day, rng.choice(world.townships))
    elif roll < 0.76:
        source = rng.choice(world.townships)
        made = _issue(world, rng, day, source, rng.choice(world.children[source]), 0.05, 0.3)
    elif roll < 0.90:
        source = rng.choice(world.counties)
        made = _issue(world, rng, day, source, rng.choice(world.children[source]), 0.03, 0.2)
    elif roll < 0.96:  # an approved allocation: reserved, then issued against the reservation
        made = _issue(world, rng, day, CITY.code, rng.choice(world.counties), 0.005, 0.03, True)
    elif roll < 0.985:
        made = _write_off(world, rng, day)
    else:
        made = _adjust(world, rng, day)
    if made is None:
        return []
    return made if isinstance(made, list) else [made]


def _pick(world: _World, rng: random.Random, location: str, day: dt.date):
    usable = world.usable(location, day)
    if not usable:
        return None
    # First expiry first out within an item: the earliest usable batch of a random item.
    item = rng.choice(sorted({batch.item for batch, _ in usable}))
    mine = [(b, q) for b, q in usable if b.item == item]
    return min(mine, key=lambda pair: (pair[0].expires_on or dt.date.max, pair[0].number))


def _issue(world, rng, day, source, destination, low, high, reserved=False):
    picked = _pick(world, rng, source, day)
    if picked is None:
        return None
    batch, held = picked
    quantity = max(1, int(held * rng.uniform(low, high)))
    world.move(source, batch, -quantity)
    number = world.number("CK")
    reference = f"FP-{number}" if reserved else None
    due = day + dt.timedelta(days=rng.randrange(1, 6))
    if due.year == YEAR:
        world.in_transit.setdefault(due.toordinal(), []).append(
            (number, destination, batch, quantity)
        )
    issue = c.Issue(
        source,
        destination,
        (c.LineSpec(batch.item, quantity, batch.number),),
        day,
        f"下发 {destination}",
        reference,
    )
    if reference is None:
        return issue
    reserve = c.Reserve(reference, source, batch.item, quantity, None, batch.number, day)
    return [reserve, issue]


def _distribute(world, rng, day, location):
    picked = _pick(world, rng, location, day)
    if picked is None:
        return None
    batch, held = picked
    quantity = min(held, rng.randrange(1, 60))
    world.move(location, batch, -quantity)
    world.number("FF")
    return c.Distribute(
        location, (c.LineSpec(batch.item, quantity, batch.number),), day, "发放到户"
    )


def _write_off(world, rng, day):
    location = rng.choice(world.tree).code
    stocked = sorted(world.stock[location].items(), key=lambda pair: (pair[0].item, pair[0].number))
    if not stocked:
        return None
    expired = [(b, q) for b, q in stocked if b.expires_on is not None and b.expires_on < day]
    batch, held = expired[0] if expired else rng.choice(stocked)
    quantity = held if expired else min(held, rng.randrange(1, 20))
    world.move(location, batch, -quantity)
    world.number("BS")
    return c.WriteOff(
        location,
        (c.LineSpec(batch.item, quantity, batch.number),),
        "expired" if expired else "damaged",
        day,
        "过期报损" if expired else "破损报损",
    )


def _adjust(world, rng, day):
    location = rng.choice(world.tree).code
    stocked = sorted(world.stock[location].items(), key=lambda pair: (pair[0].item, pair[0].number))
    if not stocked:
        return None
    batch, held = rng.choice(stocked)
    difference = rng.choice([-1, 1]) * rng.randrange(1, 10)
    difference = max(difference, -held)
    if difference == 0:
        return None
    world.move(location, batch, difference)
    world.number("PD")
    return c.Adjust(
        location,
        (c.AdjustLine(batch.item, batch.number, difference),),
        "stocktake",
        day,
        "盘点调整",
    )


# ---- generating in a second process -------------------------------------------------------------

DAYS_AHEAD = 4  # days a child generating ahead may hold made and not yet taken
AHEAD_POSTINGS_MIN = 200_000  # below this a second process costs more than it saves


def generate_ahead(postings: int, seed: int = 7, shape: Shape = CITY_SHAPE) -> Iterator[list]:
    """`generate`'s days made by a child process while the caller loads the ones before (on a
    second core): the same commands, in the same order, sent pickled over a queue."""
    context = multiprocessing.get_context("spawn")
    days = context.Queue(maxsize=DAYS_AHEAD)
    child = context.Process(target=_generate_into, args=(days, postings, seed, shape))
    child.start()
    try:
        while True:
            try:
                day = days.get(timeout=1)
            except queue.Empty:
                if not child.is_alive():
                    stopped = f"the generator stopped (exit code {child.exitcode})"
                    raise RuntimeError(stopped) from None
                continue
            if day is None:
                return
            if isinstance(day, str):
                raise RuntimeError(f"the generator failed: {day}")
            yield day
    finally:
        if child.is_alive():
            child.terminate()
        child.join()


def _generate_into(days, postings: int, seed: int, shape: Shape) -> None:
    """The child: every day of `generate` into the queue, then None (or what went wrong)."""
    try:
        for day in generate(postings, seed, shape):
            days.put(day)
    except Exception as error:  # told to the parent, which raises it
        days.put(f"{type(error).__name__}: {error}")
    else:
        days.put(None)


# ---- loading ------------------------------------------------------------------------------------


def load_use_cases(database, postings: int, seed: int = 7, shape: Shape = CITY_SHAPE) -> int:
    """Through the use cases, a day per database transaction. Returns the transactions made."""
    from ledger.services.ledger import execute_many

    execute_many(database, reference_commands(shape), today=CLOCK)
    made = 0
    for commands in generate(postings, seed, shape):
        for start in range(0, len(commands), 10_000):
            made += len(execute_many(database, commands[start : start + 10_000], today=CLOCK))
    return made


def load_bulk(database, postings: int, seed: int = 7, shape: Shape = CITY_SHAPE) -> int:
    """Straight into the tables. Returns the transactions written. Python's cyclic garbage
    collector is paused meanwhile: generating and loading make millions of short-lived objects
    and hardly any cycles, and each of its passes would walk every account and shipment held."""
    from ledger.services.bulk import load_in_bulk
    from ledger.services.ledger import execute_many

    execute_many(database, reference_commands(shape), today=CLOCK)
    collecting = gc.isenabled()
    gc.disable()
    made = generate_ahead if postings >= AHEAD_POSTINGS_MIN else generate
    try:
        return load_in_bulk(database, made(postings, seed, shape))
    finally:
        if collecting:
            gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--mode", choices=["bulk", "use-cases"], default="bulk")
    parser.add_argument("--database", help="database URL (default: LEDGER_DATABASE_URL)")
    arguments = parser.parse_args()
    from ledger.services.database import ledger_size, open_database
    from ledger.settings import Settings

    url = arguments.database or Settings.from_environment().database_url
    database = open_database(url)
    database.upgrade()
    started = time.perf_counter()
    load = load_bulk if arguments.mode == "bulk" else load_use_cases
    made = load(database, arguments.postings, arguments.seed)
    seconds = time.perf_counter() - started
    transactions, postings = ledger_size(database)
    print(
        f"{arguments.mode}: {made:,} new transactions; the ledger holds {transactions:,} "
        f"transactions, {postings:,} postings; {seconds:.1f} s ({postings / seconds:,.0f} "
        "postings/s)",
        file=sys.stderr,
    )
    database.dispose()


if __name__ == "__main__":
    main()
