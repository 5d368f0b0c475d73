"""The figures of a 年度需求计划, read in one pass over a subtree and added up per row, not per
place: the rows partition the subtree (ledger/services/demand_plan.py), so each month total,
balance and shipment counts into one row, and the rows above another add theirs up the short
tree of rows. Month totals come from the movement totals kept by the posting path
(`norm_queries.month_moves`), consumption changes from the few write-off and reversal vouchers,
stock from the balances, in transit from the open shipments, on order from the open requests:
the queries the suggestions use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import StrEnum

from ledger import demand as d
from ledger import norms as n
from ledger.db import demand_queries as dq
from ledger.db import norm_queries as nq
from ledger.db.norm_queries import Place


class Scope(StrEnum):
    own = "own"  # 本级: the place's own store
    area = "area"  # 含下级: the place and every place below it


class Rows:
    """Which row each place of the subtree counts in, and the tree of the rows. A place of the
    rows' level (or the top, when it is below that level) is an area row; a place above it is
    an own row; a place below an area row counts in it."""

    def __init__(self, places: list[Place], top_level: str, level: str) -> None:
        cut = self.cut = max(d.LEVEL_RANKS[level], d.LEVEL_RANKS[top_level])
        by_path = {place.path: place for place in places}
        self.row_of: dict[int, int] = {}
        self.scope: dict[int, Scope] = {}
        self.parent: dict[int, int | None] = {}
        self.level = {place.id: place.level for place in places}
        self.order = {place.id: index for index, place in enumerate(places)}
        for place in places:  # in tree order: a parent before its children
            parent = by_path.get(place.path[: place.path.rstrip("/").rfind("/") + 1])
            self.parent[place.id] = parent.id if parent else None
            inside = self.row_of[parent.id] if parent is not None else None
            if inside is not None and self.scope[inside] is Scope.area:
                self.row_of[place.id] = inside
                continue
            self.row_of[place.id] = place.id
            own = d.LEVEL_RANKS[place.level] < cut
            self.scope[place.id] = Scope.own if own else Scope.area

    def above(self, place_id: int) -> Iterable[int]:
        """The places above `place_id` in the subtree, nearest first (every one a row)."""
        parent = self.parent[place_id]
        while parent is not None:
            yield parent
            parent = self.parent[parent]

    def county(self, place_id: int) -> int | None:
        for candidate in (place_id, *self.above(place_id)):
            if self.level[candidate] == "county":
                return candidate
        return None


class Sums:
    """Of one row (or subtree) and item: per month of the window and after it, consumption, net
    movement and whether anything came in; the stock now, in transit to it, and on order
    (`ordered`: what its places' open requests to places of other rows, or above the plan,
    still expect, less what other rows' open requests expect of its places — stock that will
    leave it — so that rows added up count an order inside the plan once, not twice)."""

    __slots__ = ("came", "net", "ordered", "stock", "transit", "used")

    def __init__(self, months: int) -> None:
        self.used = [0] * months
        self.net = [0] * months
        self.came = [False] * months
        self.stock = 0
        self.transit = 0
        self.ordered = 0

    def add(self, other: Sums) -> None:
        for i, value in enumerate(other.used):
            self.used[i] += value
        for i, value in enumerate(other.net):
            self.net[i] += value
        self.came = [a or b for a, b in zip(self.came, other.came, strict=True)]
        self.stock += other.stock
        self.transit += other.transit
        self.ordered += other.ordered

    def months(self, window: list[dt.date], used: list[int] | None = None) -> tuple[n.Month, ...]:
        """The window's months, the stock at each one's end worked back from the stock now
        through the net movement after it; `used` in place of this one's consumption."""
        spent = self.used if used is None else used
        stock = self.stock - sum(self.net[len(window) :])
        out = []
        for i in range(len(window) - 1, -1, -1):
            out.append(n.Month(window[i], spent[i], stock, self.came[i]))
            stock -= self.net[i]
        return tuple(reversed(out))


def months_after(last: dt.date, today: dt.date) -> list[dt.date]:
    """The month starts after `last` up to `today`'s month."""
    out, start = [], last
    while start < today.replace(day=1):
        start = (start + dt.timedelta(days=32)).replace(day=1)
        out.append(start)
    return out


Key = tuple[int, int]  # (row place id, item id)


def read_sums(
    connection, path: str, rows: Rows, window: list[dt.date], today: dt.date
) -> tuple[dict[Key, Sums], dict[Key, Sums]]:
    """(own, subtree): each row's own part's sums per item, and each row's whole subtree's (an
    area row's are its own)."""
    starts = window + months_after(window[-1], today)
    index = {start: i for i, start in enumerate(starts)}
    size, row_of = len(starts), rows.row_of
    own: dict[Key, Sums] = {}

    def at(place_id: int, item_id: int) -> Sums:
        key = (row_of[place_id], item_id)
        sums = own.get(key)
        if sums is None:
            sums = own[key] = Sums(size)
        return sums

    cut = rows.cut
    rolled = tuple(level for level, rank in d.LEVEL_RANKS.items() if rank > cut)
    into = tuple(level for level, rank in d.LEVEL_RANKS.items() if rank >= cut)
    for place_id, item_id, start, net, came_in, distributed in dq.month_moves_by_row(
        connection, path, window[0], rolled, into
    ):
        i = index.get(start)
        if i is None:
            continue
        sums = at(place_id, item_id)
        sums.net[i] += net
        sums.used[i] += distributed
        if came_in:
            sums.came[i] = True
    for change in nq.use_changes(connection, path, window[0], n.USE_WRITE_OFF_REASONS):
        i = index.get(change.occurred_on.replace(day=1))
        if i is not None:
            at(change.location_id, change.item_id).used[i] -= change.quantity
    for (place_id, item_id), quantity in nq.on_hand_under(connection, path).items():
        at(place_id, item_id).stock += quantity
    for (place_id, item_id), quantity in nq.in_transit_to(connection, path).items():
        at(place_id, item_id).transit += quantity
    for order in nq.on_order_under(connection, path):
        supplier = row_of.get(order.supplier_id)  # None: above the plan
        if supplier == row_of[order.requester_id]:
            continue  # inside one row: its stock only moves within it
        at(order.requester_id, order.item_id).ordered += order.quantity
        if supplier is not None:
            at(order.supplier_id, order.item_id).ordered -= order.quantity
    subtree: dict[Key, Sums] = {}
    for (row, item_id), sums in own.items():
        for target in (row, *rows.above(row)):
            whole = subtree.get((target, item_id))
            if whole is None:
                whole = subtree[(target, item_id)] = Sums(size)
            whole.add(sums)
    return own, subtree
