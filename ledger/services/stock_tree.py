"""库存 over the location tree: one location and its children, each with its own stock and its
subtree's total per item (the roll-up), now or at the end of a day; and the shared virtual
places' stock as a user of one root reads it.

The figures are the balances use case's (ledger/services/balances.py); this module only adds
them up along the tree. Which subtree a user may read is the caller's decision
(api/policy.py): `top` is a location the caller has checked, or None for every root."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from ledger.db.unit_of_work import Database
from ledger.model import Item, LocationLevel
from ledger.services import lookups
from ledger.services.balances import Balance, BalanceQuery, balances

# every location below a top: a city holds a few thousand
_ALL = 1_000_000


class ItemName(NamedTuple):
    code: str
    name: str
    unit: str


class TreeNode(NamedTuple):
    """A location of the tree. own / total: item code → on hand at the location itself / in
    its whole subtree (itself included), items without stock left out. children: how many
    locations are right under it."""

    code: str
    name: str
    level: str
    path: str
    children: int
    own: dict[str, int]
    total: dict[str, int]


class StockTree(NamedTuple):
    """top (None: every root, for a global admin), the locations right under it, and the
    items that appear, by code (with their packs, for quantities in packs)."""

    top: TreeNode | None
    children: list[TreeNode]
    items: dict[str, Item]


def _depth(path: str) -> int:
    return path.count("/") - 1  # '/510100/' is 1, '/510100/510121/' is 2


def stock_tree(
    database: Database,
    top: lookups.LocationEntry | None,
    root_path: str | None,
    item_code: str | None = None,
    as_of: dt.date | None = None,
) -> StockTree:
    """`top` and its children with their own and rolled-up stock (of one item when given),
    now or at the end of `as_of`."""
    under = top.path if top is not None else None
    places = lookups.locations(database, under, None, False, _ALL, 0)
    query = BalanceQuery(under=under, root_path=root_path, item_code=item_code, as_of=as_of)
    lines = balances(database, query, "account")
    own: dict[str, dict[str, int]] = {}
    total: dict[str, dict[str, int]] = {}
    path_of = {place.code: place.path for place in places}
    for line in lines:
        assert line.location_code is not None  # account lines name their location
        _add(own, line.location_code, line)
        path = path_of.get(line.location_code, "")
        segments = path.strip("/").split("/")
        for depth in range(1, len(segments) + 1):
            _add(total, segments[depth - 1], line)
    count: dict[str, int] = {}
    for place in places:
        if place.parent_code is not None:
            count[place.parent_code] = count.get(place.parent_code, 0) + 1

    def node(place: lookups.LocationRecord) -> TreeNode:
        return TreeNode(
            place.code,
            place.name,
            place.level,
            place.path,
            count.get(place.code, 0),
            _nonzero(own.get(place.code, {})),
            _nonzero(total.get(place.code, {})),
        )

    depth = _depth(under) + 1 if under is not None else 1
    top_node = next((node(p) for p in places if p.path == under), None)
    children = [node(p) for p in places if _depth(p.path) == depth]
    codes = sorted({line.item_code for line in lines})
    items = {code: lookups.item(database, code) for code in codes}
    return StockTree(top_node, children, items)


def _add(sums: dict[str, dict[str, int]], code: str, line: Balance) -> None:
    per_item = sums.setdefault(code, {})
    per_item[line.item_code] = per_item.get(line.item_code, 0) + line.on_hand


def _nonzero(per_item: dict[str, int]) -> dict[str, int]:
    return {code: quantity for code, quantity in sorted(per_item.items()) if quantity}


class VirtualStock(NamedTuple):
    """A shared virtual place (在途, 供货方 …) and its stock per item, as `root_path` reads it."""

    code: str
    name: str
    total: dict[str, int]


def virtual_stock(
    database: Database,
    root_path: str | None,
    item_code: str | None = None,
    as_of: dt.date | None = None,
) -> tuple[list[VirtualStock], dict[str, Item]]:
    """Every virtual place's stock per item: a root's share of it (`root_path`), or the stored
    balance (None: a global admin's reading); with the items that appear."""
    places = lookups.locations(database, None, LocationLevel.virtual.value, True, _ALL, 0)
    found: list[VirtualStock] = []
    codes: set[str] = set()
    for place in places:
        query = BalanceQuery(
            location_code=place.code,
            virtual=True,
            root_path=root_path,
            item_code=item_code,
            as_of=as_of,
        )
        rows = balances(database, query, "item")
        per_item = _nonzero({row.item_code: row.on_hand for row in rows})
        codes.update(per_item)
        found.append(VirtualStock(place.code, place.name, per_item))
    return found, {code: lookups.item(database, code) for code in sorted(codes)}
