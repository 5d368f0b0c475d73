"""The 库存 tree's reads: one level of the location tree (the places right under a location,
with how many places each has right under it) and the stock of a location and of the places
right under it, summed per item in SQL — each place's own stock, and its whole subtree's
(matched by path prefix) — now or at the end of a day. Physical locations only (the shared
virtual places are not in anyone's subtree). Reads never lock and never write.

The subtree sums read every balance under the location once, in the database: a city's
tree is tens of thousands of balance lines, of which the page shows a few hundred figures."""

from __future__ import annotations

import datetime as dt
import functools
from typing import NamedTuple

from sqlalchemy import Connection, Date, bindparam, func, select

from ledger.db import tables as t

_L, _B, _P, _I = t.locations.c, t.balances.c, t.postings.c, t.items.c


class TreePlace(NamedTuple):
    """A physical location of the tree; children: how many physical locations are right
    under it."""

    id: int
    code: str
    name: str
    level: str
    path: str
    children: int


# location code → item code → on hand (items without stock left out)
PerItem = dict[str, dict[str, int]]


def places_under(connection: Connection, parent_id: int | None) -> list[TreePlace]:
    """The physical locations right under `parent_id` (None: the roots) in tree order (by
    path), each with its own count of places right under it."""
    statement = _places_statement(parent_id is not None)
    return [TreePlace(*row) for row in connection.execute(statement, {"parent_id": parent_id})]


def subtree_totals(
    connection: Connection,
    parent: tuple[int, str] | None,
    item_code: str | None = None,
    as_of: dt.date | None = None,
) -> PerItem:
    """Per physical location right under `parent` (its id and path; None: per root), its
    whole subtree's (itself included) on hand per item (of `item_code` alone when given), now
    or at the end of `as_of`: one grouped read of the balances below, by path prefix."""
    parent_id, under_path = parent if parent is not None else (None, None)
    statement = _totals_statement(parent is not None, item_code is not None, as_of is not None)
    parameters = {
        "parent_id": parent_id,
        "under_pattern": None if under_path is None else f"{_escape_like(under_path)}%",
        "item_code": item_code,
        "as_of": as_of,
    }
    return _per_item(connection.execute(statement, parameters))


def own_stock(
    connection: Connection,
    location_ids: list[int],
    item_code: str | None = None,
    as_of: dt.date | None = None,
) -> PerItem:
    """Per location of `location_ids`, its own on hand per item (of `item_code` alone when
    given), now or at the end of `as_of`."""
    if not location_ids:
        return {}
    statement = _own_statement(item_code is not None, as_of is not None)
    parameters = {"location_ids": location_ids, "item_code": item_code, "as_of": as_of}
    return _per_item(connection.execute(statement, parameters))


# The statements are built once per combination of filters (building one costs about as much
# as running it); the values come in as bound parameters.


def _escape_like(text: str) -> str:
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _parent_is(columns, by_parent: bool):
    return columns.parent_id == bindparam("parent_id") if by_parent else columns.parent_id.is_(None)


@functools.cache
def _places_statement(by_parent: bool):
    grand = t.locations.alias("grand")
    return (
        select(_L.id, _L.code, _L.name, _L.level, _L.path, func.count(grand.c.id))
        .outerjoin(grand, (grand.c.parent_id == _L.id) & grand.c.physical.is_(True))
        .where(_L.physical.is_(True), _parent_is(_L, by_parent))
        .group_by(_L.id, _L.code, _L.name, _L.level, _L.path)
        .order_by(_L.path)
    )


@functools.cache
def _totals_statement(by_parent: bool, by_item: bool, as_of: bool):
    child = t.locations.alias("child")
    place = t.locations.alias("place")
    # A place's child is the child whose path is the place's path cut to that path's length:
    # an equality, looked up by the index on the path once per length the children's paths
    # have (usually one), rather than every place compared with every child. A child itself,
    # cut to a longer length, is found once more (substr stops at the end): the same child.
    lengths = (
        select(func.length(child.c.path).label("length"))
        .where(_parent_is(child.c, by_parent), child.c.physical.is_(True))
        .distinct()
        .cte("child_path_lengths")
        .prefix_with("MATERIALIZED")
    )
    child_of_place = (
        select(child.c.code)
        .select_from(lengths)
        .join(child, child.c.path == func.substr(place.c.path, 1, lengths.c.length))
        .where(_parent_is(child.c, by_parent), child.c.physical.is_(True))
        .limit(1)
        .scalar_subquery()
    )
    # Every place under the top (all physical: a virtual place is a root) with its child, made
    # first: as plainly a filter of the locations table, so that SQLite reads each place's
    # balances by their key rather than building an index of every balance for a small
    # subtree.
    places = select(place.c.id.label("location_id"), child_of_place.label("child"))
    if by_parent:
        places = places.where(
            place.c.path.like(bindparam("under_pattern"), escape="/"),
            place.c.id != bindparam("parent_id"),
        )
    else:
        places = places.where(place.c.physical.is_(True))
    mapping = places.cte("subtree_of_child").prefix_with("MATERIALIZED")
    source = _source(by_item, as_of)
    sums = (
        select(mapping.c.child, source.c.item_id, func.sum(source.c.on_hand).label("on_hand"))
        .join(source, source.c.location_id == mapping.c.location_id)
        .group_by(mapping.c.child, source.c.item_id)
    )
    if not as_of:  # a stored balance of zero adds nothing: fewer rows to group
        sums = sums.where(source.c.on_hand != 0)
    return _named(sums.subquery("sums"))


@functools.cache
def _own_statement(by_item: bool, as_of: bool):
    source = _source(by_item, as_of)
    sums = (
        select(
            _L.code.label("child"), source.c.item_id, func.sum(source.c.on_hand).label("on_hand")
        )
        .join(source, source.c.location_id == _L.id)
        .where(_L.id.in_(bindparam("location_ids", expanding=True)))
        .group_by(_L.code, source.c.item_id)
    )
    return _named(sums.subquery("sums"))


def _source(by_item: bool, as_of: bool):
    """Every account's on hand (location_id, item_id, on_hand): the stored balance now, or at
    the end of the day `as_of` the running balance of its last posting on or before that day
    (one index lookup per account: a physical account's postings are in date order; an
    account opened later reads 0). Accounts are the balances table's rows (every account that
    has postings has one)."""
    columns = [_B.location_id, _B.item_id]
    if not as_of:
        query = select(*columns, _B.on_hand.label("on_hand"))
    else:
        last = (
            select(_P.balance_after)
            .where(
                _P.location_id == _B.location_id,
                _P.item_id == _B.item_id,
                _P.batch_id == _B.batch_id,
                _P.occurred_on <= bindparam("as_of", type_=Date),
            )
            .order_by(_P.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        query = select(*columns, func.coalesce(last, 0).label("on_hand"))
    if by_item:
        item_id = select(_I.id).where(_I.code == bindparam("item_code")).scalar_subquery()
        query = query.where(_B.item_id == item_id)
    return query.subquery("stock")


def _named(sums):
    """A grouped read (child, item_id, on_hand) with the item's code, joined after grouping."""
    return select(sums.c.child, _I.code, sums.c.on_hand).join(t.items, _I.id == sums.c.item_id)


def _per_item(rows) -> PerItem:
    """{location code: {item code: on hand}}, zero sums left out."""
    found: PerItem = {}
    for code, item_code, on_hand in rows:
        if on_hand:
            found.setdefault(code, {})[item_code] = int(on_hand)
    return found
