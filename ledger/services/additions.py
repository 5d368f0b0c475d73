"""New reference data: an item, a location (under a parent of the level above)."""

from __future__ import annotations

import datetime as dt

import msgspec

from ledger import commands as c
from ledger.limits import (
    location_path_length_max,
    name_length_max,
)
from ledger.model import Item, Location, LocationLevel
from ledger.rules import Code, LedgerError, check_text
from ledger.services.checks import check_code, check_item
from ledger.services.ports import Store


def add_item(store: Store, command: c.AddItem, today: dt.date) -> Item:
    item = command.item
    check_code(item.code, "code")
    check_item(item)
    store.add_item(item)
    store.record_operation(
        "item.add",
        "item",
        item.code,
        user_id=store.maker_id,
        after=msgspec.to_builtins(item),
    )
    return item


def add_location(store: Store, command: c.AddLocation, today: dt.date) -> Location:
    location = command.location
    check_code(location.code, "code")
    check_text(location.name, "name", name_length_max)
    check_location_level(store, location)
    if location.level is LocationLevel.virtual:
        raise LedgerError(
            Code.location_must_be_physical,
            "虚拟库点是固定的，不能新增 (virtual locations are fixed)",
            "level",
        )
    if location.level is not LocationLevel.city and location.parent_code is None:
        raise LedgerError(
            Code.location_level, "区县、乡镇和村需要上级库点 (parent required)", "parent_code"
        )
    entry = store.add_location(location)
    store.record_operation(
        "location.add",
        "location",
        location.code,
        user_id=store.maker_id,
        after=msgspec.to_builtins(location),
        location_path=entry.path,
    )
    return location


# The level a location's parent must have; a city (市) is a root and has none.
PARENT_LEVEL: dict[LocationLevel, LocationLevel | None] = {
    LocationLevel.city: None,
    LocationLevel.county: LocationLevel.city,
    LocationLevel.township: LocationLevel.county,
    LocationLevel.village: LocationLevel.township,
}
LEVEL_NAMES = {
    LocationLevel.city: "市",
    LocationLevel.county: "区(市)县",
    LocationLevel.township: "乡镇/街道",
    LocationLevel.village: "村/社区",
    LocationLevel.virtual: "虚拟库点",
}


def check_location_level(store: Store, location: Location) -> None:
    """村 under a 乡镇, 乡镇 under a 区县, 区县 under a 市, a 市 at the root; and the code path from
    the root down fits what storage holds. (A virtual location or a missing parent is refused
    by the caller.)"""
    if location.level not in PARENT_LEVEL:
        return
    expected = PARENT_LEVEL[location.level]
    name = LEVEL_NAMES[location.level]
    if expected is None:
        if location.parent_code is not None:
            raise LedgerError(
                Code.location_level,
                f"{name}是最上级库点，不能有上级 (a city is a root and has no parent)",
                "parent_code",
            )
        return
    if location.parent_code is None:
        return
    parent = store.location(location.parent_code, "parent_code")
    if parent.location.level is not expected:
        raise LedgerError(
            Code.location_level,
            f"{name}的上级必须是{LEVEL_NAMES[expected]}，{parent.location.name} 是"
            f"{LEVEL_NAMES[parent.location.level]} (a {location.level.value} must be under a "
            f"{expected.value}, not a {parent.location.level.value})",
            "parent_code",
        )
    path_length = len(parent.path) + len(location.code) + 1
    if path_length > location_path_length_max:
        raise LedgerError(
            Code.location_path_too_long,
            f"库点编码路径过长：{path_length} 个字符，最多 {location_path_length_max} "
            f"(location path above {location_path_length_max} characters)",
            "code",
        )
