"""签收's shared pieces, for the request page's confirm (api/web/request_confirm.py) and a
shipment's own confirm page (api/web/confirm.py): the lines a shipment carries, the form as
typed (a received quantity per item and batch, in base units or one of the item's packs), the
lines that arrived short, and the shortage step of the API's two-step rule
(api.common.SHORTAGE_STEP): the first sending without a shortage is refused with
`shortage_unconfirmed`; the page then shows what is missing and asks why (a reason, a note for
其他), and the second sending carries the reason with exactly those missing lines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from litestar.datastructures import FormMultiDict

from api.web.render import new_once_key
from api.web.request_views import parse_date, whole_number
from ledger import commands as c
from ledger.model import Item, Transaction, VirtualLocation
from ledger.rules import Code, LedgerError


class ConfirmLine(NamedTuple):
    """One item and batch of a shipment: shipped (base units) and received as typed, in
    `unit` ("" the base unit, else one of the item's packs)."""

    item_code: str
    batch_number: str
    shipped: int
    received: str
    unit: str = ""


class MissingLine(NamedTuple):
    item_code: str
    batch_number: str
    shipped: int
    received: int

    @property
    def missing(self) -> int:
        return self.shipped - self.received


@dataclass
class ConfirmForm:
    """One shipment's arrival form. missing: set once the first sending found less than
    shipped (the second step asks why)."""

    number: str
    lines: list[ConfirmLine]
    occurred_on: str = ""
    memo: str = ""
    missing: list[MissingLine] = field(default_factory=list)
    reason: str = ""
    note: str = ""
    once: str = field(default_factory=new_once_key)


def shipped_lines(shipment: Transaction) -> list[ConfirmLine]:
    """What a shipment carries, per item and batch (its in-transit legs), received as shipped
    (in base units)."""
    return [
        ConfirmLine(p.item_code, p.batch_number, p.quantity, str(p.quantity))
        for p in shipment.postings
        if p.location_code == VirtualLocation.in_transit.value and p.quantity > 0
    ]


def in_packs(lines: list[ConfirmLine], items: Mapping[str, Item]) -> list[ConfirmLine]:
    """The lines prefilled in the largest pack that holds the shipped quantity exactly (so many
    捆 rather than so many 张); in base units where no pack does."""
    shown = []
    for line in lines:
        item = items.get(line.item_code)
        packs = sorted(item.packs if item else (), key=lambda p: p.base_units, reverse=True)
        fits = [p for p in packs if p.base_units > 1 and line.shipped % p.base_units == 0]
        if fits and line.shipped:
            pack = fits[0]
            line = line._replace(received=str(line.shipped // pack.base_units), unit=pack.name)
        shown.append(line)
    return shown


def received_base(line: ConfirmLine, items: Mapping[str, Item] | None = None) -> int | None:
    """The received quantity typed, in base units; None when it cannot be read (the service
    refuses it beside its field)."""
    text = line.received.replace(",", "").replace("，", "").strip()
    if not text.isdecimal():  # not isdigit: int() cannot read '²'
        return None
    if not line.unit:
        return int(text)
    item = (items or {}).get(line.item_code)
    pack = item.pack(line.unit) if item else None
    if item is not None and line.unit == item.base_unit:
        return int(text)
    return int(text) * pack.base_units if pack else None


def missing_of(
    lines: list[ConfirmLine], items: Mapping[str, Item] | None = None
) -> list[MissingLine]:
    """The lines that arrived short, by what was typed (a line typed wrong counts as full: the
    service refuses it beside its field)."""
    missing = []
    for line in lines:
        received = received_base(line, items)
        if received is None:
            received = line.shipped
        if received < line.shipped:
            missing.append(MissingLine(line.item_code, line.batch_number, line.shipped, received))
    return missing


def typed_form(form: FormMultiDict, shipment: str, shipped: list[ConfirmLine]) -> ConfirmForm:
    """The form as sent: the received quantity (and its unit, when the form offers one) typed
    for each line of the shipment, by item and batch, and the shortage step's fields."""
    typed: dict[tuple[str, str], tuple[str, str]] = {}
    units = form.getall("received_unit", [])
    for index, (code, batch, received) in enumerate(
        zip(
            form.getall("item_code", []),
            form.getall("batch_number", []),
            form.getall("received", []),
            strict=False,
        )
    ):
        unit = units[index].strip() if index < len(units) else ""
        typed[(code, batch)] = (received.strip(), unit)
    lines = [
        line._replace(
            received=typed.get((line.item_code, line.batch_number), ("", ""))[0],
            unit=typed.get((line.item_code, line.batch_number), ("", ""))[1],
        )
        for line in shipped
    ]
    return ConfirmForm(
        shipment,
        lines,
        str(form.get("occurred_on", "")).strip(),
        str(form.get("memo", "")).strip(),
        [],
        str(form.get("shortage_reason", "")).strip(),
        str(form.get("shortage_note", "")).strip(),
    )


def second_step(form: FormMultiDict) -> bool:
    """Whether the form is the shortage step's (it carries the missing lines it showed)."""
    return "short_item" in form


def shortage_of(form: FormMultiDict, confirm: ConfirmForm) -> c.Shortage | None:
    """The second step's acknowledgement: the reason and the missing lines the first step
    showed (sent back as hidden fields); None on the first sending."""
    if not second_step(form):
        return None
    if not confirm.reason:
        raise LedgerError(Code.reason_required, "请选择短少原因", "shortage.reason")
    lines = tuple(
        c.ShortageLine(code, batch, whole_number(quantity, "shortage"))
        for code, batch, quantity in zip(
            form.getall("short_item", []),
            form.getall("short_batch", []),
            form.getall("short_quantity", []),
            strict=False,
        )
    )
    return c.Shortage(confirm.reason, lines, confirm.note)


def received_of(confirm: ConfirmForm) -> tuple[c.ReceivedLine, ...]:
    """The received lines of the command, one per line of the shipment, in the form's order
    (so the service's `received[i]` names the page's line i)."""
    return tuple(
        c.ReceivedLine(
            line.item_code,
            line.batch_number,
            whole_number(line.received, f"received[{index}].quantity_received"),
            line.unit or None,
        )
        for index, line in enumerate(confirm.lines)
    )


def confirmation_of(form: FormMultiDict, confirm: ConfirmForm) -> c.Confirm:
    """The API's confirmation command (POST /api/v1/transactions/confirmations) of the form."""
    return c.Confirm(
        confirm.number,
        received_of(confirm),
        parse_date(confirm.occurred_on, "occurred_on"),
        confirm.memo,
        shortage=shortage_of(form, confirm),
    )


def field_of(error: LedgerError) -> str | None:
    """The page's field for a refusal: the received box of a line, the reason or note of the
    shortage step, the date, the memo; the shortage as a whole above its table."""
    found = error.field or ""
    if found.startswith("received[") or found in ("occurred_on", "memo"):
        return found
    if found in ("shortage.reason", "shortage.note"):
        return found
    if found.startswith("shortage"):
        return "shortage"
    return None


def refused_missing(error: LedgerError, form: FormMultiDict, confirm: ConfirmForm) -> bool:
    """Whether a refused form shows the shortage step: the service found a shortage (or none
    where one was declared), or the form was in that step already."""
    return error.code in (Code.shortage_unconfirmed, Code.no_shortage_to_confirm) or (
        second_step(form)
    )
