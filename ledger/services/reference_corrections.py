"""Corrections of reference data inside a unit of work: a batch's dates, a location's name or
parent (its subtree moves with it), an item's name, category, packs or base unit. Each writes the
object's next version (`reference_versions`), then the row, and reloads it for the catalog."""

from __future__ import annotations

import datetime as dt

import msgspec

from ledger.db import reference_changes as db
from ledger.db.store import LedgerStore
from ledger.limits import (
    location_path_length_max,
    name_length_max,
)
from ledger.model import KINDS_REFUSING_EXPIRED, Batch, Item, Location, LocationLevel
from ledger.reference import ReferenceKind, batch_content, item_content, location_content
from ledger.rules import Code, LedgerError, check_date, check_text
from ledger.services.additions import PARENT_LEVEL
from ledger.services.checks import check_item
from ledger.services.reference_models import (
    UNSET,
    BatchChange,
    ItemChange,
    LocationChange,
    ReferenceVersionOut,
)
from ledger.services.reference_versions import next_version

# ---- batches ----------------------------------------------------------------------------------


def change_batch(
    store: LedgerStore,
    item_code: str,
    number: str,
    change: BatchChange,
    user_id: int | None,
    today: dt.date,
) -> ReferenceVersionOut:
    item = store.item(item_code, "item_code")
    entry = store.batch(item, number, "batch_number")
    current = Batch(item.item.code, number, *db.locked_batch_dates(store, entry.id))
    produced = current.produced_on if change.produced_on is UNSET else change.produced_on
    expires = current.expires_on if change.expires_on is UNSET else change.expires_on
    for name, value in (("produced_on", produced), ("expires_on", expires)):
        if value is not None:
            check_date(value, name)
    if item.item.expiry_tracked and expires is None:
        raise LedgerError(
            Code.batch_expiry_required,
            f"{item.item.name} 管理有效期，批次必须有有效期至 (expiry date required)",
            "expires_on",
        )
    if not item.item.expiry_tracked and expires is not None:
        raise LedgerError(
            Code.expiry_not_tracked,
            f"{item.item.name} 不管理有效期 (item has no expiry)",
            "expires_on",
        )
    if produced is not None and expires is not None and produced > expires:
        raise LedgerError(
            Code.date_range_invalid,
            f"生产/印制日期 {produced} 晚于有效期至 {expires} (produced after expiry)",
            "produced_on",
        )
    if expires is not None and (current.expires_on is None or expires < current.expires_on):
        _refuse_expiry_before_movements(store, item.id, entry.id, number, expires)
    new = Batch(item.item.code, number, produced, expires)
    result = next_version(
        store,
        ReferenceKind.batch,
        entry.id,
        f"{item.item.code}/{number}",
        batch_content(current),
        batch_content(new),
        change.reason,
        change.valid_from,
        user_id,
        today,
        None,
    )
    db.set_batch_dates(store, entry.id, produced, expires)
    store.reload_changed(ReferenceKind.batch, db.batch_rows(entry.id))
    return result


def _refuse_expiry_before_movements(
    store: LedgerStore, item_id: int, batch_id: int, number: str, expires: dt.date
) -> None:
    """An issue, transfer or distribution of the batch already recorded after the new expiry
    would break the rule that expired stock never goes out: refuse, naming the voucher."""
    found = db.last_outgoing_after(store, item_id, batch_id, expires, KINDS_REFUSING_EXPIRED)
    if found is not None:
        voucher, day = found
        raise LedgerError(
            Code.expiry_before_movements,
            f"批次 {number} 已于 {day} 出库/发放（{voucher}），"
            f"有效期不能改到 {expires}：核验按批次的现行有效期检查全部历史，已登记的单据会变成"
            f"发出过期药具 (an issue or distribution after the new expiry is recorded)",
            "expires_on",
        )


# ---- locations --------------------------------------------------------------------------------


def change_location(
    store: LedgerStore, code: str, change: LocationChange, user_id: int | None, today: dt.date
) -> ReferenceVersionOut:
    entry = store.location(code, "code")
    if not entry.physical:
        raise LedgerError(
            Code.location_must_be_physical,
            "虚拟库点是固定的，不能修改 (virtual locations are fixed)",
            "code",
        )
    db.lock_root(store, entry.path.split("/")[1])
    row = db.locked_location(store, entry.id)
    level = LocationLevel(row.level)
    current = Location(code, row.name, level, row.parent_code)
    name = current.name if change.name is UNSET else change.name
    check_text(name, "name", name_length_max)
    parent_code = current.parent_code if change.parent_code is UNSET else change.parent_code
    new = Location(code, name, level, parent_code)
    moved = parent_code != current.parent_code
    if moved:
        new_path = _check_move(store, code, level, row.path, parent_code)
    result = next_version(
        store,
        ReferenceKind.location,
        entry.id,
        code,
        location_content(current),
        location_content(new),
        change.reason,
        change.valid_from,
        user_id,
        today,
        row.path,
    )
    if name != current.name:
        db.rename_location(store, entry.id, name)
    if moved:
        assert parent_code is not None  # _check_move refused a move to no parent
        parent = store.location(parent_code, "parent_code")
        db.move_location(store, entry.id, parent.id, row.path, new_path)
        store.reload_changed(ReferenceKind.location, db.subtree_rows(new_path))
    else:
        store.reload_changed(ReferenceKind.location, db.location_rows(entry.id))
    return result


def _check_move(
    store: LedgerStore, code: str, level: LocationLevel, path: str, parent_code: str | None
) -> str:
    """Where the location may go: under a location of the level above, in the same city; the
    deepest path of its subtree must still fit. Returns its new path."""
    expected = PARENT_LEVEL.get(level)
    if expected is None or parent_code is None:
        raise LedgerError(
            Code.location_level,
            "市是最上级库点，不能有上级；区县、乡镇和村必须有上级 "
            "(a city has no parent; every other level needs one)",
            "parent_code",
        )
    parent = store.location(parent_code, "parent_code")
    parent_path = db.stored_path(store, parent.id)
    # The city first, and without naming the other city's place: a city's admin must not learn
    # another city's names by trying codes.
    if not parent.physical or parent_path.split("/")[1] != path.split("/")[1]:
        raise LedgerError(
            Code.location_move_across_roots,
            "新的上级库点不在本市：每个市是一本独立的账，库点不能移到另一个市之下 "
            "(a location cannot move to another root)",
            "parent_code",
        )
    if parent.location.level is not expected:
        raise LedgerError(
            Code.location_level,
            f"{code} 的上级必须是 {expected.value} 级库点，{parent.location.name} 不是 "
            f"(a {level.value} must be under a {expected.value})",
            "parent_code",
        )
    new_path = f"{parent_path}{code}/"
    deepest = db.deepest_path_length(store, path)
    longest = (deepest or len(path)) - len(path) + len(new_path)
    if longest > location_path_length_max:
        raise LedgerError(
            Code.location_path_too_long,
            f"移动后下级库点的编码路径有 {longest} 个字符，最多 {location_path_length_max} "
            f"(a path in the subtree would exceed {location_path_length_max} characters)",
            "parent_code",
        )
    return new_path


# ---- items ------------------------------------------------------------------------------------


def change_item(
    store: LedgerStore, code: str, change: ItemChange, user_id: int | None, today: dt.date
) -> ReferenceVersionOut:
    entry = store.item(code, "code")
    row = db.locked_item(store, entry.id)
    current = msgspec.structs.replace(
        entry.item,
        name=row.name,
        category=row.category,
        base_unit=row.base_unit,
        packs=row.packs,
    )
    new = msgspec.structs.replace(
        current,
        **{
            name: getattr(change, name)
            for name in ("name", "category", "base_unit", "packs")
            if getattr(change, name) is not UNSET
        },
    )
    check_item(new)
    if new.base_unit != current.base_unit:
        _refuse_base_unit_change(store, entry.id, current)
    result = next_version(
        store,
        ReferenceKind.item,
        entry.id,
        code,
        item_content(current),
        item_content(new),
        change.reason,
        change.valid_from,
        user_id,
        today,
        None,
    )
    db.update_item(store, entry.id, new.name, new.category, new.base_unit)
    if new.packs != current.packs:
        db.replace_packs(store, entry.id, new.packs)
    store.reload_changed(ReferenceKind.item, db.item_rows(entry.id))
    return result


USE_NAMES = {"batches": "批次", "requests": "申领", "stocktakes": "盘点"}


def _refuse_base_unit_change(store: LedgerStore, item_id: int, item: Item) -> None:
    """Quantities are stored in base units: once any batch or request of the item exists, its
    base unit can no longer change (what was 张 would silently become 套)."""
    use = db.first_use_of_item(store, item_id)
    if use is not None:
        raise LedgerError(
            Code.base_unit_in_use,
            f"{item.name} 已有{USE_NAMES[use]}，数量都按基本单位 {item.base_unit} 记账，不能再改基本单位；"
            f"如需换算，请新建物资 (base unit in use)",
            "base_unit",
        )
