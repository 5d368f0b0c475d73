"""Allocation requests (申领单): a township asks, the level above approves (maybe in part),
approval reserves stock at the supplier, the supplier's clerk ships against the request (FEFO
suggested, overrides need a reason), possibly in several shipments, the township confirms each
arrival (shortages recorded), and the request closes when everything approved has arrived or the
rest is cancelled. Every state change is an event with who and when. Ledger postings and request
changes are written in one database transaction.

States: draft → submitted → approved → closed; submitted → rejected; draft|submitted|approved
(nothing shipped) → cancelled.
"""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import func, insert, select, update

from ledger import commands as c
from ledger.db import oplog
from ledger.db import tables as t
from ledger.db.store import BatchEntry, ItemEntry, LedgerStore, LocationEntry
from ledger.model import AccountKey, Transaction
from ledger.picking import Candidate, batch_ahead, is_usable, pick_batches
from ledger.rules import Code, LedgerError, check_text
from ledger.services.ledger import (
    Ledger,
    base_units,
    check_composed_memo,
    check_lines,
    check_memo,
    physical,
    run_command,
)
from ledger.services.picking import stock_candidates

EDITABLE = frozenset({"draft"})


class RequestLineIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    item_code: str
    quantity: int
    unit: str | None = None


class CreateRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """requester_code: the asking location; supplier_code: who supplies (default its parent)."""

    requester_code: str
    lines: tuple[RequestLineIn, ...]
    supplier_code: str | None = None
    memo: str = ""


class EditRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    lines: tuple[RequestLineIn, ...]
    memo: str = ""


class Approve(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Approved quantity per item; items not listed are approved at 0."""

    lines: tuple[RequestLineIn, ...]
    memo: str = ""


class Reject(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: str


class ShipLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """batch_number: omitted to take the FEFO suggestion; a later-expiring batch than the
    suggestion needs override_reason."""

    item_code: str
    quantity: int
    unit: str | None = None
    batch_number: str | None = None
    override_reason: str | None = None


class Ship(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    lines: tuple[ShipLine, ...]
    occurred_on: dt.date | None = None
    memo: str = ""


class ConfirmShipment(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """received: what arrived, as in a confirmation; shortage: the acknowledgement of what did
    not (required when anything is short; see `ledger.commands.Shortage`)."""

    shipment_number: str
    received: tuple[c.ReceivedLine, ...] = ()
    occurred_on: dt.date | None = None
    memo: str = ""
    shortage: c.Shortage | None = None


class RequestLine(msgspec.Struct, frozen=True):
    item_code: str
    item_name: str
    unit: str
    requested: int
    approved: int | None
    issued: int
    received: int
    short: int
    outstanding: int  # approved − issued, while the request is approved


class RequestShipment(msgspec.Struct, frozen=True):
    number: str
    occurred_on: dt.date
    confirmation_number: str | None


class RequestEvent(msgspec.Struct, frozen=True):
    at: dt.datetime
    user_id: int | None
    action: str
    detail: str


class AllocationRequest(msgspec.Struct, frozen=True):
    number: str
    status: str
    requester_code: str
    requester_name: str
    supplier_code: str
    supplier_name: str
    memo: str
    reject_reason: str | None
    lines: tuple[RequestLine, ...]
    shipments: tuple[RequestShipment, ...]
    created_at: dt.datetime
    updated_at: dt.datetime


class Suggestion(msgspec.Struct, frozen=True):
    """A FEFO pick for one item's outstanding quantity at the supplier."""

    item_code: str
    batch_number: str
    expires_on: dt.date | None
    quantity: int


# ---- reading -----------------------------------------------------------------------------------


def _request_row(store: LedgerStore, number: str, lock: bool = False):
    query = select(t.allocation_requests).where(t.allocation_requests.c.number == number)
    if lock and store.for_update:
        query = query.with_for_update()
    row = store.connection.execute(query).one_or_none()
    if row is None:
        raise LedgerError(
            Code.unknown_request, f"没有申领单 {number!r} (unknown request)", "number"
        )
    return row


def _line_rows(store: LedgerStore, request_id: int):
    lines = t.allocation_request_lines.c
    return store.connection.execute(
        select(t.allocation_request_lines)
        .where(lines.request_id == request_id)
        .order_by(lines.position)
    ).all()


def load_request(store: LedgerStore, number: str) -> AllocationRequest:
    row = _request_row(store, number)
    requester = store.location_by_id(row.requester_location_id)
    supplier = store.location_by_id(row.supplier_location_id)
    lines = []
    for line in _line_rows(store, row.id):
        item = store.item_by_id(line.item_id).item
        outstanding = (line.approved or 0) - line.issued if row.status == "approved" else 0
        lines.append(
            RequestLine(
                item.code,
                item.name,
                item.base_unit,
                line.requested,
                line.approved,
                line.issued,
                line.received,
                line.short,
                outstanding,
            )
        )
    s, tx = t.allocation_request_shipments.c, t.transactions
    confirmation = tx.alias("confirmation")
    shipments = [
        RequestShipment(r[0], r[1], r[2])
        for r in store.connection.execute(
            select(tx.c.number, tx.c.occurred_on, confirmation.c.number)
            .select_from(t.allocation_request_shipments)
            .join(tx, tx.c.id == s.transaction_id)
            .outerjoin(confirmation, confirmation.c.id == s.confirmation_id)
            .where(s.request_id == row.id)
            .order_by(tx.c.id)
        )
    ]
    return AllocationRequest(
        row.number,
        row.status,
        requester.location.code,
        requester.location.name,
        supplier.location.code,
        supplier.location.name,
        row.memo,
        row.reject_reason,
        tuple(lines),
        tuple(shipments),
        as_utc(row.created_at),
        as_utc(row.updated_at),
    )


def request_events(store: LedgerStore, number: str) -> list[RequestEvent]:
    row = _request_row(store, number)
    e = t.allocation_request_events.c
    return [
        RequestEvent(as_utc(r.at), r.user_id, r.action, r.detail)
        for r in store.connection.execute(
            select(e.at, e.user_id, e.action, e.detail).where(e.request_id == row.id).order_by(e.id)
        )
    ]


def request_numbers(
    store: LedgerStore,
    location_path: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> list[str]:
    """Numbers of the requests whose requester or supplier is within `location_path`."""
    r = t.allocation_requests.c
    requester = t.locations.alias("requester")
    supplier = t.locations.alias("supplier")
    query = (
        select(r.number)
        .join(requester, requester.c.id == r.requester_location_id)
        .join(supplier, supplier.c.id == r.supplier_location_id)
        .order_by(r.id)
        .limit(limit)
        .offset(offset)
    )
    if location_path is not None:
        query = query.where(
            requester.c.path.startswith(location_path, autoescape=True)
            | supplier.c.path.startswith(location_path, autoescape=True)
        )
    if status is not None:
        query = query.where(r.status == status)
    return list(store.connection.execute(query).scalars())


# ---- writing -----------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """SQLite gives timestamps back without their zone; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _event(
    store: LedgerStore, request_id: int, actor: int | None, action: str, detail: object
) -> None:
    store.connection.execute(
        insert(t.allocation_request_events),
        {
            "request_id": request_id,
            "at": _now(),
            "user_id": actor,
            "action": action,
            "detail": msgspec.json.encode(detail).decode(),
        },
    )
    r, loc = t.allocation_requests.c, t.locations.c
    number, path = store.connection.execute(
        select(r.number, loc.path)
        .join(t.locations, loc.id == r.requester_location_id)
        .where(r.id == request_id)
    ).one()
    oplog.record(
        store,
        f"request.{action}",
        "request",
        number,
        user_id=actor,
        after=detail,
        location_path=path,
    )


def _set_status(store: LedgerStore, row, status: str, **values) -> None:
    store.connection.execute(
        update(t.allocation_requests)
        .where(t.allocation_requests.c.id == row.id)
        .values(status=status, updated_at=_now(), **values)
    )


def _require_status(row, allowed: set[str] | frozenset[str], action: str) -> None:
    if row.status not in allowed:
        raise LedgerError(
            Code.request_state,
            f"申领单 {row.number} 当前为 {row.status}，不能{action} (not allowed in state {row.status})",
            "status",
        )


def _resolve_lines(store: LedgerStore, lines, field: str = "lines") -> list[tuple[ItemEntry, int]]:
    check_lines(lines)
    resolved: list[tuple[ItemEntry, int]] = []
    seen: set[str] = set()
    for index, line in enumerate(lines):
        item = store.item(line.item_code, f"{field}[{index}].item_code")
        if item.item.code in seen:
            raise LedgerError(
                Code.duplicate_line,
                f"{item.item.name} 出现两次 (duplicate line)",
                f"{field}[{index}]",
            )
        seen.add(item.item.code)
        resolved.append(
            (item, base_units(item.item, line.quantity, line.unit, f"{field}[{index}].quantity"))
        )
    return resolved


def _write_lines(store: LedgerStore, request_id: int, lines: list[tuple[ItemEntry, int]]) -> None:
    store.connection.execute(
        t.allocation_request_lines.delete().where(
            t.allocation_request_lines.c.request_id == request_id
        )
    )
    store.connection.execute(
        insert(t.allocation_request_lines),
        [
            {
                "request_id": request_id,
                "position": position,
                "item_id": item.id,
                "requested": quantity,
                "approved": None,
                "issued": 0,
                "received": 0,
                "short": 0,
            }
            for position, (item, quantity) in enumerate(lines)
        ],
    )


def create_request(
    store: LedgerStore, command: CreateRequest, actor: int | None, today: dt.date
) -> str:
    check_memo(command.memo)
    requester = physical(store.location(command.requester_code, "requester_code"), "requester_code")
    supplier = _supplier(store, requester, command.supplier_code)
    lines = _resolve_lines(store, command.lines)
    number = store.next_number_for("SQ", today.year)
    now = _now()
    request_id = store.connection.execute(
        insert(t.allocation_requests).returning(t.allocation_requests.c.id),
        {
            "number": number,
            "requester_location_id": requester.id,
            "supplier_location_id": supplier.id,
            "status": "draft",
            "memo": command.memo,
            "reject_reason": None,
            "created_by": actor,
            "created_at": now,
            "updated_at": now,
        },
    ).scalar_one()
    _write_lines(store, request_id, lines)
    _event(store, request_id, actor, "created", {"lines": [(i.item.code, q) for i, q in lines]})
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
            Code.invalid_field,
            f"供货方 {supplier.location.name} 必须是 {requester.location.name} 的上级 (supplier must be above)",
            "supplier_code",
        )
    return supplier


def edit_request(store: LedgerStore, number: str, command: EditRequest, actor: int | None) -> None:
    check_memo(command.memo)
    row = _request_row(store, number, lock=True)
    _require_status(row, EDITABLE, "修改")
    lines = _resolve_lines(store, command.lines)
    _write_lines(store, row.id, lines)
    store.connection.execute(
        update(t.allocation_requests)
        .where(t.allocation_requests.c.id == row.id)
        .values(memo=command.memo, updated_at=_now())
    )
    _event(store, row.id, actor, "edited", {"lines": [(i.item.code, q) for i, q in lines]})


def submit_request(store: LedgerStore, number: str, actor: int | None) -> None:
    row = _request_row(store, number, lock=True)
    _require_status(row, {"draft"}, "提交")
    _set_status(store, row, "submitted")
    _event(store, row.id, actor, "submitted", {})


def cancel_request(store: LedgerStore, number: str, actor: int | None, today: dt.date) -> None:
    row = _request_row(store, number, lock=True)
    _require_status(row, {"draft", "submitted", "approved"}, "撤销")
    if any(line.issued for line in _line_rows(store, row.id)):
        raise LedgerError(
            Code.request_state,
            f"申领单 {number} 已发货，不能撤销，请关闭 (already shipped: close it)",
            "status",
        )
    _release_all(store, number, today)
    _set_status(store, row, "cancelled")
    _event(store, row.id, actor, "cancelled", {})


def reject_request(store: LedgerStore, number: str, command: Reject, actor: int | None) -> None:
    check_text(command.reason, "reason", 500)
    row = _request_row(store, number, lock=True)
    _require_status(row, {"submitted"}, "驳回")
    _set_status(store, row, "rejected", reject_reason=command.reason)
    _event(store, row.id, actor, "rejected", {"reason": command.reason})


def approve_request(
    store: LedgerStore, number: str, command: Approve, actor: int | None, today: dt.date
) -> None:
    check_memo(command.memo)
    row = _request_row(store, number, lock=True)
    _require_status(row, {"submitted"}, "审批")
    lines = {line.item_id: line for line in _line_rows(store, row.id)}
    approved: dict[int, int] = dict.fromkeys(lines, 0)
    for index, line in enumerate(command.lines):
        field = f"lines[{index}]"
        item = store.item(line.item_code, f"{field}.item_code")
        if item.id not in lines:
            raise LedgerError(
                Code.invalid_field, f"申领单中没有 {item.item.name} (item not requested)", field
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
        store.connection.execute(
            update(t.allocation_request_lines)
            .where(t.allocation_request_lines.c.id == lines[item_id].id)
            .values(approved=quantity)
        )
        if quantity:
            item = store.item_by_id(item_id)
            run_command(
                store, c.Reserve(number, supplier.location.code, item.item.code, quantity), today
            )
    status = "approved" if any(approved.values()) else "closed"
    _set_status(store, row, status)
    detail = {
        "approved": [(store.item_by_id(i).item.code, q) for i, q in approved.items()],
        "memo": command.memo,
    }
    _event(store, row.id, actor, "approved", detail)
    if status == "closed":
        _event(store, row.id, actor, "closed", {"reason": "nothing approved"})


def suggest(store: LedgerStore, number: str, today: dt.date) -> list[Suggestion]:
    """FEFO picks at the supplier for every outstanding line, counting what this request has
    reserved as available; ranked by expiry alone, as the override check on shipping ranks."""
    row = _request_row(store, number)
    if row.status != "approved":
        return []
    supplier = store.location_by_id(row.supplier_location_id)
    reserved = _reserved_by_batch(store, number)
    suggestions: list[Suggestion] = []
    for line in _line_rows(store, row.id):
        outstanding = (line.approved or 0) - line.issued
        if outstanding <= 0:
            continue
        item = store.item_by_id(line.item_id)
        candidates = [c for _, c in _candidates(store, supplier, item, reserved)]
        expiry = {candidate.batch_number: candidate.expires_on for candidate in candidates}
        for pick in pick_batches(candidates, outstanding, today, partial=True):
            suggestions.append(
                Suggestion(
                    item.item.code, pick.batch_number, expiry[pick.batch_number], pick.quantity
                )
            )
    return suggestions


def _reserved_by_batch(store: LedgerStore, number: str) -> dict[tuple[int, int], int]:
    reserved: dict[tuple[int, int], int] = {}
    for row in store.open_reservations(number):
        pair = (row["item_id"], row["batch_id"])
        reserved[pair] = reserved.get(pair, 0) + row["remaining"]
    return reserved


def _candidates(
    store: LedgerStore,
    location: LocationEntry,
    item: ItemEntry,
    reserved: dict[tuple[int, int], int],
) -> list[tuple[BatchEntry, Candidate]]:
    """The batches at `location` with what this request may take of each."""
    ours = {batch_id: qty for (item_id, batch_id), qty in reserved.items() if item_id == item.id}
    return stock_candidates(store, location.id, item.id, ours)


def ship_request(
    store: LedgerStore, number: str, command: Ship, actor: int | None, today: dt.date
) -> Transaction:
    check_memo(command.memo)
    row = _request_row(store, number, lock=True)
    _require_status(row, {"approved"}, "发货")
    supplier = store.location_by_id(row.supplier_location_id)
    requester = store.location_by_id(row.requester_location_id)
    lines = {line.item_id: line for line in _line_rows(store, row.id)}
    reserved = _reserved_by_batch(store, number)
    issue_lines: list[c.LineSpec] = []
    overrides: list[str] = []
    shipped: dict[int, int] = {}
    taken: dict[int, dict[str, int]] = {}  # by earlier named lines: item id → batch → units
    for index, line in enumerate(command.lines):
        field = f"lines[{index}]"
        item = store.item(line.item_code, f"{field}.item_code")
        if item.id not in lines:
            raise LedgerError(
                Code.invalid_field, f"申领单中没有 {item.item.name} (item not requested)", field
            )
        quantity = base_units(item.item, line.quantity, line.unit, f"{field}.quantity")
        shipped[item.id] = shipped.get(item.id, 0) + quantity
        outstanding = (lines[item.id].approved or 0) - lines[item.id].issued
        if shipped[item.id] > outstanding:
            raise LedgerError(
                Code.exceeds_approved,
                f"{item.item.name} 待发 {outstanding}，本次 {shipped[item.id]} 超出 (more than approved)",
                f"{field}.quantity",
            )
        if line.batch_number is not None:
            # An earlier batch than this one that this shipment does not already empty (a
            # batch FEFO cannot pick here is behind every batch that can).
            candidates = [c for _, c in _candidates(store, supplier, item, reserved)]
            chosen = next(
                (
                    c
                    for c in candidates
                    if c.batch_number == line.batch_number and is_usable(c, today)
                ),
                None,
            )
            ours = taken.setdefault(item.id, {})
            first = batch_ahead(candidates, chosen, today, ours)
            ours[line.batch_number] = ours.get(line.batch_number, 0) + quantity
            if first is not None:
                if not (line.override_reason or "").strip():
                    raise LedgerError(
                        Code.fefo_override_reason_required,
                        f"{item.item.name} 应先发近效期批次 {first.batch_number}，改发 {line.batch_number} 须说明原因 "
                        f"(a later batch than the FEFO suggestion needs a reason)",
                        f"{field}.override_reason",
                    )
                check_text(line.override_reason or "", f"{field}.override_reason", 200)
                overrides.append(f"{item.item.code}/{line.batch_number}: {line.override_reason}")
        issue_lines.append(c.LineSpec(item.item.code, quantity, line.batch_number))
    memo = command.memo or f"申领单 {number}"
    if overrides:
        memo = f"{memo}；未按近效期先出：{'；'.join(overrides)}"
    issue = c.Issue(
        supplier.location.code,
        requester.location.code,
        tuple(issue_lines),
        command.occurred_on,
        check_composed_memo(memo, "改发原因"),
        reservation=number if reserved else None,
    )
    approver = store.connection.execute(
        select(t.allocation_request_events.c.user_id)
        .where(
            t.allocation_request_events.c.request_id == row.id,
            t.allocation_request_events.c.action == "approved",
        )
        .order_by(t.allocation_request_events.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    with store.approved_by(approver):  # the shipment carries out the approver's decision
        shipment = run_command(store, issue, today)
    store.flush()
    for item_id, quantity in shipped.items():
        store.connection.execute(
            update(t.allocation_request_lines)
            .where(t.allocation_request_lines.c.id == lines[item_id].id)
            .values(issued=lines[item_id].issued + quantity)
        )
    store.connection.execute(
        insert(t.allocation_request_shipments),
        {"transaction_id": shipment.sequence, "request_id": row.id, "confirmation_id": None},
    )
    _trim_reservations(
        store,
        number,
        {i: (lines[i].approved or 0) - lines[i].issued - shipped.get(i, 0) for i in lines},
    )
    _event(store, row.id, actor, "shipped", {"shipment": shipment.number, "overrides": overrides})
    return shipment


def _trim_reservations(store: LedgerStore, number: str, outstanding: dict[int, int]) -> None:
    """Keep no more reserved per item than is still to be shipped (the clerk may have shipped
    other batches than the reserved ones)."""
    held: dict[int, int] = {}
    for row in store.open_reservations(number):
        keep = max(0, outstanding.get(row["item_id"], 0) - held.get(row["item_id"], 0))
        remaining = min(row["remaining"], keep)
        held[row["item_id"]] = held.get(row["item_id"], 0) + remaining
        if remaining < row["remaining"]:
            key = AccountKey(row["location_id"], row["item_id"], row["batch_id"])
            store.change_reserved(key, remaining - row["remaining"])
            store.reduce_reservation(row["id"], remaining, released=True)


def _release_all(store: LedgerStore, number: str, today: dt.date) -> None:
    if store.open_reservations(number):
        run_command(store, c.Release(number), today)


def confirm_shipment(
    store: LedgerStore, number: str, command: ConfirmShipment, actor: int | None, today: dt.date
) -> Transaction:
    row = _request_row(store, number, lock=True)
    _require_status(row, {"approved", "closed"}, "签收")
    shipment = store.transaction_by_number(command.shipment_number, lock=True)
    s = t.allocation_request_shipments.c
    link = store.connection.execute(
        select(s.confirmation_id).where(
            s.transaction_id == shipment.sequence, s.request_id == row.id
        )
    ).one_or_none()
    if link is None:
        raise LedgerError(
            Code.shipment_not_in_request,
            f"{command.shipment_number} 不是申领单 {number} 的发货单 (not a shipment of this request)",
            "shipment_number",
        )
    confirmation = run_command(
        store,
        c.Confirm(
            command.shipment_number,
            command.received,
            command.occurred_on,
            command.memo,
            shortage=command.shortage,
        ),
        today,
    )
    store.flush()
    store.connection.execute(
        update(t.allocation_request_shipments)
        .where(s.transaction_id == shipment.sequence)
        .values(confirmation_id=confirmation.sequence)
    )
    lines = {line.item_id: line for line in _line_rows(store, row.id)}
    arrived: dict[int, int] = {}
    short: dict[int, int] = {}
    for posting in confirmation.postings:
        if posting.quantity <= 0:
            continue
        item_id = store.item(posting.item_code).id
        target = short if posting.location_code == "adjustment" else arrived
        target[item_id] = target.get(item_id, 0) + posting.quantity
    for item_id, line in lines.items():
        if item_id in arrived or item_id in short:
            store.connection.execute(
                update(t.allocation_request_lines)
                .where(t.allocation_request_lines.c.id == line.id)
                .values(
                    received=line.received + arrived.get(item_id, 0),
                    short=line.short + short.get(item_id, 0),
                )
            )
    _event(
        store,
        row.id,
        actor,
        "received",
        {"shipment": command.shipment_number, "confirmation": confirmation.number},
    )
    if row.status == "approved" and _everything_arrived(store, row.id):
        _set_status(store, row, "closed")
        _event(store, row.id, actor, "closed", {"reason": "everything approved has arrived"})
    return confirmation


def _everything_arrived(store: LedgerStore, request_id: int) -> bool:
    lines = _line_rows(store, request_id)
    if any((line.approved or 0) != line.issued for line in lines):
        return False
    return _unconfirmed_shipments(store, request_id) == 0


def _unconfirmed_shipments(store: LedgerStore, request_id: int) -> int:
    s = t.allocation_request_shipments.c
    return store.connection.execute(
        select(func.count()).where(s.request_id == request_id, s.confirmation_id.is_(None))
    ).scalar_one()


def close_request(store: LedgerStore, number: str, actor: int | None, today: dt.date) -> None:
    """Close an approved request: what was approved but not shipped is cancelled."""
    row = _request_row(store, number, lock=True)
    _require_status(row, {"approved"}, "关闭")
    in_transit = _unconfirmed_shipments(store, row.id)
    if in_transit:
        raise LedgerError(
            Code.shipments_in_transit,
            f"申领单 {number} 还有 {in_transit} 张发货单未签收 (shipments in transit)",
            "status",
        )
    _release_all(store, number, today)
    _set_status(store, row, "closed")
    _event(store, row.id, actor, "closed", {"reason": "closed with the rest cancelled"})


class Requests:
    """The request use cases over one ledger, each in its own database transaction."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def _write(self, actor: int | None, work):
        today = self.ledger.clock()
        return self.ledger.database.write(lambda store: work(store.acting(actor, today), today))

    def create(self, command: CreateRequest, actor: int | None = None) -> AllocationRequest:
        return self._write(
            actor, lambda s, d: load_request(s, create_request(s, command, actor, d))
        )

    def edit(
        self, number: str, command: EditRequest, actor: int | None = None
    ) -> AllocationRequest:
        return self._write(
            actor,
            lambda s, d: (edit_request(s, number, command, actor), load_request(s, number))[1],
        )

    def submit(self, number: str, actor: int | None = None) -> AllocationRequest:
        return self._write(
            actor, lambda s, d: (submit_request(s, number, actor), load_request(s, number))[1]
        )

    def cancel(self, number: str, actor: int | None = None) -> AllocationRequest:
        return self._write(
            actor, lambda s, d: (cancel_request(s, number, actor, d), load_request(s, number))[1]
        )

    def reject(self, number: str, command: Reject, actor: int | None = None) -> AllocationRequest:
        return self._write(
            actor,
            lambda s, d: (reject_request(s, number, command, actor), load_request(s, number))[1],
        )

    def approve(self, number: str, command: Approve, actor: int | None = None) -> AllocationRequest:
        return self._write(
            actor,
            lambda s, d: (approve_request(s, number, command, actor, d), load_request(s, number))[
                1
            ],
        )

    def ship(self, number: str, command: Ship, actor: int | None = None) -> Transaction:
        return self._write(actor, lambda s, d: ship_request(s, number, command, actor, d))

    def confirm(
        self, number: str, command: ConfirmShipment, actor: int | None = None
    ) -> Transaction:
        return self._write(actor, lambda s, d: confirm_shipment(s, number, command, actor, d))

    def close(self, number: str, actor: int | None = None) -> AllocationRequest:
        return self._write(
            actor, lambda s, d: (close_request(s, number, actor, d), load_request(s, number))[1]
        )

    def get(self, number: str) -> AllocationRequest:
        return self.ledger.database.lookup(lambda s: load_request(s, number))

    def events(self, number: str) -> list[RequestEvent]:
        return self.ledger.database.lookup(lambda s: request_events(s, number))

    def suggestion(self, number: str) -> list[Suggestion]:
        today = self.ledger.clock()
        return self.ledger.database.lookup(lambda s: suggest(s, number, today))
