"""A shipment's confirmation (签收): what arrived goes to the receiver; what did not is a
shortage, posted only with the receiver's explicit acknowledgement of exactly what is missing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

from ledger import commands as c
from ledger.entries import ItemEntry
from ledger.limits import lines_per_transaction_max, shortage_note_length_max
from ledger.model import Transaction, TransactionKind, VirtualLocation
from ledger.rules import Code, LedgerError, check_text
from ledger.services.checks import base_units, business_date, check_composed_memo, check_memo
from ledger.services.movement_lines import moves_between
from ledger.services.movements import SHIPMENT_KINDS
from ledger.services.ports import Store


def confirm(store: Store, command: c.Confirm, today: dt.date) -> Transaction:
    on = business_date(command.occurred_on, today)
    check_memo(command.memo)
    shipment = store.transaction_by_number(command.shipment_number, lock=True)
    _check_confirmable(store, shipment, on)
    shipped = {
        (p.item_code, p.batch_number): p.quantity
        for p in shipment.postings
        if p.location_code == VirtualLocation.in_transit.value
    }
    received = _received(store, shipment, shipped, command.received)
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


def _check_confirmable(store: Store, shipment: Transaction, on: dt.date) -> None:
    """A shipment, neither reversed nor confirmed yet, confirmed no earlier than it left."""
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


def _received(
    store: Store,
    shipment: Transaction,
    shipped: dict[tuple[str, str], int],
    lines: Sequence[c.ReceivedLine],
) -> dict[tuple[str, str], int]:
    """What arrived per (item, batch) in base units: as shipped unless a line says otherwise."""
    received = dict(shipped)
    for index, line in enumerate(lines):
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
    return received


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
    store: Store,
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
                Code.no_shortage_to_confirm,
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
            Code.unknown_shortage_reason,
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
