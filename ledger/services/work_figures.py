"""The home page's key figures (首页·关键指标): stock on hand per item at the end of each of the
last months, and 进村入户率 (the share of villages that received an item this year) per area.
Both are sums over the postings, kept between readings and brought forward by the postings of
later transactions only (ledger/services/kept.py)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from ledger.db import figure_queries as fq
from ledger.db import reference_queries
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database
from ledger.model import Item, Location, LocationLevel
from ledger.services.kept import kept
from ledger.services.work import read

MONTHS = 6  # the stock chart's points: the ends of the last five months, and today


# ---- stock on hand at the ends of recent months ----------------------------------------------------


def month_ends(today: dt.date, count: int = MONTHS) -> tuple[dt.date, ...]:
    """The last days of the `count` − 1 months before today's, then today."""
    ends = [today]
    first = today.replace(day=1)
    for _ in range(count - 1):
        end = first - dt.timedelta(days=1)
        ends.append(end)
        first = end.replace(day=1)
    return tuple(reversed(ends))


class StockSeries(NamedTuple):
    item: Item
    values: tuple[int, ...]  # base units on hand at the end of each day of `bounds`


class StockHistory(NamedTuple):
    bounds: tuple[dt.date, ...]
    series: tuple[StockSeries, ...]  # items in code order; items never held left out


def _stock_afresh(under: str | None, bounds: tuple[dt.date, ...]):
    def afresh(connection) -> dict[int, tuple[int, ...]]:
        now = fq.on_hand_by_item(connection, under)
        nets: dict[tuple[int, int], int] = {
            (item, span): net for item, span, net in fq.net_by_item_after(connection, under, bounds)
        }
        totals = {}
        for item in set(now) | {item for item, _ in nets}:
            values = [0] * len(bounds)
            value = now.get(item, 0) - nets.get((item, len(bounds)), 0)
            for k in range(len(bounds) - 1, -1, -1):
                values[k] = value
                value -= nets.get((item, k), 0)
            totals[item] = tuple(values)
        return totals

    return afresh


def _stock_forward(under: str | None, bounds: tuple[dt.date, ...]):
    def forward(connection, value, after: int, through: int) -> dict[int, tuple[int, ...]]:
        totals = {item: list(values) for item, values in value.items()}
        for item, day, net in fq.moved_since(connection, under, after, through):
            values = totals.setdefault(item, [0] * len(bounds))
            for k, bound in enumerate(bounds):
                if day <= bound:
                    values[k] += net
        return {item: tuple(values) for item, values in totals.items()}

    return forward


def stock_by_month(
    database: Database, under: str | None, today: dt.date, count: int = MONTHS
) -> StockHistory:
    """Stock on hand per item at the physical places under `under` (None: everywhere) at the
    end of each of the last `count` − 1 months and of today, in base units."""
    bounds = month_ends(today, count)
    totals: dict[int, tuple[int, ...]] = kept(
        database,
        ("stock", under, bounds),
        _stock_afresh(under, bounds),
        _stock_forward(under, bounds),
    )

    def named(store: LedgerStore) -> list[StockSeries]:
        return [
            StockSeries(store.item_by_id(item_id).item, values)
            for item_id, values in totals.items()
            if any(values)
        ]

    series = sorted(read(database, named), key=lambda found: found.item.code)
    return StockHistory(bounds, tuple(series))


# ---- 进村入户率 per area ------------------------------------------------------------------------------


class CoverageBar(NamedTuple):
    area: Location
    villages: int
    reached: int

    @property
    def rate(self) -> float:
        return self.reached / self.villages if self.villages else 0.0


class Coverage(NamedTuple):
    """item: the item shown (None: no item at all). items: every item, those that reached the
    most villages first. level: the areas' level (county, township or village)."""

    item: Item | None
    items: tuple[Item, ...]
    date_from: dt.date
    date_to: dt.date
    level: str
    bars: tuple[CoverageBar, ...]
    villages: int
    reached: int

    @property
    def rate(self) -> float:
        return self.reached / self.villages if self.villages else 0.0


def _reach_afresh(under: str | None, date_from: dt.date, date_to: dt.date):
    def afresh(connection) -> tuple[list[tuple[int, str]], frozenset[tuple[int, int]]]:
        villages = fq.villages_under(connection, under)
        reached = fq.villages_reached(connection, under, date_from, date_to)
        return villages, frozenset(reached)

    return afresh


def _reach_forward(under: str | None, date_from: dt.date, date_to: dt.date):
    def forward(connection, value, after: int, through: int):
        villages, reached = value
        more = fq.villages_reached(connection, under, date_from, date_to, after, through)
        return villages, reached | more

    return forward


def area_depth(under: str | None) -> int:
    """Which ancestor a village is counted under: the places one level below the top of
    `under` (a city's counties, a county's townships, a township's villages); counties for a
    reading of everywhere."""
    return 2 if under is None else under.strip("/").count("/") + 2


def coverage_by_area(
    database: Database, under: str | None, item_code: str | None, today: dt.date
) -> Coverage:
    """进村入户率 this year (1 January to today) of `item_code` (default: the item that reached
    the most villages) over the villages under `under`, per area one level below it: of an
    area's villages, those that received the item (the coverage report's rule)."""
    date_from = today.replace(month=1, day=1)
    villages, reached = kept(
        database,
        ("reach", under, date_from, today),
        _reach_afresh(under, date_from, today),
        _reach_forward(under, date_from, today),
    )
    return read(
        database, lambda store: _coverage(store, villages, reached, item_code, under, today)
    )


def _coverage(
    store: LedgerStore,
    villages: list[tuple[int, str]],
    reached: frozenset[tuple[int, int]],
    item_code: str | None,
    under: str | None,
    today: dt.date,
) -> Coverage:
    per_item: dict[int, int] = {}
    for _, item_id in reached:
        per_item[item_id] = per_item.get(item_id, 0) + 1
    items = [store.item(code) for code in reference_queries.item_codes(store.connection, 1000)]
    items.sort(key=lambda entry: (-per_item.get(entry.id, 0), entry.item.code))
    chosen = next((entry for entry in items if entry.item.code == item_code), None)
    chosen = chosen or (items[0] if items else None)
    depth = area_depth(under)
    areas: dict[str, list[int]] = {}
    for village_id, path in villages:
        codes = path.strip("/").split("/")
        area = codes[min(depth, len(codes)) - 1]
        counts = areas.setdefault(area, [0, 0])
        counts[0] += 1
        counts[1] += chosen is not None and (village_id, chosen.id) in reached
    store.cache_locations(codes=list(areas))
    bars = tuple(
        CoverageBar(store.location(code).location, villages_in, reached_in)
        for code, (villages_in, reached_in) in areas.items()
    )
    level = bars[0].area.level.value if bars else LocationLevel.county.value
    return Coverage(
        chosen.item if chosen else None,
        tuple(entry.item for entry in items),
        today.replace(month=1, day=1),
        today,
        level,
        bars,
        sum(bar.villages for bar in bars),
        sum(bar.reached for bar in bars),
    )
