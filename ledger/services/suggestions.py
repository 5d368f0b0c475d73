"""Suggested request quantities and stock alerts (库存定额, ledger/norms.py) for the places of a
subtree, read in one pass: the movement totals of the AMC window's months and after (consumption
and month-end stock), the write-offs and reversals that change consumption, balances, shipments
in transit, what open requests still expect (on order), the 最低库存 and the norms in force.

`stock_positions` is the one computation; `suggested_request`, `stock_alerts` and the report
`stock_alerts_report` choose from it. A demand plan builds on `stock_positions` (consumption,
AMC, stock per place and item) and on `ledger.norms`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import NamedTuple

from ledger import norms as n
from ledger.db import norm_queries as nq
from ledger.db.norm_queries import Place
from ledger.db.store import LedgerStore
from ledger.model import Item, Location
from ledger.rules import Code, LedgerError
from ledger.settings import Settings

# (target place id, item id) and (target place id, item id, month start)
Pair = tuple[int, int]


class Position(NamedTuple):
    """One place and item: its level, the window's months and the suggestion
    (`ledger.norms.Suggestion`: norm, consumption, min/max stock, on hand, in transit, suggested,
    alert, months of stock)."""

    location: Location
    location_id: int
    level: str
    item: Item
    item_id: int
    months: tuple[n.Month, ...]
    suggestion: n.Suggestion


class _Figures:
    """Sums per target place (each place counts into itself and every target above it)."""

    def __init__(self, places: list[Place], is_target: Callable[[Place], bool]) -> None:
        self.places = places
        targets = {place.id for place in places if is_target(place)}
        self.targets = targets
        target_at = {place.path: place.id for place in places if place.id in targets}
        self.above: dict[int, list[int]] = {}
        for place in places:
            parts = place.path.strip("/").split("/")
            prefixes = ("/" + "/".join(parts[: k + 1]) + "/" for k in range(len(parts)))
            self.above[place.id] = [target_at[p] for p in prefixes if p in target_at]
        self.used: defaultdict[tuple[int, int, dt.date], int] = defaultdict(int)
        self.net: defaultdict[tuple[int, int, dt.date], int] = defaultdict(int)
        self.came_in: set[tuple[int, int, dt.date]] = set()
        self.stock: defaultdict[Pair, int] = defaultdict(int)  # subtree's, now
        self.pairs: set[Pair] = set()

    def add_moves(self, moves: Iterable[nq.MonthMove]) -> None:
        above, net, used, came_in, pairs = self.above, self.net, self.used, self.came_in, self.pairs
        for move in moves:
            for target in above.get(move.location_id, ()):
                key = (target, move.item_id, move.start)
                net[key] += move.net
                if move.came_in:
                    came_in.add(key)
                if move.distributed:
                    used[key] += move.distributed
                pairs.add((target, move.item_id))

    def add_use_changes(self, changes: Iterable[nq.UseChange]) -> None:
        for change in changes:
            start = change.occurred_on.replace(day=1)
            for target in self.above.get(change.location_id, ()):
                self.used[(target, change.item_id, start)] -= change.quantity

    def add_stock(self, on_hand: dict[Pair, int]) -> None:
        for (place, item_id), quantity in on_hand.items():
            for target in self.above.get(place, ()):
                self.stock[(target, item_id)] += quantity
                self.pairs.add((target, item_id))

    def months(self, pair: Pair, window: list[dt.date], later: list[dt.date]) -> tuple:
        """The window's months of a target and item, with the stock at each month's end worked
        back from the stock now through the net movement of the months after it."""
        target, item_id = pair
        stock = self.stock.get(pair, 0)
        for start in later:
            stock -= self.net.get((target, item_id, start), 0)
        out = []
        for start in reversed(window):
            key = (target, item_id, start)
            out.append(n.Month(start, self.used.get(key, 0), stock, key in self.came_in))
            stock -= self.net.get(key, 0)
        return tuple(reversed(out))


def stock_positions(
    store: LedgerStore,
    under: str,
    today: dt.date,
    months: int,
    is_target: Callable[[Place], bool] | None = None,
) -> list[Position]:
    """Every (place, item) of `under`'s subtree (the places `is_target` accepts; default all)
    that has stock, something in transit to it or on order, a 最低库存, or movement in its
    subtree since the window began; in tree order, then item code. Consumption over the
    `months` whole months before `today`'s month; the norms in force `today`; stock and open
    requests as they stand."""
    top = store.location(under, "under")
    window = n.window(today, months)
    connection = store.connection
    places = nq.places_under(connection, top.path)
    figures = _Figures(places, is_target or (lambda place: True))
    figures.add_moves(nq.month_moves(connection, top.path, window[0]))
    figures.add_use_changes(
        nq.use_changes(connection, top.path, window[0], n.USE_WRITE_OFF_REASONS)
    )
    on_hand = nq.on_hand_under(connection, top.path)
    figures.add_stock(on_hand)
    transit = {
        pair: quantity
        for pair, quantity in nq.in_transit_to(connection, top.path).items()
        if pair[0] in figures.targets
    }
    ordered = {
        pair: quantity
        for pair, quantity in nq.on_order_of(connection, top.path).items()
        if pair[0] in figures.targets
    }
    floors = nq.minimums_under(connection, top.path)
    floors = {pair: floor for pair, floor in floors.items() if pair[0] in figures.targets}
    pairs = figures.pairs | set(transit) | set(ordered) | set(floors)
    later = _months_after(window[-1], today)
    settings = [row.setting for row in nq.norm_rows(connection, today)]
    root_id = nq.root_id_of(connection, top.path)  # the city whose level norms apply
    level_of = {place.id: place.level for place in places}
    order = {place.id: index for index, place in enumerate(places)}
    store.cache_locations(ids={pair[0] for pair in pairs})
    out = []
    for pair in pairs:
        place_id, item_id = pair
        item = store.item_by_id(item_id).item
        norm = n.norm_in_force(
            settings, level_of[place_id], place_id, item_id, today, root_id=root_id
        )
        month_list = figures.months(pair, window, later)
        used = n.consumption(month_list, n.ignores_stock_outs(item.kind))
        suggestion = n.suggest(
            norm,
            used,
            on_hand.get(pair, 0),
            transit.get(pair, 0),
            n.request_pack_size(item),
            floors.get(pair, 0),
            ordered.get(pair, 0),
        )
        location = store.location_by_id(place_id).location
        out.append(
            Position(location, place_id, level_of[place_id], item, item_id, month_list, suggestion)
        )
    out.sort(key=lambda p: (order[p.location_id], p.item.code))
    return out


def _months_after(last: dt.date, today: dt.date) -> list[dt.date]:
    """The month starts after `last` up to `today`'s month."""
    out, start = [], last
    while start < today.replace(day=1):
        start = (start + dt.timedelta(days=32)).replace(day=1)
        out.append(start)
    return out


def suggested_request(
    store: LedgerStore, location_code: str, today: dt.date, months: int
) -> list[Position]:
    """The suggestion of each item for `location_code` itself (its subtree's consumption, its
    own stock): what its next request should ask for."""
    top = store.location(location_code, "location_code")
    return stock_positions(store, location_code, today, months, lambda p: p.id == top.id)


def stock_alerts(
    store: LedgerStore, under: str, today: dt.date, months: int, level: str | None = None
) -> list[Position]:
    """The places under `under` (of `level`, when given) holding less than their minimum (补货)
    or more than their maximum (积压), in tree order; for the home page and the report."""
    accept = None if level is None else (lambda place: place.level == level)
    return [
        p
        for p in stock_positions(store, under, today, months, accept)
        if p.suggestion.alert is not None
    ]


def window_months(months: int | None) -> int:
    """The AMC window asked for (3, 6 or 12), or the setting LEDGER_AMC_MONTHS."""
    if months is None:
        return Settings.from_environment().amc_months
    if isinstance(months, bool) or months not in n.WINDOW_MONTHS:
        raise LedgerError(
            Code.invalid_field, f"月数只能是 3、6 或 12：{months!r} (window months)", "months"
        )
    return months


def suggested_quantities(store: LedgerStore, location_code: str, today: dt.date) -> dict[int, int]:
    """Item id → the suggested request quantity of `location_code` today (over the window of
    LEDGER_AMC_MONTHS); kept on a request's lines beside what was asked."""
    positions = suggested_request(store, location_code, today, window_months(None))
    return {p.item_id: p.suggestion.suggested for p in positions}
