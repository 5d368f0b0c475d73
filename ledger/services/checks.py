"""Checks every use case makes of what it was sent: dates, quantities in base units, line
counts, memos, codes, physical locations, expired batches. Each refuses with a `LedgerError`
naming the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ledger.entries import BatchEntry, ItemEntry, LocationEntry
from ledger.limits import (
    category_length_max,
    code_length_max,
    lines_per_transaction_max,
    memo_length_max,
    name_length_max,
    packs_per_item_max,
    quantity_per_line_max,
    unit_name_length_max,
)
from ledger.model import Item
from ledger.rules import Code, LedgerError, check_date, check_quantity, check_text

CODE_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def business_date(occurred_on: dt.date | None, today: dt.date) -> dt.date:
    if occurred_on is None:
        return today
    check_date(occurred_on, "occurred_on")
    if occurred_on > today:
        raise LedgerError(
            Code.date_in_future,
            f"业务日期 {occurred_on} 晚于今天 {today} (date in the future)",
            "occurred_on",
        )
    return occurred_on


def base_units(item: Item, quantity: int, unit: str | None, field: str) -> int:
    """Convert a quantity in `unit` (a pack name, or the base unit) to base units."""
    check_quantity(quantity, field)
    if unit is None or unit == item.base_unit:
        return quantity
    pack = item.pack(unit)
    if pack is None:
        known = "、".join([item.base_unit, *(p.name for p in item.packs)])
        raise LedgerError(
            Code.unknown_pack,
            f"{item.name} 没有计量单位 {unit!r}，可用: {known} (unknown unit)",
            field,
        )
    total = quantity * pack.base_units
    if total > quantity_per_line_max:
        raise LedgerError(
            Code.quantity_too_large,
            f"{quantity} {unit} 合 {total} {item.base_unit}，每行最多 {quantity_per_line_max} "
            f"{item.base_unit} (quantity above {quantity_per_line_max} base units)",
            field,
        )
    return total


def check_lines(lines: Sequence[Any], lines_max: int = lines_per_transaction_max) -> None:
    if not lines:
        raise LedgerError(Code.invalid_field, "至少需要一行 (at least one line)", "lines")
    if len(lines) > lines_max:
        raise LedgerError(
            Code.too_many_lines,
            f"一张单据最多 {lines_max} 行 (at most {lines_max} lines)",
            "lines",
        )


def check_memo(memo: str) -> None:
    check_text(memo, "memo", memo_length_max, required=False)


def check_composed_memo(memo: str, what: str, field: str = "memo") -> str:
    """A memo the ledger writes from the user's memo and other text (reasons, notes): refused
    when over the limit, never cut."""
    if len(memo) > memo_length_max:
        raise LedgerError(
            Code.text_too_long,
            f"摘要加{what}共 {len(memo)} 个字符，最多 {memo_length_max} 个，请缩短 "
            f"(memo with {field}: at most {memo_length_max} characters)",
            field,
        )
    return memo


def check_code(code: str, field: str) -> None:
    check_text(code, field, code_length_max)
    if not set(code) <= CODE_CHARACTERS:
        raise LedgerError(
            Code.invalid_field,
            f"{field} 只能用英文字母、数字和 - _ . (code must be ASCII letters, digits, - _ .): {code!r}",
            field,
        )


def physical(entry: LocationEntry, field: str) -> LocationEntry:
    if not entry.physical:
        raise LedgerError(
            Code.location_must_be_physical,
            f"{entry.location.name} 是虚拟库点，不能在此使用 (must be a physical location)",
            field,
        )
    return entry


def refuse_expired(batch: BatchEntry, item: ItemEntry, on: dt.date, field: str) -> None:
    if batch.batch.is_expired(on):
        raise LedgerError(
            Code.batch_expired,
            f"{item.item.name} 批号 {batch.batch.number} 已于 {batch.batch.expires_on} 过期，"
            f"不能出库或发放 (batch expired)",
            field,
        )


def check_item(item: Item) -> None:
    """An item's names, units and packs, as adding and correcting it both check them."""
    check_text(item.name, "name", name_length_max)
    check_text(item.category, "category", category_length_max)
    check_text(item.base_unit, "base_unit", unit_name_length_max)
    if len(item.packs) > packs_per_item_max:
        raise LedgerError(
            Code.too_many_lines,
            f"包装最多 {packs_per_item_max} 种 (at most {packs_per_item_max} packs)",
            "packs",
        )
    names = [pack.name for pack in item.packs]
    if len(set(names)) != len(names) or item.base_unit in names:
        raise LedgerError(
            Code.duplicate_pack_name, "包装名称重复 (pack names must be unique)", "packs"
        )
    for pack in item.packs:
        check_text(pack.name, "packs.name", unit_name_length_max)
        check_quantity(pack.base_units, "packs.base_units")
