"""What the spreadsheet imports (`ledger.services.import_*`) read of the ledger in one go, and
the populations they write. Functions over the unit of work's store; they never commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import NamedTuple

from sqlalchemy import bindparam, select, update

from ledger.db import tables as t
from ledger.db.store import LedgerStore
from ledger.model import Item, ItemKind, Pack, TransactionKind


def _date(value) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def items(store: LedgerStore) -> dict[str, Item]:
    """Every item by code, with its packs in order."""
    ip = t.item_packs.c
    packs: dict[int, list[Pack]] = {}
    for row in store.connection.execute(
        select(ip.item_id, ip.name, ip.base_units).order_by(ip.item_id, ip.position)
    ):
        packs.setdefault(row.item_id, []).append(Pack(row.name, row.base_units))
    return {
        r.code: Item(
            r.code,
            r.name,
            ItemKind(r.kind),
            r.category,
            r.base_unit,
            tuple(packs.get(r.id, ())),
            r.expiry_tracked,
        )
        for r in store.connection.execute(select(t.items))
    }


class LocationRow(NamedTuple):
    code: str
    name: str
    level: str
    parent_code: str | None
    path: str
    population: int | None


def physical_locations(store: LedgerStore) -> list[LocationRow]:
    loc = t.locations.c
    parent = t.locations.alias("parent")
    rows = store.connection.execute(
        select(
            loc.code,
            loc.name,
            loc.level,
            parent.c.code.label("parent_code"),
            loc.path,
            loc.population,
        )
        .select_from(t.locations.outerjoin(parent, parent.c.id == loc.parent_id))
        .where(loc.physical.is_(True))
    ).all()
    return [LocationRow(*row) for row in rows]


def set_populations(store: LedgerStore, values: Mapping[str, int | None]) -> None:
    """人口 by location code."""
    loc = t.locations.c
    store.connection.execute(
        update(t.locations)
        .where(loc.code == bindparam("location_code"))
        .values(population=bindparam("value")),
        [{"location_code": code, "value": value} for code, value in values.items()],
    )


class PlaceRow(NamedTuple):
    code: str
    id: int
    name: str
    physical: bool
    path: str


def places(store: LedgerStore) -> list[PlaceRow]:
    """Every location, physical or virtual."""
    loc = t.locations.c
    rows = store.connection.execute(select(loc.code, loc.id, loc.name, loc.physical, loc.path))
    return [PlaceRow(r.code, r.id, r.name, bool(r.physical), r.path) for r in rows]


def batch_dates(
    store: LedgerStore, item_codes: list[str]
) -> dict[tuple[str, str], tuple[dt.date | None, dt.date | None]]:
    """(item, batch) → (produced_on, expires_on) of the batches of these items."""
    if not item_codes:
        return {}
    b, i = t.batches.c, t.items.c
    rows = store.connection.execute(
        select(i.code, b.number, b.produced_on, b.expires_on)
        .join(t.items, i.id == b.item_id)
        .where(i.code.in_(bindparam("codes", expanding=True))),
        {"codes": item_codes},
    )
    return {(r[0], r[1]): (_date(r[2]), _date(r[3])) for r in rows}


class OpeningRow(NamedTuple):
    location_code: str
    number: str
    occurred_on: dt.date
    lines: dict[tuple[str, str], int]  # (item code, batch number) → base units


def openings(store: LedgerStore) -> list[OpeningRow]:
    """Every location's unreversed opening, with its lines at that location."""
    store.flush()
    tx, reversal, loc = t.transactions.alias("tx"), t.transactions.alias("rev"), t.locations
    found = store.connection.execute(
        select(tx.c.id, tx.c.number, tx.c.occurred_on, tx.c.location_id, loc.c.code)
        .join(loc, loc.c.id == tx.c.location_id)
        .outerjoin(reversal, reversal.c.reverses_id == tx.c.id)
        .where(tx.c.kind == TransactionKind.opening.value, reversal.c.id.is_(None))
    ).all()
    if not found:
        return []
    p, i, b = t.postings.c, t.items.c, t.batches.c
    lines: dict[int, dict[tuple[str, str], int]] = {row.id: {} for row in found}
    where = {row.id: row.location_id for row in found}
    for row in store.connection.execute(
        select(p.transaction_id, p.location_id, i.code, b.number, p.quantity)
        .join(t.items, i.id == p.item_id)
        .join(t.batches, b.id == p.batch_id)
        .where(p.transaction_id.in_(bindparam("ids", expanding=True))),
        {"ids": list(lines)},
    ):
        if row.location_id == where[row.transaction_id]:
            key = (row.code, row.number)
            lines[row.transaction_id][key] = lines[row.transaction_id].get(key, 0) + row.quantity
    return [
        OpeningRow(row.code, row.number, _date(row.occurred_on), lines[row.id])  # type: ignore[arg-type]
        for row in found
    ]
