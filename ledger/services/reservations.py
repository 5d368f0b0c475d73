"""Reservations: stock held at a location for a reference (a request), picked FEFO, and
released."""

from __future__ import annotations

import datetime as dt

import msgspec

from ledger import commands as c
from ledger.limits import reservation_reference_length_max
from ledger.model import AccountKey
from ledger.rules import Code, LedgerError, check_text
from ledger.services.checks import business_date, physical
from ledger.services.movement_lines import resolve_lines
from ledger.services.ports import Store


class Reservation(msgspec.Struct, frozen=True):
    """What a Reserve command reserved: per batch, FEFO."""

    reference: str
    location_code: str
    item_code: str
    lines: tuple[tuple[str, int], ...]  # (batch number, base units)


class Released(msgspec.Struct, frozen=True):
    reference: str
    quantity: int  # base units released in all


def reserve(store: Store, command: c.Reserve, today: dt.date) -> Reservation:
    on = business_date(command.occurred_on, today)
    check_text(command.reference, "reference", reservation_reference_length_max)
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


def release(store: Store, command: c.Release, today: dt.date) -> Released:
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
