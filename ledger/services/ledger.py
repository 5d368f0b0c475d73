"""Use cases: every movement kind, reservations and reference data, on a unit of work.

`Ledger` is the one entry point the HTTP API, the CLI, the demo loader and the benchmarks call.
Each command runs in its own database transaction (or, with `execute_many`, many commands in
one), is retried on write conflicts, and honours its idempotency key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import msgspec

from ledger import commands as c
from ledger.db import oplog
from ledger.db.store import BatchEntry, ItemEntry, LedgerStore, LocationEntry
from ledger.db.unit_of_work import Database
from ledger.model import (
    AccountKey,
    Batch,
    Item,
    Location,
    LocationLevel,
    Transaction,
    TransactionKind,
    VirtualLocation,
    WriteOffReason,
)
from ledger.picking import pick_batches
from ledger.posting import Leg, Move, legs_of_moves, mirror_legs
from ledger.rules import (
    Code,
    LedgerError,
    category_length_max,
    check_date,
    check_quantity,
    check_text,
    code_length_max,
    idempotency_key_derived_length_max,
    idempotency_key_length_max,
    lines_per_transaction_max,
    location_path_length_max,
    memo_length_max,
    name_length_max,
    opening_lines_per_transaction_max,
    quantity_per_line_max,
    transactions_per_batch_max,
)
from ledger.services.picking import stock_candidates
from ledger.settings import office_today

SHIPMENT_KINDS = frozenset({TransactionKind.issue, TransactionKind.transfer})
CODE_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


class Reservation(msgspec.Struct, frozen=True):
    """What a Reserve command reserved: per batch, FEFO."""

    reference: str
    location_code: str
    item_code: str
    lines: tuple[tuple[str, int], ...]  # (batch number, base units)


class Released(msgspec.Struct, frozen=True):
    reference: str
    quantity: int  # base units released in all


# ---- small checks shared by the handlers ------------------------------------------------------


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


# ---- resolving lines to batches -----------------------------------------------------------


def resolve_lines(
    store: LedgerStore,
    location: LocationEntry,
    lines: Sequence[c.LineSpec],
    on: dt.date,
    refuse_expired_batches: bool,
    reserved: dict[tuple[int, int], int] | None = None,
) -> list[tuple[ItemEntry, BatchEntry, int]]:
    """Each line as (item, batch, base units): named batches as given, the rest picked FEFO
    (`ledger.picking`: batches reserved for this movement first; expired ones only when
    `refuse_expired_batches` is off, for returns and write-offs)."""
    check_lines(lines)
    reserved = reserved or {}
    resolved: list[tuple[ItemEntry, BatchEntry, int]] = []
    named: set[tuple[str, str]] = set()
    for index, line in enumerate(lines):
        field = f"lines[{index}]"
        item = store.item(line.item_code, f"{field}.item_code")
        quantity = base_units(item.item, line.quantity, line.unit, f"{field}.quantity")
        if line.batch_number is not None:
            if (line.item_code, line.batch_number) in named:
                raise LedgerError(
                    Code.duplicate_line,
                    f"{item.item.name} 批次 {line.batch_number} 在单据中出现两次 (duplicate line)",
                    field,
                )
            named.add((line.item_code, line.batch_number))
            batch = store.batch(item, line.batch_number, f"{field}.batch_number")
            if refuse_expired_batches:
                refuse_expired(batch, item, on, f"{field}.batch_number")
            resolved.append((item, batch, quantity))
            continue
        ours = {
            batch_id: qty for (item_id, batch_id), qty in reserved.items() if item_id == item.id
        }
        candidates = stock_candidates(store, location.id, item.id, ours, lock=True)
        taken: dict[int, int] = {}  # by earlier lines of this movement, by batch id
        for earlier_item, earlier_batch, earlier_quantity in resolved:
            if earlier_item.id == item.id:
                taken[earlier_batch.id] = taken.get(earlier_batch.id, 0) + earlier_quantity
        left = [
            candidate._replace(available=candidate.available - taken.get(batch.id, 0))
            for batch, candidate in candidates
        ]
        try:
            picks = pick_batches(
                left, quantity, on, not refuse_expired_batches, reserved_first=True
            )
        except LedgerError as error:
            raise LedgerError(
                error.code, f"{item.item.name}: {error.message}", f"{field}.quantity"
            ) from None
        by_number = {candidate.batch_number: batch for batch, candidate in candidates}
        resolved.extend((item, by_number[pick.batch_number], pick.quantity) for pick in picks)
    return resolved


def moves_between(
    source: LocationEntry,
    destination: LocationEntry,
    lines: Iterable[tuple[ItemEntry, BatchEntry, int]],
    consumed: dict[tuple[int, int], int] | None = None,
) -> list[Leg]:
    consumed = consumed or {}
    seen: set[tuple[int, int]] = set()
    moves = []
    for item, batch, quantity in lines:
        pair = (item.id, batch.id)
        if pair in seen:
            raise LedgerError(
                Code.duplicate_line,
                f"{item.item.name} 批次 {batch.batch.number} 在单据中出现两次 (duplicate line)",
                "lines",
            )
        seen.add(pair)
        moves.append(
            Move(
                source.id,
                source.physical,
                destination.id,
                destination.physical,
                item.id,
                batch.id,
                quantity,
                min(quantity, consumed.get(pair, 0)),
            )
        )
    return legs_of_moves(moves)


def _merge_picks(
    lines: list[tuple[ItemEntry, BatchEntry, int]],
) -> list[tuple[ItemEntry, BatchEntry, int]]:
    """Lines for the same batch (a named line and a FEFO pick of it) become one."""
    merged: dict[tuple[int, int], list] = {}
    for item, batch, quantity in lines:
        entry = merged.setdefault((item.id, batch.id), [item, batch, 0])
        entry[2] += quantity
    return [tuple(entry) for entry in merged.values()]  # type: ignore[misc]


# ---- the handlers -----------------------------------------------------------------------------


def add_item(store: LedgerStore, command: c.AddItem, today: dt.date) -> Item:
    item = command.item
    check_code(item.code, "code")
    check_text(item.name, "name", name_length_max)
    check_text(item.category, "category", category_length_max)
    check_text(item.base_unit, "base_unit", 10)
    names = [pack.name for pack in item.packs]
    if len(set(names)) != len(names) or item.base_unit in names:
        raise LedgerError(Code.invalid_field, "包装名称重复 (pack names must be unique)", "packs")
    for pack in item.packs:
        check_text(pack.name, "packs.name", 10)
        check_quantity(pack.base_units, "packs.base_units")
    store.add_item(item)
    oplog.record(
        store,
        "item.add",
        "item",
        item.code,
        user_id=store.maker_id,
        after=msgspec.to_builtins(item),
    )
    return item


def add_location(store: LedgerStore, command: c.AddLocation, today: dt.date) -> Location:
    location = command.location
    check_code(location.code, "code")
    check_text(location.name, "name", name_length_max)
    check_location_level(store, location)
    if location.level is LocationLevel.virtual:
        raise LedgerError(
            Code.invalid_field, "虚拟库点是固定的，不能新增 (virtual locations are fixed)", "level"
        )
    if location.level is not LocationLevel.city and location.parent_code is None:
        raise LedgerError(
            Code.invalid_field, "区县、乡镇和村需要上级库点 (parent required)", "parent_code"
        )
    entry = store.add_location(location)
    oplog.record(
        store,
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


def check_location_level(store: LedgerStore, location: Location) -> None:
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


def receive(store: LedgerStore, command: c.Receive, today: dt.date) -> Transaction:
    on = business_date(command.occurred_on, today)
    check_memo(command.memo)
    check_lines(command.lines)
    location = physical(store.location(command.location_code), "location_code")
    supplier = store.location(VirtualLocation.supplier.value)
    lines = []
    for index, line in enumerate(command.lines):
        field = f"lines[{index}]"
        item = store.item(line.item_code, f"{field}.item_code")
        quantity = base_units(item.item, line.quantity, line.unit, f"{field}.quantity")
        batch = _receipt_batch(store, item, line, field)
        refuse_expired(batch, item, on, f"{field}.expires_on")
        lines.append((item, batch, quantity))
    legs = moves_between(supplier, location, lines)
    return store.post(TransactionKind.receipt, on, location, legs, memo=command.memo)


def open_balances(store: LedgerStore, command: c.OpenBalances, today: dt.date) -> Transaction:
    on = business_date(command.occurred_on, today)
    check_memo(command.memo)
    check_lines(command.lines, opening_lines_per_transaction_max)
    location = physical(store.location(command.location_code), "location_code")
    existing = store.opening_of(location.id)
    if existing is not None:
        raise LedgerError(
            Code.opening_exists,
            f"{location.location.name}已有期初建账单 {existing}；建错了请先红冲，之后的差异用盘点调整 "
            f"(the location already has an opening balance)",
            "location_code",
        )
    source = store.location(VirtualLocation.opening.value)
    lines = []
    for index, line in enumerate(command.lines):
        field = f"lines[{index}]"
        item = store.item(line.item_code, f"{field}.item_code")
        quantity = base_units(item.item, line.quantity, line.unit, f"{field}.quantity")
        lines.append((item, _receipt_batch(store, item, line, field), quantity))
    legs = moves_between(source, location, lines)
    return store.post(TransactionKind.opening, on, location, legs, memo=command.memo)


def _receipt_batch(
    store: LedgerStore, item: ItemEntry, line: c.ReceiptLine, field: str
) -> BatchEntry:
    check_code(line.batch_number, f"{field}.batch_number")
    for name in ("produced_on", "expires_on"):
        if getattr(line, name) is not None:
            check_date(getattr(line, name), f"{field}.{name}")
    batch = store.find_batch(item, line.batch_number)
    if batch is None:
        if item.item.expiry_tracked and line.expires_on is None:
            raise LedgerError(
                Code.batch_expiry_required,
                f"{item.item.name} 需要填写有效期至 (expiry date required)",
                f"{field}.expires_on",
            )
        if not item.item.expiry_tracked and line.expires_on is not None:
            raise LedgerError(
                Code.invalid_field,
                f"{item.item.name} 不管理有效期 (item has no expiry)",
                f"{field}.expires_on",
            )
        return store.add_batch(
            item, Batch(item.item.code, line.batch_number, line.produced_on, line.expires_on)
        )
    known = batch.batch
    if (line.expires_on is not None and line.expires_on != known.expires_on) or (
        line.produced_on is not None and line.produced_on != known.produced_on
    ):
        raise LedgerError(
            Code.batch_conflict,
            f"批次 {known.number} 已登记：生产/印制日期 {known.produced_on}，有效期至 {known.expires_on}，"
            f"与本次填写不一致 (batch recorded with other dates)",
            f"{field}.expires_on",
        )
    return batch


def issue(store: LedgerStore, command: c.Issue, today: dt.date) -> Transaction:
    on = business_date(command.occurred_on, today)
    check_memo(command.memo)
    source = physical(store.location(command.source_code, "source_code"), "source_code")
    destination = physical(
        store.location(command.destination_code, "destination_code"), "destination_code"
    )
    if source.id == destination.id:
        raise LedgerError(
            Code.locations_must_be_different,
            "发出与接收库点不能相同 (source and destination must differ)",
            "destination_code",
        )
    if source.path.split("/")[1] != destination.path.split("/")[1]:
        # Each city (root) is a ledger of its own: stock never crosses from one to another.
        raise LedgerError(
            Code.location_in_other_city,
            "接收库点不属于本市，不能跨市调拨 (destination is in another city)",
            "destination_code",
        )
    reserved: dict[tuple[int, int], int] = {}
    reservation_rows: list[dict] = []
    if command.reservation is not None:
        reservation_rows = store.open_reservations(command.reservation, source.id)
        if not reservation_rows:
            raise LedgerError(
                Code.unknown_reservation,
                f"{source.location.name} 没有预留 {command.reservation!r} (no open reservation)",
                "reservation",
            )
        for row in reservation_rows:
            pair = (row["item_id"], row["batch_id"])
            reserved[pair] = reserved.get(pair, 0) + row["remaining"]
    lines = _merge_picks(resolve_lines(store, source, command.lines, on, True, reserved))
    in_transit = store.location(VirtualLocation.in_transit.value)
    legs = moves_between(source, in_transit, lines, reserved)
    kind = (
        TransactionKind.issue
        if destination.path.startswith(source.path)
        else TransactionKind.transfer
    )
    transaction = store.post(kind, on, source, legs, counterparty=destination, memo=command.memo)
    _consume_reservations(store, reservation_rows, legs)
    return transaction


def _consume_reservations(store: LedgerStore, rows: list[dict], legs: Sequence[Leg]) -> None:
    consumed = {
        (leg.key.item_id, leg.key.batch_id): leg.reservation_consumed
        for leg in legs
        if leg.quantity < 0
    }
    for row in rows:
        pair = (row["item_id"], row["batch_id"])
        take = min(row["remaining"], consumed.get(pair, 0))
        if take:
            consumed[pair] -= take
            store.reduce_reservation(row["id"], row["remaining"] - take, released=False)


def confirm(store: LedgerStore, command: c.Confirm, today: dt.date) -> Transaction:
    on = business_date(command.occurred_on, today)
    check_memo(command.memo)
    shipment = store.transaction_by_number(command.shipment_number, lock=True)
    if shipment.kind not in SHIPMENT_KINDS:
        raise LedgerError(
            Code.not_a_shipment,
            f"{shipment.number} 不是出库或调拨单 (not a shipment)",
            "shipment_number",
        )
    reversal = store.reversal_of(shipment.sequence)
    if reversal is not None:
        raise LedgerError(
            Code.not_a_shipment,
            f"{shipment.number} 已被 {reversal} 红冲 (shipment reversed)",
            "shipment_number",
        )
    confirmation = store.active_confirmation(shipment.sequence)
    if confirmation is not None:
        raise LedgerError(
            Code.shipment_already_confirmed,
            f"{shipment.number} 已由 {confirmation} 签收 (already confirmed)",
            "shipment_number",
        )
    if on < shipment.occurred_on:
        raise LedgerError(
            Code.date_before_last_movement,
            f"签收日期 {on} 早于发出日期 {shipment.occurred_on} (confirmation before shipment)",
            "occurred_on",
        )
    shipped = {
        (p.item_code, p.batch_number): p.quantity
        for p in shipment.postings
        if p.location_code == VirtualLocation.in_transit.value
    }
    received = dict(shipped)
    for index, line in enumerate(command.received):
        field = f"received[{index}]"
        pair = (line.item_code, line.batch_number)
        if pair not in shipped:
            raise LedgerError(
                Code.line_not_in_shipment,
                f"{shipment.number} 中没有 {line.item_code} 批次 {line.batch_number} (not in shipment)",
                field,
            )
        item = store.item(line.item_code, f"{field}.item_code")
        if line.quantity_received == 0:
            quantity = 0
        else:
            quantity = base_units(
                item.item, line.quantity_received, line.unit, f"{field}.quantity_received"
            )
        if quantity < 0 or quantity > shipped[pair]:
            raise LedgerError(
                Code.received_exceeds_shipped,
                f"{item.item.name} 批次 {line.batch_number} 发出 {shipped[pair]}，实收不能为 {quantity} "
                f"(received must be between 0 and shipped)",
                f"{field}.quantity_received",
            )
        received[pair] = quantity
    receiver = store.location(shipment.counterparty_code or "", "shipment_number")
    issuer = store.location(shipment.location_code)
    in_transit = store.location(VirtualLocation.in_transit.value)
    adjustment = store.location(VirtualLocation.adjustment.value)
    arrived, short, missing = [], [], []
    for (item_code, batch_number), quantity in shipped.items():
        item = store.item(item_code)
        batch = store.batch(item, batch_number)
        got = received[(item_code, batch_number)]
        if got:
            arrived.append((item, batch, got))
        if quantity - got:
            short.append((item, batch, quantity - got))
            missing.append(MissingLine(item, batch_number, quantity, got))
    memo = check_shortage(store, shipment, missing, command.shortage, command.memo)
    legs = moves_between(in_transit, receiver, arrived) + moves_between(
        in_transit, adjustment, short
    )
    return store.post(
        TransactionKind.confirmation,
        on,
        receiver,
        legs,
        counterparty=issuer,
        shipment=shipment,
        reason=command.shortage.reason if command.shortage else None,
        memo=memo,
    )


shortage_note_length_max = 200
missing_lines_in_message_max = 5


class MissingLine(NamedTuple):
    """One (item, batch) of a shipment that did not arrive in full."""

    item: ItemEntry
    batch_number: str
    shipped: int
    received: int

    @property
    def missing(self) -> int:
        return self.shipped - self.received

    def as_json(self) -> dict[str, Any]:
        return {
            "item_code": self.item.item.code,
            "item_name": self.item.item.name,
            "batch_number": self.batch_number,
            "shipped": self.shipped,
            "received": self.received,
            "missing": self.missing,
            "unit": self.item.item.base_unit,
        }

    def words(self) -> str:
        unit = self.item.item.base_unit
        return (
            f"{self.item.item.name} 批次 {self.batch_number} 发出 {self.shipped} {unit}、"
            f"实收 {self.received} {unit}、短少 {self.missing} {unit}"
        )


def missing_words(missing: Sequence[MissingLine]) -> str:
    shown = "；".join(line.words() for line in missing[:missing_lines_in_message_max])
    more = len(missing) - missing_lines_in_message_max
    return shown + (f"；另有 {more} 行" if more > 0 else "")


def shortage_refused(shipment_number: str, missing: Sequence[MissingLine], why: str) -> LedgerError:
    """`shortage_unconfirmed`, with the missing lines for a client to show (`details.missing`)."""
    return LedgerError(
        Code.shortage_unconfirmed,
        f"{shipment_number} {why}：{missing_words(missing)}。"
        f"确认短少须再提交一次，写明短少原因和以上短少明细 (shortage not confirmed)",
        "shortage",
        {"missing": [line.as_json() for line in missing]},
    )


def check_shortage(
    store: LedgerStore,
    shipment: Transaction,
    missing: Sequence[MissingLine],
    shortage: c.Shortage | None,
    memo: str,
) -> str:
    """A short confirmation posts only with an explicit acknowledgement naming exactly what is
    missing and why; returns the confirmation's memo (the receiver's, then the reason)."""
    if not missing:
        if shortage is not None:
            raise LedgerError(
                Code.invalid_field,
                f"{shipment.number} 全部到货，没有短少，不要填写短少确认 (nothing is missing)",
                "shortage",
            )
        return memo
    if shortage is None:
        raise shortage_refused(shipment.number, missing, "到货不足，尚未确认短少")
    reasons = {reason.value: name for reason, name in c.SHORTAGE_REASON_NAMES.items()}
    if shortage.reason not in reasons:
        known = "、".join(f"{name} ({code})" for code, name in reasons.items())
        raise LedgerError(
            Code.invalid_field,
            f"短少原因必须是 {known} 之一 (unknown shortage reason {shortage.reason!r})",
            "shortage.reason",
        )
    check_text(shortage.note, "shortage.note", shortage_note_length_max, required=False)
    if shortage.reason == c.ShortageReason.other and not shortage.note.strip():
        raise LedgerError(
            Code.reason_required,
            "短少原因为“其他”时须填写说明 (a note is required for reason other)",
            "shortage.note",
        )
    if len(shortage.lines) > lines_per_transaction_max:
        raise LedgerError(
            Code.too_many_lines,
            f"短少明细最多 {lines_per_transaction_max} 行 (at most {lines_per_transaction_max})",
            "shortage.lines",
        )
    declared: dict[tuple[str, str], int] = {}
    for index, line in enumerate(shortage.lines):
        field = f"shortage.lines[{index}]"
        item = store.item(line.item_code, f"{field}.item_code")
        pair = (line.item_code, line.batch_number)
        if pair in declared:
            raise LedgerError(
                Code.duplicate_line,
                f"{item.item.name} 批次 {line.batch_number} 在短少明细中出现两次 (duplicate line)",
                field,
            )
        declared[pair] = base_units(item.item, line.quantity, line.unit, f"{field}.quantity")
    expected = {(m.item.item.code, m.batch_number): m.missing for m in missing}
    if declared != expected:
        raise shortage_refused(shipment.number, missing, "短少确认与实际短少不一致，实际短少为")
    return check_composed_memo(c.confirmation_memo(memo, shortage), "短少原因和说明", "memo")


def distribute(store: LedgerStore, command: c.Distribute, today: dt.date) -> Transaction:
    on = business_date(command.occurred_on, today)
    check_memo(command.memo)
    location = physical(store.location(command.location_code), "location_code")
    lines = _merge_picks(resolve_lines(store, location, command.lines, on, True))
    legs = moves_between(location, store.location(VirtualLocation.distributed.value), lines)
    return store.post(TransactionKind.distribution, on, location, legs, memo=command.memo)


def return_to_parent(store: LedgerStore, command: c.Return, today: dt.date) -> Transaction:
    on = business_date(command.occurred_on, today)
    check_memo(command.memo)
    location = physical(store.location(command.location_code), "location_code")
    if location.location.parent_code is None:
        raise LedgerError(
            Code.location_has_no_parent,
            f"{location.location.name} 没有上级，无法退回 (no parent)",
            "location_code",
        )
    parent = store.location(location.location.parent_code)
    lines = _merge_picks(resolve_lines(store, location, command.lines, on, False))
    legs = moves_between(location, parent, lines)
    return store.post(
        TransactionKind.return_, on, location, legs, counterparty=parent, memo=command.memo
    )


def write_off(store: LedgerStore, command: c.WriteOff, today: dt.date) -> Transaction:
    on = business_date(command.occurred_on, today)
    check_memo(command.memo)
    reasons = [reason.value for reason in WriteOffReason]
    if command.reason not in reasons:
        raise LedgerError(
            Code.invalid_field,
            f"报损原因必须是 {', '.join(reasons)} 之一 (unknown reason)",
            "reason",
        )
    if command.reason == WriteOffReason.other and not command.memo.strip():
        raise LedgerError(
            Code.reason_required, "原因为“其他”时须在摘要中说明 (memo required)", "memo"
        )
    location = physical(store.location(command.location_code), "location_code")
    lines = _merge_picks(resolve_lines(store, location, command.lines, on, False))
    legs = moves_between(location, store.location(VirtualLocation.scrapped.value), lines)
    return store.post(
        TransactionKind.write_off, on, location, legs, reason=command.reason, memo=command.memo
    )


def adjust(store: LedgerStore, command: c.Adjust, today: dt.date) -> Transaction:
    on = business_date(command.occurred_on, today)
    check_memo(command.memo)
    check_lines(command.lines)
    check_text(command.reason, "reason", 40)
    location = physical(store.location(command.location_code), "location_code")
    adjustment = store.location(VirtualLocation.adjustment.value)
    gains, losses = [], []
    for index, line in enumerate(command.lines):
        field = f"lines[{index}]"
        item = store.item(line.item_code, f"{field}.item_code")
        batch = store.batch(item, line.batch_number, f"{field}.batch_number")
        if line.difference == 0 or isinstance(line.difference, bool):
            raise LedgerError(
                Code.quantity_must_be_positive,
                "盘点差异不能为零 (difference is zero)",
                f"{field}.difference",
            )
        check_quantity(abs(line.difference), f"{field}.difference")
        (gains if line.difference > 0 else losses).append((item, batch, abs(line.difference)))
    legs = moves_between(adjustment, location, gains) + moves_between(location, adjustment, losses)
    return store.post(
        TransactionKind.stocktake, on, location, legs, reason=command.reason, memo=command.memo
    )


def reverse(store: LedgerStore, command: c.Reverse, today: dt.date) -> Transaction:
    on = business_date(command.occurred_on, today)
    check_memo(command.memo)
    original = store.transaction_by_number(command.transaction_number, lock=True)
    if original.kind is TransactionKind.reversal:
        raise LedgerError(
            Code.reversal_of_reversal,
            f"{original.number} 本身是红冲单，不能再红冲 (cannot reverse a reversal)",
            "transaction_number",
        )
    existing = store.reversal_of(original.sequence)
    if existing is not None:
        raise LedgerError(
            Code.reversal_already_exists,
            f"{original.number} 已被 {existing} 红冲 (already reversed)",
            "transaction_number",
        )
    if original.kind in SHIPMENT_KINDS:
        confirmation = store.active_confirmation(original.sequence)
        if confirmation is not None:
            raise LedgerError(
                Code.shipment_already_confirmed,
                f"{original.number} 已由 {confirmation} 签收，请先红冲签收单 (reverse the confirmation first)",
                "transaction_number",
            )
    if on < original.occurred_on:
        raise LedgerError(
            Code.date_before_last_movement,
            f"红冲日期 {on} 早于原单日期 {original.occurred_on}",
            "occurred_on",
        )
    legs = []
    for posting in original.postings:
        location = store.location(posting.location_code)
        item = store.item(posting.item_code)
        batch = store.batch(item, posting.batch_number)
        legs.append(
            Leg(AccountKey(location.id, item.id, batch.id), posting.quantity, location.physical)
        )
    counterparty = (
        store.location(original.counterparty_code) if original.counterparty_code else None
    )
    memo = command.memo or f"红冲 {original.number}"
    return store.post(
        TransactionKind.reversal,
        on,
        store.location(original.location_code),
        mirror_legs(legs),
        counterparty=counterparty,
        reverses=original,
        memo=memo,
    )


def reserve(store: LedgerStore, command: c.Reserve, today: dt.date) -> Reservation:
    on = business_date(command.occurred_on, today)
    check_text(command.reference, "reference", 80)
    location = physical(store.location(command.location_code), "location_code")
    line = c.LineSpec(command.item_code, command.quantity, command.batch_number, command.unit)
    picks = resolve_lines(store, location, [line], on, True)
    for item, batch, quantity in picks:
        key = AccountKey(location.id, item.id, batch.id)
        state = store.lock_states([key])[key]
        if quantity > state.available:
            raise LedgerError(
                Code.exceeds_available,
                f"{store.describe(key)}: 可用 {state.available}，不足 {quantity} (available {state.available})",
                "quantity",
            )
        store.add_reservation(command.reference, key, quantity)
    return Reservation(
        command.reference,
        location.location.code,
        command.item_code,
        tuple((batch.batch.number, quantity) for _, batch, quantity in picks),
    )


def release(store: LedgerStore, command: c.Release, today: dt.date) -> Released:
    rows = store.open_reservations(command.reference)
    if not rows:
        raise LedgerError(
            Code.unknown_reservation,
            f"没有未结的预留 {command.reference!r} (no open reservation)",
            "reference",
        )
    total = 0
    for row in rows:
        key = AccountKey(row["location_id"], row["item_id"], row["batch_id"])
        store.change_reserved(key, -row["remaining"])
        store.reduce_reservation(row["id"], 0, released=True)
        total += row["remaining"]
    return Released(command.reference, total)


HANDLERS: dict[type, Callable[[LedgerStore, Any, dt.date], Any]] = {
    c.AddItem: add_item,
    c.AddLocation: add_location,
    c.Receive: receive,
    c.OpenBalances: open_balances,
    c.Issue: issue,
    c.Confirm: confirm,
    c.Distribute: distribute,
    c.Return: return_to_parent,
    c.WriteOff: write_off,
    c.Adjust: adjust,
    c.Reverse: reverse,
    c.Reserve: reserve,
    c.Release: release,
}

RESULT_TYPES: dict[type, type] = {
    c.AddItem: Item,
    c.AddLocation: Location,
    c.Reserve: Reservation,
    c.Release: Released,
}


def request_digest(command: Any) -> str:
    content = msgspec.json.encode(msgspec.structs.replace(command, idempotency_key=None))
    return hashlib.sha256(type(command).__name__.encode() + b"\0" + content).hexdigest()


def storable_key(key: str) -> str:
    """The key as stored (a column of `idempotency_key_length_max` characters). A key derived
    from a client's (the API prefixes the user, a plan suffixes each location) can be longer
    than the client's maximum: it is stored as its SHA-256 digest."""
    if len(key) <= idempotency_key_length_max:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def run_command(store: LedgerStore, command: Any, today: dt.date) -> Any:
    """Carry out one command on `store`, honouring its idempotency key."""
    handler = HANDLERS.get(type(command))
    if handler is None:
        raise TypeError(f"not a ledger command: {type(command).__name__}")
    key = command.idempotency_key
    if key is None:
        return handler(store, command, today)
    check_text(key, "idempotency_key", idempotency_key_derived_length_max)
    key = storable_key(key)
    operation = type(command).__name__
    digest = request_digest(command)
    stored = store.idempotent(key, operation, digest)
    if stored is not None:
        transaction_id = (
            stored["transaction_id"] if isinstance(stored, dict) else stored.transaction_id
        )
        if transaction_id is not None:
            return store.transaction(transaction_id)
        result = stored["result"] if isinstance(stored, dict) else stored.result
        return msgspec.json.decode(result, type=RESULT_TYPES[type(command)])
    result = handler(store, command, today)
    if isinstance(result, Transaction):
        store.remember(key, operation, digest, result.sequence, "")
    else:
        store.remember(key, operation, digest, None, msgspec.json.encode(result).decode())
    return result


class Ledger:
    """The use cases over one database. `clock` gives today's date: the office's (see
    `ledger.settings.office_today`); tests fix it."""

    def __init__(self, database: Database, clock: Callable[[], dt.date] = office_today) -> None:
        self.database = database
        self.clock = clock

    def execute(self, command: Any, actor: int | None = None) -> Any:
        """Carry out one command as user `actor` (the vouchers' maker; None: the command line)."""
        today = self.clock()
        return self.database.write(
            lambda store: run_command(store.acting(actor, today), command, today)
        )

    def execute_many(self, commands: Sequence[Any], actor: int | None = None) -> list[Any]:
        """Carry out many commands in one database transaction: all of them, or none."""
        if len(commands) > transactions_per_batch_max:
            raise LedgerError(
                Code.too_many_lines,
                f"一批最多 {transactions_per_batch_max} 条 (at most {transactions_per_batch_max} per batch)",
                "commands",
            )
        today = self.clock()
        return self.database.write(
            lambda store: [run_command(store.acting(actor, today), cmd, today) for cmd in commands]
        )

    # Named entry points, for readers of the call sites.
    def add_item(self, item: Item, idempotency_key: str | None = None) -> Item:
        return self.execute(c.AddItem(item, idempotency_key))

    def add_location(self, location: Location, idempotency_key: str | None = None) -> Location:
        return self.execute(c.AddLocation(location, idempotency_key))

    def receive(self, command: c.Receive) -> Transaction:
        return self.execute(command)

    def issue(self, command: c.Issue) -> Transaction:
        return self.execute(command)

    def confirm(self, command: c.Confirm) -> Transaction:
        return self.execute(command)

    def distribute(self, command: c.Distribute) -> Transaction:
        return self.execute(command)

    def return_to_parent(self, command: c.Return) -> Transaction:
        return self.execute(command)

    def write_off(self, command: c.WriteOff) -> Transaction:
        return self.execute(command)

    def adjust(self, command: c.Adjust) -> Transaction:
        return self.execute(command)

    def reverse(self, command: c.Reverse) -> Transaction:
        return self.execute(command)

    def reserve(self, command: c.Reserve) -> Reservation:
        return self.execute(command)

    def release(self, command: c.Release) -> Released:
        return self.execute(command)
