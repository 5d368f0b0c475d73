"""Changing reference data by dated versions: a batch's dates, a location's name or parent, an
item's name, category, packs or base unit.

History keeps its meaning only while the reference data it points at does, so these rows are
never changed silently: each change writes the object's next version (`reference_versions`,
append-only) and an operations-log entry in the same database transaction as the row it
changes, and `ledger verify` checks that every current row equals its last version. A change is
refused when it would make recorded history wrong (an expiry moved before an issue already
made, a base unit changed under stored quantities) or when the row no longer equals its last
version (changed outside the ledger: `verify` names it; a new version must not hide it).

After commit the process's reference cache takes the new rows; other processes notice within
`catalog_check_seconds` (ledger/db/store.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import and_, func, literal, select, update

from ledger.db import oplog, versions
from ledger.db import tables as t
from ledger.db.moments import as_utc
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database
from ledger.model import KINDS_REFUSING_EXPIRED, Batch, Item, Location, LocationLevel, Pack
from ledger.reference import ReferenceKind, batch_content, item_content, location_content
from ledger.rules import (
    Code,
    LedgerError,
    category_length_max,
    check_date,
    check_quantity,
    check_text,
    location_path_length_max,
    memo_length_max,
    name_length_max,
)
from ledger.services.additions import PARENT_LEVEL

UNSET = msgspec.UNSET
UnsetType = msgspec.UnsetType
packs_per_item_max = 10


class BatchChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Correct a batch's dates. A field left out keeps its value; null clears it.

    reason: why (kept in the operations log), required.
    valid_from: the business day from which the new version is in force (default today).
    """

    reason: str
    produced_on: dt.date | UnsetType | None = UNSET
    expires_on: dt.date | UnsetType | None = UNSET
    valid_from: dt.date | None = None


class LocationChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Rename a location or move it under another parent of the same level and city (its whole
    subtree moves with it). A field left out keeps its value."""

    reason: str
    name: str | UnsetType = UNSET
    parent_code: str | UnsetType = UNSET
    valid_from: dt.date | None = None


class ItemChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Change an item's name, category, packs or base unit (the base unit only while nothing
    of the item was ever received or requested: quantities are stored in base units). Its kind
    and expiry tracking are fixed. A field left out keeps its value."""

    reason: str
    name: str | UnsetType = UNSET
    category: str | UnsetType = UNSET
    base_unit: str | UnsetType = UNSET
    packs: tuple[Pack, ...] | UnsetType = UNSET
    valid_from: dt.date | None = None


class ReferenceVersionOut(msgspec.Struct, frozen=True):
    """One version of an item, location or batch.

    key: the item's or location's code, or ITEM/BATCH. content: its versioned fields.
    valid_from: the business day it is in force from (version 1: the object's first day, and
    it covers everything before version 2). user: who recorded it (命令行 for the command line
    or a migration).
    """

    object_type: str
    key: str
    version: int
    valid_from: dt.date
    recorded_at: dt.datetime
    user_id: int | None
    user: str
    content: dict[str, Any]


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
    b = t.batches.c
    row = _locked(store, select(b.produced_on, b.expires_on).where(b.id == entry.id))
    current = Batch(item.item.code, number, _day(row.produced_on), _day(row.expires_on))
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
            Code.invalid_field,
            f"{item.item.name} 不管理有效期 (item has no expiry)",
            "expires_on",
        )
    if produced is not None and expires is not None and produced > expires:
        raise LedgerError(
            Code.invalid_field,
            f"生产/印制日期 {produced} 晚于有效期至 {expires} (produced after expiry)",
            "produced_on",
        )
    if expires is not None and (current.expires_on is None or expires < current.expires_on):
        _refuse_expiry_before_movements(store, item.id, entry.id, number, expires)
    new = Batch(item.item.code, number, produced, expires)
    result = _next_version(
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
    store.connection.execute(
        update(t.batches).where(b.id == entry.id).values(produced_on=produced, expires_on=expires)
    )
    store.reload_changed(ReferenceKind.batch, b.id == entry.id)
    return result


def _refuse_expiry_before_movements(
    store: LedgerStore, item_id: int, batch_id: int, number: str, expires: dt.date
) -> None:
    """An issue, transfer or distribution of the batch already recorded after the new expiry
    would break the rule that expired stock never goes out: refuse, naming the voucher."""
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
            p.occurred_on > expires,
            tx.kind.in_([kind.value for kind in KINDS_REFUSING_EXPIRED]),
        )
        .order_by(p.occurred_on.desc(), tx.id.desc())
        .limit(1)
    ).first()
    if found is not None:
        raise LedgerError(
            Code.expiry_before_movements,
            f"批次 {number} 已于 {_day(found.occurred_on)} 出库/发放（{found.number}），"
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
            Code.invalid_field, "虚拟库点是固定的，不能修改 (virtual locations are fixed)", "code"
        )
    loc = t.locations.c
    # One change at a time per city (its root row locked until commit): a move rewrites the
    # paths of a whole subtree, which another move in the same city may overlap.
    _locked(store, select(loc.id).where(loc.code == entry.path.split("/")[1]))
    parent_table = t.locations.alias("parent")
    row = _locked(
        store,
        select(loc.name, loc.level, loc.path, parent_table.c.code.label("parent_code"))
        .select_from(t.locations)
        .outerjoin(parent_table, parent_table.c.id == loc.parent_id)
        .where(loc.id == entry.id),
        of=t.locations,
    )
    level = LocationLevel(row.level)
    current = Location(code, row.name, level, row.parent_code)
    name = current.name if change.name is UNSET else change.name
    check_text(name, "name", name_length_max)
    parent_code = current.parent_code if change.parent_code is UNSET else change.parent_code
    new = Location(code, name, level, parent_code)
    moved = parent_code != current.parent_code
    if moved:
        new_path = _check_move(store, entry.id, code, level, row.path, parent_code)
    result = _next_version(
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
        store.connection.execute(update(t.locations).where(loc.id == entry.id).values(name=name))
    subtree = func.substr(loc.path, 1, len(row.path)) == row.path
    if moved:
        parent = store.location(parent_code, "parent_code")
        store.connection.execute(
            update(t.locations).where(loc.id == entry.id).values(parent_id=parent.id)
        )
        # Every path under the old one: the new prefix and the rest (codes from the root down).
        store.connection.execute(
            update(t.locations)
            .where(subtree)
            .values(path=literal(new_path) + func.substr(loc.path, len(row.path) + 1))
        )
        subtree = func.substr(loc.path, 1, len(new_path)) == new_path
    store.reload_changed(ReferenceKind.location, subtree if moved else loc.id == entry.id)
    return result


def _check_move(
    store: LedgerStore,
    location_id: int,
    code: str,
    level: LocationLevel,
    path: str,
    parent_code: str | None,
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
    loc = t.locations.c
    # The parent's path as stored now (a cache may lag behind another process's move).
    parent_path = store.connection.execute(select(loc.path).where(loc.id == parent.id)).scalar_one()
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
    deepest = store.connection.execute(
        select(func.max(func.length(loc.path))).where(func.substr(loc.path, 1, len(path)) == path)
    ).scalar_one()
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
    i, ip = t.items.c, t.item_packs.c
    row = _locked(store, select(i.name, i.category, i.base_unit).where(i.id == entry.id))
    packs = tuple(
        Pack(name, base_units)
        for name, base_units in store.connection.execute(
            select(ip.name, ip.base_units).where(ip.item_id == entry.id).order_by(ip.position)
        )
    )
    known = entry.item
    current = msgspec.structs.replace(
        known, name=row.name, category=row.category, base_unit=row.base_unit, packs=packs
    )
    new = msgspec.structs.replace(
        current,
        **{
            name: getattr(change, name)
            for name in ("name", "category", "base_unit", "packs")
            if getattr(change, name) is not UNSET
        },
    )
    _check_item(new)
    if new.base_unit != current.base_unit:
        _refuse_base_unit_change(store, entry.id, current)
    result = _next_version(
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
    store.connection.execute(
        update(t.items)
        .where(i.id == entry.id)
        .values(name=new.name, category=new.category, base_unit=new.base_unit)
    )
    if new.packs != current.packs:
        store.connection.execute(t.item_packs.delete().where(ip.item_id == entry.id))
        if new.packs:
            store.connection.execute(
                t.item_packs.insert(),
                [
                    {"item_id": entry.id, "position": n, "name": p.name, "base_units": p.base_units}
                    for n, p in enumerate(new.packs)
                ],
            )
    store.reload_changed(ReferenceKind.item, i.id == entry.id)
    return result


def _check_item(item: Item) -> None:
    check_text(item.name, "name", name_length_max)
    check_text(item.category, "category", category_length_max)
    check_text(item.base_unit, "base_unit", 10)
    if len(item.packs) > packs_per_item_max:
        raise LedgerError(
            Code.too_many_lines,
            f"包装最多 {packs_per_item_max} 种 (at most {packs_per_item_max} packs)",
            "packs",
        )
    names = [pack.name for pack in item.packs]
    if len(set(names)) != len(names) or item.base_unit in names:
        raise LedgerError(Code.invalid_field, "包装名称重复 (pack names must be unique)", "packs")
    for pack in item.packs:
        check_text(pack.name, "packs.name", 10)
        check_quantity(pack.base_units, "packs.base_units")


def _refuse_base_unit_change(store: LedgerStore, item_id: int, item: Item) -> None:
    """Quantities are stored in base units: once any batch or request of the item exists, its
    base unit can no longer change (what was 张 would silently become 套)."""
    for table, what in (
        (t.batches, "批次"),
        (t.allocation_request_lines, "申领"),
        (t.stocktake_lines, "盘点"),
    ):
        if store.connection.execute(
            select(literal(1)).select_from(table).where(table.c.item_id == item_id).limit(1)
        ).first():
            raise LedgerError(
                Code.base_unit_in_use,
                f"{item.name} 已有{what}，数量都按基本单位 {item.base_unit} 记账，不能再改基本单位；"
                f"如需换算，请新建物资 (base unit in use)",
                "base_unit",
            )


# ---- versions ---------------------------------------------------------------------------------


def _next_version(
    store: LedgerStore,
    kind: ReferenceKind,
    object_id: int,
    key: str,
    current: str,
    new: str,
    reason: str,
    valid_from: dt.date | None,
    user_id: int | None,
    today: dt.date,
    location_path: str | None,
) -> ReferenceVersionOut:
    """Write version n+1 with `new` and the operations-log entry; refuse a change that changes
    nothing, a day before the last version's, and a row that is not its last version."""
    check_text(reason, "reason", memo_length_max)
    history = versions.history(store.connection, kind, object_id)
    last = history[-1] if history else None
    if last is None or last.content != current:
        raise LedgerError(
            Code.reference_not_as_versioned,
            f"{key} 的当前资料与其最后一个版本不一致（被绕过版本直接修改过），请先运行 ledger verify "
            f"查明 (the row differs from its last version)",
            "code",
        )
    if new == current:
        raise LedgerError(
            Code.reference_unchanged, f"{key} 没有任何改动 (nothing changes)", "reason"
        )
    day = valid_from or today
    check_date(day, "valid_from")
    if day > today:
        raise LedgerError(
            Code.date_in_future,
            f"生效日期 {day} 晚于今天 {today} (valid_from in the future)",
            "valid_from",
        )
    if last.version > 1 and day < last.valid_from:
        raise LedgerError(
            Code.version_before_last,
            f"生效日期 {day} 早于上一版本（第 {last.version} 版，{last.valid_from} 起）"
            f"(valid_from before the last version's)",
            "valid_from",
        )
    number = last.version + 1
    versions.write(store, kind, object_id, number, new, day, user_id)
    before = {"version": last.version, **msgspec.json.decode(current)}
    after = {
        "version": number,
        "valid_from": day.isoformat(),
        "reason": reason,
        **msgspec.json.decode(new),
    }
    oplog.record(
        store,
        f"{kind.value}.change",
        kind.value,
        key,
        user_id=user_id,
        before=before,
        after=after,
        location_path=location_path,
    )
    return ReferenceVersionOut(
        kind.value,
        key,
        number,
        day,
        as_utc(store.recorded_at),
        user_id,
        store.user_label(user_id),
        msgspec.json.decode(new),
    )


def _locked(store: LedgerStore, query, of=None):
    """The row a change reads and rewrites, locked on PostgreSQL until commit (SQLite's one
    writer already serialises changes)."""
    if store.for_update:
        query = query.with_for_update(of=of)
    return store.connection.execute(query).one()


def _day(value) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


# ---- reading the history ----------------------------------------------------------------------


def history(
    database: Database, kind: ReferenceKind, code: str, number: str | None = None
) -> list[ReferenceVersionOut]:
    """Every version of an item (code), location (code) or batch (code = item code, number)."""

    def work(store: LedgerStore) -> list[ReferenceVersionOut]:
        if kind is ReferenceKind.item:
            object_id, key = store.item(code, "code").id, code
        elif kind is ReferenceKind.location:
            object_id, key = store.location(code, "code").id, code
        else:
            item = store.item(code, "item_code")
            object_id = store.batch(item, number or "", "batch_number").id
            key = f"{item.item.code}/{number}"
        return [
            ReferenceVersionOut(
                kind.value,
                key,
                record.version,
                record.valid_from,
                as_utc(record.recorded_at),
                record.user_id,
                store.user_label(record.user_id),
                msgspec.json.decode(record.content),
            )
            for record in versions.history(store.connection, kind, object_id)
        ]

    return database.lookup(work)


def change(
    database: Database,
    kind: ReferenceKind,
    code: str,
    change: BatchChange | LocationChange | ItemChange,
    user_id: int | None,
    today: dt.date,
    number: str | None = None,
) -> ReferenceVersionOut:
    """Carry out one change in its own database transaction."""
    if kind is ReferenceKind.batch:
        assert isinstance(change, BatchChange)
        return database.write(
            lambda store: change_batch(store, code, number or "", change, user_id, today)
        )
    if kind is ReferenceKind.location:
        assert isinstance(change, LocationChange)
        return database.write(lambda store: change_location(store, code, change, user_id, today))
    assert isinstance(change, ItemChange)
    return database.write(lambda store: change_item(store, code, change, user_id, today))
