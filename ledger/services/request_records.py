"""Reading a request and recording its changes, inside a unit of work: the steps every request
use case shares (`ledger.services.requests` lists the use cases)."""

from __future__ import annotations

import datetime as dt

import msgspec

from ledger import commands as c
from ledger.db import oplog
from ledger.db import requests as db
from ledger.db.store import ItemEntry, LedgerStore
from ledger.requests import (
    RequestAction,
    RequestEventAction,
    RequestStatus,
    check_action,
    next_status,
    outstanding,
)
from ledger.rules import Code, LedgerError
from ledger.services.checks import base_units, check_lines
from ledger.services.request_models import (
    AllocationRequest,
    RequestEvent,
    RequestLine,
    RequestShipment,
)
from ledger.services.reservations import release


def request_row(
    store: LedgerStore, number: str, lock: bool = False, action: RequestAction | None = None
) -> db.RequestRow:
    """The request (locked for update when `lock`); with `action`, refused unless its state
    allows that action."""
    row = db.request(store, number, lock)
    if row is None:
        raise LedgerError(
            Code.unknown_request, f"没有申领单 {number!r} (unknown request)", "number"
        )
    if action is not None:
        check_action(row.number, row.status, action)
    return row


def load_request(store: LedgerStore, number: str) -> AllocationRequest:
    row = request_row(store, number)
    requester = store.location_by_id(row.requester_location_id)
    supplier = store.location_by_id(row.supplier_location_id)
    lines = []
    for line in db.lines(store, row.id):
        item = store.item_by_id(line.item_id).item
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
                outstanding(row.status, line.approved, line.issued),
                line.suggested,
            )
        )
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
        tuple(RequestShipment(*shipment) for shipment in db.shipments(store, row.id)),
        row.created_at,
        row.updated_at,
    )


def request_events(store: LedgerStore, number: str) -> list[RequestEvent]:
    row = request_row(store, number)
    return [RequestEvent(*event) for event in db.events(store, row.id)]


def request_numbers(
    store: LedgerStore, location_path: str | None, status: str | None, limit: int, offset: int
) -> list[str]:
    """Numbers of the requests whose requester or supplier is within `location_path`."""
    return db.numbers(store, location_path, status, limit, offset)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def record_event(
    store: LedgerStore,
    request_id: int,
    actor: int | None,
    action: RequestEventAction,
    detail: object,
) -> None:
    """The request's event, and its entry in the operations log (`request.<action>`)."""
    db.add_event(store, request_id, now(), actor, action, msgspec.json.encode(detail).decode())
    number, path = db.number_and_requester_path(store, request_id)
    oplog.record(
        store,
        f"request.{action}",
        "request",
        number,
        user_id=actor,
        after=detail,
        location_path=path,
    )


def move(
    store: LedgerStore, row: db.RequestRow, action: RequestAction, to: RequestStatus, **values
) -> None:
    """Put the request in state `to` by `action` (checked against the state machine)."""
    status = next_status(row.status, action, to)
    db.update_request(store, row.id, status=status.value, updated_at=now(), **values)


def resolve_lines(store: LedgerStore, lines, field: str = "lines") -> list[tuple[ItemEntry, int]]:
    """A request's lines as (item, base units); an item at most once."""
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


def release_all(store: LedgerStore, number: str, today: dt.date) -> None:
    """Release what the request still holds reserved at its supplier."""
    if store.open_reservations(number):
        release(store, c.Release(number), today)
