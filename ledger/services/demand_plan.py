"""年度需求计划 (annual demand plan) of a subtree: per row × item, last year's consumption, the
AMC, the planned demand for the year, the stock and what must be requested (or printed).

The rows partition the subtree, so their figures add up: a place of the rows' level (乡镇 by
default) stands for itself and every place below it (含下级); a place above that level (the
city, a county) for its own store alone (本级: what it handed out itself, what it holds itself).
A row's maximum stock is its place's norm over its place's whole area's AMC (as the
suggestions hold it). Figures are read in one pass (ledger/services/demand_figures.py) over the
12 months before the plan's year (or before today's month, for next year's plan drawn up this
year); the AMC is taken over the last `months` of them. The rules are in ledger/demand.py and
docs/norms.md.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from enum import StrEnum
from fractions import Fraction
from typing import NamedTuple

from ledger import demand as d
from ledger import norms as n
from ledger.db import demand_queries as dq
from ledger.db import norm_queries as nq
from ledger.db.store import LedgerStore
from ledger.model import Item, Location
from ledger.rules import Code, LedgerError
from ledger.services.demand_figures import Rows, Scope, read_sums
from ledger.services.suggestions import window_months
from ledger.settings import Settings

YEAR_MONTHS = 12
DEFAULT_LEVEL = "township"


class Basis(StrEnum):
    consumption = "consumption"  # 按消耗: AMC × 12 × growth
    population = "population"  # 按人口: a share of the demand of the place above
    none = "none"  # 无消耗: no consumption, no share


class PlanLine(NamedTuple):
    """One row × item of the plan (quantities in the item's base unit).

    scope: own (本级) or area (含下级). county: the 区县 the row is counted under (None for the
    rows above the counties, or when the plan is of one county or less).
    last_year: consumption over the 12 months before the plan's year (every month).
    used: the AMC window's consumption (months counted, stock-out months, `amc`).
    basis, basis_place: how the demand was found (for `population`, whose demand was shared).
    maximum: the row's place's norm over its whole area's AMC (at least its 最低库存);
    on_hand, in_transit: of the row's places.
    to_request: demand + maximum − on hand − in transit − on order, whole packs of
      `pack_size`, ≥ 0.
    on_order: 已申领未到 of the row (demand_figures.Sums.ordered: its places' open requests to
      other rows or above the plan, less other rows' open requests to its places).
    """

    location: Location
    location_id: int
    scope: Scope
    county: Location | None
    item: Item
    item_id: int
    last_year: int
    used: n.Consumption
    basis: Basis
    basis_place: Location | None
    demand: int
    maximum: int
    on_hand: int
    in_transit: int
    to_request: int
    pack_size: int | None
    on_order: int = 0


class DemandPlan(NamedTuple):
    """The plan of `top`'s subtree for `year`, drawn up `today`: `last_year` and `window` are
    the first days of the months of last year's consumption and of the AMC."""

    top: Location
    top_is_root: bool
    year: int
    today: dt.date
    months: int
    last_year: list[dt.date]
    window: list[dt.date]
    growth: Fraction
    level: str
    lines: list[PlanLine]


def check_level(level: str) -> None:
    if level not in d.LEVEL_RANKS:
        raise LedgerError(
            Code.invalid_field,
            f"级别只能是 city、county、township、village：{level} (unknown level)",
            "level",
        )


def _window_used(months: tuple[n.Month, ...], window: int, item: Item) -> n.Consumption:
    return n.consumption(months[-window:], n.ignores_stock_outs(item.kind))


def demand_plan(
    store: LedgerStore,
    under: str,
    year: int,
    today: dt.date,
    months: int,
    growth: Fraction,
    level: str = DEFAULT_LEVEL,
) -> DemandPlan:
    """The demand plan of `under`'s subtree for `year` (this year or next), its rows at `level`
    (the places above it by their own store); AMC over `months` (3, 6 or 12), `growth` percent."""
    d.check_year(year, today)
    check_level(level)
    top = store.location(under, "under")
    if not top.physical:
        raise LedgerError(
            Code.location_must_be_physical,
            f"{top.location.name} 是虚拟库点，没有需求计划 (a physical location only)",
            "under",
        )
    base = d.base_day(year, today)
    planner = _Planner(store, top.path, top.location.level, level, base, today, months, growth)
    lines = [planner.line(row, item_id) for row, item_id in planner.pairs()]
    lines = [line for line in lines if _shows(line)]
    lines.sort(key=lambda line: (planner.rows.order[line.location_id], line.item.code))
    return DemandPlan(
        top.location,
        top.location.parent_code is None,
        year,
        today,
        months,
        planner.year_window,
        n.window(base, months),
        growth,
        level,
        lines,
    )


class _Planner:
    """The figures of one plan, read once, and each row × item's line from them."""

    def __init__(
        self,
        store: LedgerStore,
        path: str,
        top_level: str,
        level: str,
        base: dt.date,
        today: dt.date,
        months: int,
        growth: Fraction,
    ) -> None:
        self.store, self.today, self.months, self.growth = store, today, months, growth
        self.year_window = year_window = n.window(base, YEAR_MONTHS)
        connection = store.connection
        self.rows = rows = Rows(nq.places_under(connection, path), top_level, level)
        self.own, self.subtree = read_sums(connection, path, rows, year_window, today)
        self.settings = [row.setting for row in nq.norm_rows(connection, today)]
        self.root_id = nq.root_id_of(connection, path)  # the city whose level norms apply
        self.floors = nq.minimums_under(connection, path)
        self.items = {item_id: store.item_by_id(item_id).item for _, item_id in self.subtree}
        amc_at = {
            key: _window_used(sums.months(year_window), months, self.items[key[1]]).amc
            for key, sums in self.subtree.items()
        }
        populations = dq.populations_under(connection, path)
        self.shares = _Shares(rows, populations, amc_at, growth)
        self.counties = d.LEVEL_RANKS[top_level] < d.LEVEL_RANKS["county"]

    def pairs(self) -> set[tuple[int, int]]:
        """Every row × item with a figure (each row's own figures are in its subtree's) or a
        share; their places read at once."""
        pairs = set(self.subtree) | self.shares.pairs()
        self.store.cache_locations(ids={row for row, _ in pairs} | self.shares.places())
        return pairs

    def line(self, row: int, item_id: int) -> PlanLine:
        item, window, rows = self.items[item_id], self.year_window, self.rows
        mine, whole = self.own.get((row, item_id)), self.subtree.get((row, item_id))
        month_list: tuple[n.Month, ...] = ()
        if whole is not None:  # an own row's consumption, its subtree's stock-outs
            month_list = whole.months(window, mine.used if mine else [0] * len(whole.used))
        used = _window_used(month_list, self.months, item)
        last_year = sum(max(month.used, 0) for month in month_list)
        norm = n.norm_in_force(
            self.settings, rows.level[row], row, item_id, self.today, root_id=self.root_id
        )
        area_used = _window_used(whole.months(window), self.months, item) if whole else used
        floor = self.floors.get((row, item_id), 0)
        maximum = n.suggest(norm, area_used, 0, 0, None, floor).maximum
        basis, source, demand = Basis.consumption, None, d.planned_demand(used.amc, self.growth)
        if not last_year:  # no history: a share of the demand above, by population
            basis, source, demand = self.shares.share(row, item_id, rows.scope[row])
        if basis is Basis.population:
            maximum = max(maximum, -(-demand * norm.max_months // YEAR_MONTHS))
        on_hand, in_transit = (mine.stock, mine.transit) if mine else (0, 0)
        on_order = mine.ordered if mine else 0
        pack = n.request_pack_size(item)
        county = rows.county(row) if self.counties else None
        place = self.store.location_by_id
        return PlanLine(
            place(row).location,
            row,
            rows.scope[row],
            place(county).location if county is not None else None,
            item,
            item_id,
            last_year,
            used,
            basis,
            place(source).location if source is not None else None,
            demand,
            maximum,
            on_hand,
            in_transit,
            d.to_request(demand, maximum, on_hand, in_transit, pack, on_order),
            pack,
            on_order,
        )


def _shows(line: PlanLine) -> bool:
    """A line with any figure (a place's own store that neither used, holds nor needs an item
    says nothing; one asked for what it does not hold owes it, on order below 0)."""
    figures = (line.last_year, line.demand, line.maximum, line.on_hand, line.in_transit)
    return any((*figures, line.to_request, line.on_order))


class _Shares:
    """Population shares: a row of the rows' level with no consumption of an item over the last
    12 months gets its share (by 人口) of the demand of the nearest place above it whose AMC is
    above 0, shared among the rows under that place that have a population."""

    def __init__(
        self,
        rows: Rows,
        populations: dict[int, int],
        amc_at: dict[tuple[int, int], Fraction],
        growth: Fraction,
    ) -> None:
        self.rows, self.populations, self.amc_at, self.growth = rows, populations, amc_at, growth
        self.used_items: defaultdict[int, list[int]] = defaultdict(list)  # place → items
        for (place, item_id), amc in amc_at.items():
            if amc:
                self.used_items[place].append(item_id)
        self.base: defaultdict[int, int] = defaultdict(int)  # place → its rows' populations
        self.weighted = [
            row for row, scope in rows.scope.items() if scope is Scope.area and populations.get(row)
        ]
        for row in self.weighted:
            for place in rows.above(row):
                self.base[place] += populations[row]

    def pairs(self) -> set[tuple[int, int]]:
        """(row, item) of every weighted row and the items used above it."""
        return {
            (row, item_id)
            for row in self.weighted
            for place in self.rows.above(row)
            for item_id in self.used_items.get(place, ())
        }

    def places(self) -> set[int]:
        return set(self.used_items)

    def share(self, row: int, item_id: int, scope: Scope) -> tuple[Basis, int | None, int]:
        """(basis, the place whose demand is shared, the share) of a row with no consumption."""
        if scope is Scope.area:
            for place in self.rows.above(row):
                amc = self.amc_at.get((place, item_id), Fraction(0))
                if amc:
                    demand = d.planned_demand(amc, self.growth)
                    population = self.populations.get(row)
                    share = d.population_share(demand, population, self.base[place])
                    if share:
                        return Basis.population, place, share
                    break
        return Basis.none, None, 0


def check_asked(year: int, today: dt.date, months: int | None, growth: str | None) -> None:
    """Refuse a year, window or growth the plan cannot be drawn up with, before any reading."""
    d.check_year(year, today)
    if months is not None:
        window_months(months)
    if growth is not None:
        d.parse_growth(growth)


def demand_plan_asked(
    store: LedgerStore,
    under: str,
    year: int,
    today: dt.date,
    months: int | None = None,
    growth: str | None = None,
    level: str | None = None,
) -> DemandPlan:
    """The plan with the options as asked: the window 12 months unless 3 or 6 are asked for,
    the growth LEDGER_DEMAND_GROWTH unless given, the rows at 乡镇 unless another level is."""
    window = YEAR_MONTHS if months is None else window_months(months)
    asked = Settings.from_environment().demand_growth if growth is None else growth
    return demand_plan(
        store, under, year, today, window, d.parse_growth(asked), level or DEFAULT_LEVEL
    )
