"""最低库存: the least a place should hold of an item (in base units), set per location and
item by a clerk or an admin and logged; the home page lists the places holding less
(`work_lists`, list `below_minimum`). Who may set one where is the caller's decision
(api/policy.py)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from ledger.db import oplog, work_queries
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database
from ledger.model import Item, Location
from ledger.rules import Code, LedgerError
from ledger.services.checks import base_units
from ledger.services.work import read, write


class StockMinimum(NamedTuple):
    location: Location
    item: Item
    minimum: int  # base units
    on_hand: int  # at the location itself, every batch
    set_by: str  # the user's label
    set_at: dt.datetime

    @property
    def below(self) -> bool:
        return self.on_hand < self.minimum


def set_stock_minimum(
    database: Database,
    location_code: str,
    item_code: str,
    minimum: int,
    actor: int | None = None,
    unit: str | None = None,
) -> int:
    """Set the minimum of `item_code` at `location_code` (in `unit`: a pack name or the base
    unit, default the base unit; 0 sets no floor) and log it; the minimum in base units.
    Refused: an unknown location or item, a virtual location, a negative minimum."""
    if isinstance(minimum, bool) or not isinstance(minimum, int):
        raise LedgerError(Code.invalid_field, "最低库存须为整数 (an integer)", "minimum")
    if minimum < 0:
        raise LedgerError(
            Code.stock_minimum_negative,
            f"最低库存不能为负数：{minimum} (a minimum cannot be negative)",
            "minimum",
        )

    def step(store: LedgerStore) -> int:
        location = store.location(location_code, "location_code")
        if not location.physical:
            raise LedgerError(
                Code.location_must_be_physical,
                f"{location.location.name} 是虚拟库点，不能设最低库存 (a physical location only)",
                "location_code",
            )
        item = store.item(item_code, "item_code")
        if unit not in (None, item.item.base_unit) and item.item.pack(unit) is None:
            base_units(item.item, 1, unit, "unit")  # refuses the unknown unit, beside it
        base = base_units(item.item, minimum, unit, "minimum") if minimum else 0
        before = work_queries.set_minimum(
            store.connection, location.id, item.id, base, actor, dt.datetime.now(dt.UTC)
        )
        unit_name = item.item.base_unit
        oplog.record(
            store,
            "stock_minimum.set",
            "stock_minimum",
            f"{location_code} {item_code}",
            user_id=actor,
            before=None if before is None else {"minimum": before, "unit": unit_name},
            after={"minimum": base, "unit": unit_name},
            location_path=location.path,
        )
        return base

    return write(database, step, actor)


def stock_minimums(database: Database, under: str | None, limit: int = 200) -> list[StockMinimum]:
    """The minimums set at places under `under` (None: everywhere), in tree order, with the
    stock on hand at each place and who set them."""

    def step(store: LedgerStore) -> list[StockMinimum]:
        rows = work_queries.minimums(store.connection, under, limit)
        store.cache_locations(ids={row.location_id for row in rows})
        labels = work_queries.user_labels(store.connection, {row.set_by for row in rows})
        return [
            StockMinimum(
                store.location_by_id(row.location_id).location,
                store.item_by_id(row.item_id).item,
                row.minimum,
                row.on_hand,
                labels.get(row.set_by, "命令行") if row.set_by is not None else "命令行",
                row.set_at,
            )
            for row in rows
        ]

    return read(database, step)
