"""库存 over the location tree: one location and its children, each with its own stock and its
subtree's total per item (the roll-up), now or at the end of a day; and the shared virtual
places' stock as a user of one root reads it.

The tree's figures are summed in the database, per place shown and item
(ledger/db/stock_tree_queries.py), from what the balances use case reads
(ledger/services/balances.py): the stored balances now, each account's running balance at the
end of a past day; only the level shown is read. The virtual places' figures are the balances
use case's. Which subtree a user may read is the caller's decision (api/policy.py): `top` is a
location the caller has checked, or None for every root."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from ledger.db import stock_tree_queries
from ledger.db.unit_of_work import Database
from ledger.model import Item, LocationLevel
from ledger.services import lookups
from ledger.services.balances import BalanceQuery, balances

# every virtual place: a ledger holds a handful
_ALL = 1_000_000


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


def stock_tree(
    database: Database,
    top: lookups.LocationEntry | None,
    root_path: str | None,
    item_code: str | None = None,
    as_of: dt.date | None = None,
) -> StockTree:
    """`top` and its children with their own and rolled-up stock (of one item when given),
    now or at the end of `as_of`. Only the level shown is read: the subtree totals are summed
    in the database per child. `root_path` (the user's root) changes nothing here: the shared
    virtual places, read per root, are in no physical subtree."""
    del root_path
    parent_id = top.id if top is not None else None
    with database.read(snapshot=True) as connection:  # figures of one moment
        places = stock_tree_queries.places_under(connection, parent_id)
        ids = ([parent_id] if parent_id is not None else []) + [place.id for place in places]
        own = stock_tree_queries.own_stock(connection, ids, item_code, as_of)
        parent = (top.id, top.path) if top is not None else None
        total = stock_tree_queries.subtree_totals(connection, parent, item_code, as_of)
    children = [_node(place, own, total.get(place.code, {})) for place in places]
    top_node = None
    if top is not None:
        code = top.location.code
        top_total = dict(own.get(code, {}))
        for child in children:
            for item, quantity in child.total.items():
                top_total[item] = top_total.get(item, 0) + quantity
        place = stock_tree_queries.TreePlace(
            top.id, code, top.location.name, top.location.level.value, top.path, len(places)
        )
        top_node = _node(place, own, top_total)
    shown = [top_node] if top_node is not None else []
    codes = {code for node in shown + children for code in node.total}
    return StockTree(top_node, children, _items(database, codes))


def _node(
    place: stock_tree_queries.TreePlace, own: stock_tree_queries.PerItem, total: dict[str, int]
) -> TreeNode:
    return TreeNode(
        place.code,
        place.name,
        place.level,
        place.path,
        place.children,
        _nonzero(own.get(place.code, {})),
        _nonzero(total),
    )


def _items(database: Database, codes: set[str]) -> dict[str, Item]:
    """The items of `codes` with their packs, by code: one read."""
    if not codes:
        return {}
    return database.lookup(lambda store: {code: store.item(code).item for code in sorted(codes)})


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
    return found, _items(database, codes)
