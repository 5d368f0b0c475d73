"""Storage for changing reference data by versions (`ledger.services.reference`): the rows a
change reads (locked on PostgreSQL until commit) and rewrites, and the history it must not
contradict. Each `*_rows` function gives the condition `LedgerStore.reload_changed` reloads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from sqlalchemy import and_, func, literal, select, update

from ledger.db import tables as t
from ledger.db.store import LedgerStore
from ledger.model import Pack, TransactionKind

_B, _L, _I, _IP = t.batches.c, t.locations.c, t.items.c, t.item_packs.c


def _locked(store: LedgerStore, query, of=None):
    """The row a change reads and rewrites, locked on PostgreSQL until commit (SQLite's one
    writer already serialises changes)."""
    if store.for_update:
        query = query.with_for_update(of=of)
    return store.connection.execute(query).one()


def _day(value) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


# ---- batches ------------------------------------------------------------------------------------


def locked_batch_dates(store: LedgerStore, batch_id: int) -> tuple[dt.date | None, dt.date | None]:
    """(produced_on, expires_on) as stored."""
    row = _locked(store, select(_B.produced_on, _B.expires_on).where(_B.id == batch_id))
    return _day(row.produced_on), _day(row.expires_on)


def set_batch_dates(
    store: LedgerStore, batch_id: int, produced: dt.date | None, expires: dt.date | None
) -> None:
    store.connection.execute(
        update(t.batches).where(_B.id == batch_id).values(produced_on=produced, expires_on=expires)
    )


def batch_rows(batch_id: int):
    return _B.id == batch_id


def last_outgoing_after(
    store: LedgerStore,
    item_id: int,
    batch_id: int,
    after: dt.date,
    kinds: Iterable[TransactionKind],
) -> tuple[str, dt.date] | None:
    """The latest voucher of one of `kinds` that took the batch out of a place after `after`:
    (its number, its day)."""
    bal, p, tx = t.balances.c, t.postings.c, t.transactions.c
    found = store.connection.execute(
        select(tx.number, tx.occurred_on)
        .select_from(t.balances)
        .join(
            t.postings,
            and_(
                p.location_id == bal.location_id,
                p.item_id == bal.item_id,
                p.batch_id == bal.batch_id,
            ),
        )
        .join(t.transactions, tx.id == p.transaction_id)
        .where(
            bal.item_id == item_id,
            bal.batch_id == batch_id,
            p.quantity < 0,
            p.occurred_on > after,
            tx.kind.in_([kind.value for kind in kinds]),
        )
        .order_by(p.occurred_on.desc(), tx.id.desc())
        .limit(1)
    ).first()
    if found is None:
        return None
    day = _day(found.occurred_on)
    assert day is not None
    return found.number, day


# ---- locations ----------------------------------------------------------------------------------


class StoredLocation(NamedTuple):
    name: str
    level: str
    path: str
    parent_code: str | None


def lock_root(store: LedgerStore, root_code: str) -> None:
    """Hold the city's root row until commit: one change at a time per city (a move rewrites
    the paths of a whole subtree, which another move in the same city may overlap)."""
    _locked(store, select(_L.id).where(_L.code == root_code))


def locked_location(store: LedgerStore, location_id: int) -> StoredLocation:
    parent = t.locations.alias("parent")
    row = _locked(
        store,
        select(_L.name, _L.level, _L.path, parent.c.code.label("parent_code"))
        .select_from(t.locations)
        .outerjoin(parent, parent.c.id == _L.parent_id)
        .where(_L.id == location_id),
        of=t.locations,
    )
    return StoredLocation(row.name, row.level, row.path, row.parent_code)


def stored_path(store: LedgerStore, location_id: int) -> str:
    """The location's path as stored now (a cache may lag behind another process's move)."""
    return store.connection.execute(select(_L.path).where(_L.id == location_id)).scalar_one()


def deepest_path_length(store: LedgerStore, path: str) -> int | None:
    """The length of the longest path in the subtree at `path`."""
    query = select(func.max(func.length(_L.path))).where(func.substr(_L.path, 1, len(path)) == path)
    return store.connection.execute(query).scalar_one()


def rename_location(store: LedgerStore, location_id: int, name: str) -> None:
    store.connection.execute(update(t.locations).where(_L.id == location_id).values(name=name))


def move_location(
    store: LedgerStore, location_id: int, parent_id: int, old_path: str, new_path: str
) -> None:
    """Put the location under `parent_id`; every path under the old one gets the new prefix and
    keeps the rest (codes from the root down)."""
    store.connection.execute(
        update(t.locations).where(_L.id == location_id).values(parent_id=parent_id)
    )
    store.connection.execute(
        update(t.locations)
        .where(subtree_rows(old_path))
        .values(path=literal(new_path) + func.substr(_L.path, len(old_path) + 1))
    )


def subtree_rows(path: str):
    return func.substr(_L.path, 1, len(path)) == path


def location_rows(location_id: int):
    return _L.id == location_id


# ---- items --------------------------------------------------------------------------------------


class StoredItem(NamedTuple):
    name: str
    category: str
    base_unit: str
    packs: tuple[Pack, ...]


def locked_item(store: LedgerStore, item_id: int) -> StoredItem:
    row = _locked(store, select(_I.name, _I.category, _I.base_unit).where(_I.id == item_id))
    packs = tuple(
        Pack(name, base_units)
        for name, base_units in store.connection.execute(
            select(_IP.name, _IP.base_units).where(_IP.item_id == item_id).order_by(_IP.position)
        )
    )
    return StoredItem(row.name, row.category, row.base_unit, packs)


def update_item(store: LedgerStore, item_id: int, name: str, category: str, base_unit: str) -> None:
    store.connection.execute(
        update(t.items)
        .where(_I.id == item_id)
        .values(name=name, category=category, base_unit=base_unit)
    )


def replace_packs(store: LedgerStore, item_id: int, packs: Sequence[Pack]) -> None:
    store.connection.execute(t.item_packs.delete().where(_IP.item_id == item_id))
    if packs:
        store.connection.execute(
            t.item_packs.insert(),
            [
                {"item_id": item_id, "position": n, "name": p.name, "base_units": p.base_units}
                for n, p in enumerate(packs)
            ],
        )


def item_rows(item_id: int):
    return _I.id == item_id


# What holds quantities of an item in its base unit, in the order a refusal names them.
QUANTITIES_OF_ITEM = ("batches", "requests", "stocktakes")
_TABLES = {
    "batches": t.batches,
    "requests": t.allocation_request_lines,
    "stocktakes": t.stocktake_lines,
}


def first_use_of_item(store: LedgerStore, item_id: int) -> str | None:
    """The first of QUANTITIES_OF_ITEM with a row of the item, or None."""
    for name in QUANTITIES_OF_ITEM:
        table = _TABLES[name]
        query = select(literal(1)).select_from(table).where(table.c.item_id == item_id).limit(1)
        if store.connection.execute(query).first():
            return name
    return None
