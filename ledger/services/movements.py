"""The movements a warehouse makes: receipts, opening balances, issues and transfers,
distributions, returns, write-offs and stocktake adjustments. Each is a handler
`handler(store, command, today)` inside a unit of work (`ledger.services.ledger` runs them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ledger import commands as c
from ledger.entries import BatchEntry, ItemEntry
from ledger.limits import opening_lines_per_transaction_max, reason_code_length_max
from ledger.model import Transaction, TransactionKind, VirtualLocation, WriteOffReason
from ledger.posting import Leg
from ledger.rules import Code, LedgerError, check_quantity, check_text
from ledger.services.checks import (
    base_units,
    business_date,
    check_lines,
    check_memo,
    physical,
    refuse_expired,
)
from ledger.services.movement_lines import merge_picks, moves_between, receipt_batch, resolve_lines
from ledger.services.ports import Store

SHIPMENT_KINDS = frozenset({TransactionKind.issue, TransactionKind.transfer})


def receive(store: Store, command: c.Receive, today: dt.date) -> Transaction:
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
        batch = receipt_batch(store, item, line, field)
        refuse_expired(batch, item, on, f"{field}.expires_on")
        lines.append((item, batch, quantity))
    legs = moves_between(supplier, location, lines)
    return store.post(TransactionKind.receipt, on, location, legs, memo=command.memo)


def open_balances(store: Store, command: c.OpenBalances, today: dt.date) -> Transaction:
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
        lines.append((item, receipt_batch(store, item, line, field), quantity))
    legs = moves_between(source, location, lines)
    return store.post(TransactionKind.opening, on, location, legs, memo=command.memo)


def issue(store: Store, command: c.Issue, today: dt.date) -> Transaction:
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
    lines = merge_picks(resolve_lines(store, source, command.lines, on, True, reserved))
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


def _consume_reservations(store: Store, rows: list[dict], legs: Sequence[Leg]) -> None:
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


def distribute(store: Store, command: c.Distribute, today: dt.date) -> Transaction:
    on = business_date(command.occurred_on, today)
    check_memo(command.memo)
    location = physical(store.location(command.location_code), "location_code")
    lines = merge_picks(resolve_lines(store, location, command.lines, on, True))
    legs = moves_between(location, store.location(VirtualLocation.distributed.value), lines)
    return store.post(TransactionKind.distribution, on, location, legs, memo=command.memo)


def return_to_parent(store: Store, command: c.Return, today: dt.date) -> Transaction:
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
    lines = merge_picks(resolve_lines(store, location, command.lines, on, False))
    legs = moves_between(location, parent, lines)
    return store.post(
        TransactionKind.return_, on, location, legs, counterparty=parent, memo=command.memo
    )


def write_off(store: Store, command: c.WriteOff, today: dt.date) -> Transaction:
    on = business_date(command.occurred_on, today)
    check_memo(command.memo)
    reasons = [reason.value for reason in WriteOffReason]
    if command.reason not in reasons:
        raise LedgerError(
            Code.unknown_write_off_reason,
            f"报损原因必须是 {', '.join(reasons)} 之一 (unknown reason)",
            "reason",
        )
    if command.reason == WriteOffReason.other and not command.memo.strip():
        raise LedgerError(
            Code.reason_required, "原因为“其他”时须在摘要中说明 (memo required)", "memo"
        )
    location = physical(store.location(command.location_code), "location_code")
    lines = merge_picks(resolve_lines(store, location, command.lines, on, False))
    legs = moves_between(location, store.location(VirtualLocation.scrapped.value), lines)
    return store.post(
        TransactionKind.write_off, on, location, legs, reason=command.reason, memo=command.memo
    )


def adjust(store: Store, command: c.Adjust, today: dt.date) -> Transaction:
    on = business_date(command.occurred_on, today)
    check_memo(command.memo)
    check_lines(command.lines)
    check_text(command.reason, "reason", reason_code_length_max)
    location = physical(store.location(command.location_code), "location_code")
    adjustment = store.location(VirtualLocation.adjustment.value)
    gains: list[tuple[ItemEntry, BatchEntry, int]] = []
    losses: list[tuple[ItemEntry, BatchEntry, int]] = []
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
