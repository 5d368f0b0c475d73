"""A request's life before and after its shipments, inside a unit of work: create and edit a
draft, submit, approve (reserving stock at the supplier), reject, cancel, close. Each step asks
the state machine (`ledger.requests`) and records its event."""

from __future__ import annotations

import datetime as dt

from ledger import commands as c
from ledger.db import requests as db
from ledger.db.store import LedgerStore, LocationEntry
from ledger.limits import reject_reason_length_max
from ledger.requests import RequestAction, RequestEventAction, RequestStatus, status_after_approval
from ledger.rules import Code, LedgerError, check_text
from ledger.services.checks import base_units, check_memo, physical
from ledger.services.request_models import Approve, CreateRequest, EditRequest, Reject
from ledger.services.request_records import (
    move,
    now,
    record_event,
    release_all,
    request_row,
    resolve_lines,
)
from ledger.services.reservations import reserve
from ledger.services.suggestions import suggested_quantities
from ledger.settings import office_today


def create_request(
    store: LedgerStore, command: CreateRequest, actor: int | None, today: dt.date
) -> str:
    check_memo(command.memo)
    requester = physical(store.location(command.requester_code, "requester_code"), "requester_code")
    supplier = _supplier(store, requester, command.supplier_code)
    lines = resolve_lines(store, command.lines)
    number = store.next_number_for("SQ", today.year)
    created = now()
    request_id = db.insert_request(
        store,
        number=number,
        requester_location_id=requester.id,
        supplier_location_id=supplier.id,
        status=RequestStatus.draft.value,
        memo=command.memo,
        reject_reason=None,
        created_by=actor,
        created_at=created,
        updated_at=created,
    )
    db.replace_lines(
        store,
        request_id,
        [(item.id, quantity) for item, quantity in lines],
        suggested_quantities(store, requester.location.code, today),
    )
    record_event(
        store,
        request_id,
        actor,
        RequestEventAction.created,
        {"lines": [(i.item.code, q) for i, q in lines]},
    )
    return number


def _supplier(
    store: LedgerStore, requester: LocationEntry, supplier_code: str | None
) -> LocationEntry:
    if supplier_code is None:
        if requester.location.parent_code is None:
            raise LedgerError(
                Code.location_has_no_parent,
                f"{requester.location.name} 没有上级，无法申领",
                "requester_code",
            )
        return store.location(requester.location.parent_code)
    supplier = physical(store.location(supplier_code, "supplier_code"), "supplier_code")
    if supplier.id == requester.id or not requester.path.startswith(supplier.path):
        raise LedgerError(
            Code.supplier_not_above_requester,
            f"供货方 {supplier.location.name} 必须是 {requester.location.name} 的上级 (supplier must be above)",
            "supplier_code",
        )
    return supplier


def edit_request(store: LedgerStore, number: str, command: EditRequest, actor: int | None) -> None:
    check_memo(command.memo)
    row = request_row(store, number, lock=True, action=RequestAction.edit)
    lines = resolve_lines(store, command.lines)
    requester = store.location_by_id(row.requester_location_id).location.code
    db.replace_lines(
        store,
        row.id,
        [(item.id, quantity) for item, quantity in lines],
        suggested_quantities(store, requester, store.people.today or office_today()),
    )
    db.update_request(store, row.id, memo=command.memo, updated_at=now())
    edited = {"lines": [(i.item.code, q) for i, q in lines]}
    record_event(store, row.id, actor, RequestEventAction.edited, edited)


def submit_request(store: LedgerStore, number: str, actor: int | None) -> None:
    row = request_row(store, number, lock=True, action=RequestAction.submit)
    move(store, row, RequestAction.submit, RequestStatus.submitted)
    record_event(store, row.id, actor, RequestEventAction.submitted, {})


def cancel_request(store: LedgerStore, number: str, actor: int | None, today: dt.date) -> None:
    row = request_row(store, number, lock=True, action=RequestAction.cancel)
    if any(line.issued for line in db.lines(store, row.id)):
        raise LedgerError(
            Code.request_state,
            f"申领单 {number} 已发货，不能撤销，请关闭 (already shipped: close it)",
            "status",
        )
    release_all(store, number, today)
    move(store, row, RequestAction.cancel, RequestStatus.cancelled)
    record_event(store, row.id, actor, RequestEventAction.cancelled, {})


def reject_request(store: LedgerStore, number: str, command: Reject, actor: int | None) -> None:
    check_text(command.reason, "reason", reject_reason_length_max)
    row = request_row(store, number, lock=True, action=RequestAction.reject)
    move(store, row, RequestAction.reject, RequestStatus.rejected, reject_reason=command.reason)
    record_event(store, row.id, actor, RequestEventAction.rejected, {"reason": command.reason})


def approve_request(
    store: LedgerStore, number: str, command: Approve, actor: int | None, today: dt.date
) -> None:
    """Approve per item (an item not listed at 0), reserving what was approved at the supplier;
    approving nothing closes the request."""
    check_memo(command.memo)
    row = request_row(store, number, lock=True, action=RequestAction.approve)
    lines = {line.item_id: line for line in db.lines(store, row.id)}
    approved: dict[int, int] = dict.fromkeys(lines, 0)
    for index, line in enumerate(command.lines):
        field = f"lines[{index}]"
        item = store.item(line.item_code, f"{field}.item_code")
        if item.id not in lines:
            raise LedgerError(
                Code.item_not_requested,
                f"申领单中没有 {item.item.name} (item not requested)",
                field,
            )
        quantity = (
            0
            if line.quantity == 0
            else base_units(item.item, line.quantity, line.unit, f"{field}.quantity")
        )
        if quantity > lines[item.id].requested:
            raise LedgerError(
                Code.exceeds_requested,
                f"{item.item.name} 批准 {quantity} 超过申领 {lines[item.id].requested} (more than requested)",
                f"{field}.quantity",
            )
        approved[item.id] = quantity
    supplier = store.location_by_id(row.supplier_location_id)
    for item_id, quantity in approved.items():
        db.update_line(store, lines[item_id].id, approved=quantity)
        if quantity:
            item = store.item_by_id(item_id)
            reserve(
                store, c.Reserve(number, supplier.location.code, item.item.code, quantity), today
            )
    status = status_after_approval(approved.values())
    move(store, row, RequestAction.approve, status)
    detail = {
        "approved": [(store.item_by_id(i).item.code, q) for i, q in approved.items()],
        "memo": command.memo,
    }
    record_event(store, row.id, actor, RequestEventAction.approved, detail)
    if status is RequestStatus.closed:
        record_event(
            store, row.id, actor, RequestEventAction.closed, {"reason": "nothing approved"}
        )


def close_request(store: LedgerStore, number: str, actor: int | None, today: dt.date) -> None:
    """Close an approved request: what was approved but not shipped is cancelled."""
    row = request_row(store, number, lock=True, action=RequestAction.close)
    in_transit = db.unconfirmed_shipments(store, row.id)
    if in_transit:
        raise LedgerError(
            Code.shipments_in_transit,
            f"申领单 {number} 还有 {in_transit} 张发货单未签收 (shipments in transit)",
            "status",
        )
    release_all(store, number, today)
    move(store, row, RequestAction.close, RequestStatus.closed)
    closed = {"reason": "closed with the rest cancelled"}
    record_event(store, row.id, actor, RequestEventAction.closed, closed)
