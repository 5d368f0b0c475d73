"""Storage of allocation requests (申领单): headers, lines, the shipments made against them and
their events. Functions over the unit of work's store; they never commit and decide nothing (the
state machine is `ledger.requests`, the use cases `ledger.services.requests`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import func, insert, select, update

from ledger.db import tables as t
from ledger.db.moments import as_utc
from ledger.db.store import LedgerStore
from ledger.requests import RequestEventAction

_R = t.allocation_requests.c
_L = t.allocation_request_lines.c
_S = t.allocation_request_shipments.c
_E = t.allocation_request_events.c


class RequestRow(NamedTuple):
    id: int
    number: str
    requester_location_id: int
    supplier_location_id: int
    status: str
    memo: str
    reject_reason: str | None
    created_by: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class LineRow(NamedTuple):
    """One item of a request, in base units."""

    id: int
    request_id: int
    position: int
    item_id: int
    requested: int
    approved: int | None
    issued: int
    received: int
    short: int
    suggested: int | None  # 建议申领量 when the line was written (ledger/norms.py)


class ShipmentRow(NamedTuple):
    number: str  # the issue or transfer voucher
    occurred_on: dt.date
    confirmation_number: str | None


class EventRow(NamedTuple):
    at: dt.datetime
    user_id: int | None
    action: str
    detail: str  # JSON


# ---- reading -----------------------------------------------------------------------------------


def request(store: LedgerStore, number: str, lock: bool = False) -> RequestRow | None:
    query = select(*t.allocation_requests.c).where(_R.number == number)
    if lock and store.for_update:
        query = query.with_for_update()
    row = store.connection.execute(query).one_or_none()
    if row is None:
        return None
    found = RequestRow(*row)
    return found._replace(created_at=as_utc(found.created_at), updated_at=as_utc(found.updated_at))


def lines(store: LedgerStore, request_id: int) -> list[LineRow]:
    query = (
        select(*t.allocation_request_lines.c)
        .where(_L.request_id == request_id)
        .order_by(_L.position)
    )
    return [LineRow(*row) for row in store.connection.execute(query)]


def shipments(store: LedgerStore, request_id: int) -> list[ShipmentRow]:
    """The shipments made against the request, oldest first, with their confirmations."""
    tx = t.transactions
    confirmation = tx.alias("confirmation")
    query = (
        select(tx.c.number, tx.c.occurred_on, confirmation.c.number)
        .select_from(t.allocation_request_shipments)
        .join(tx, tx.c.id == _S.transaction_id)
        .outerjoin(confirmation, confirmation.c.id == _S.confirmation_id)
        .where(_S.request_id == request_id)
        .order_by(tx.c.id)
    )
    return [ShipmentRow(*row) for row in store.connection.execute(query)]


def events(store: LedgerStore, request_id: int) -> list[EventRow]:
    query = select(_E.at, _E.user_id, _E.action, _E.detail).where(_E.request_id == request_id)
    return [
        EventRow(as_utc(row.at), row.user_id, row.action, row.detail)
        for row in store.connection.execute(query.order_by(_E.id))
    ]


def numbers(
    store: LedgerStore, location_path: str | None, status: str | None, limit: int, offset: int
) -> list[str]:
    """Numbers of the requests whose requester or supplier is within `location_path`."""
    requester = t.locations.alias("requester")
    supplier = t.locations.alias("supplier")
    query = (
        select(_R.number)
        .join(requester, requester.c.id == _R.requester_location_id)
        .join(supplier, supplier.c.id == _R.supplier_location_id)
        .order_by(_R.id)
        .limit(limit)
        .offset(offset)
    )
    if location_path is not None:
        query = query.where(
            requester.c.path.startswith(location_path, autoescape=True)
            | supplier.c.path.startswith(location_path, autoescape=True)
        )
    if status is not None:
        query = query.where(_R.status == status)
    return list(store.connection.execute(query).scalars())


def number_and_requester_path(store: LedgerStore, request_id: int) -> tuple[str, str]:
    loc = t.locations.c
    query = (
        select(_R.number, loc.path)
        .join(t.locations, loc.id == _R.requester_location_id)
        .where(_R.id == request_id)
    )
    number, path = store.connection.execute(query).one()
    return number, path


def last_approver(store: LedgerStore, request_id: int) -> int | None:
    """The user of the request's latest approval event."""
    query = (
        select(_E.user_id)
        .where(_E.request_id == request_id, _E.action == RequestEventAction.approved)
        .order_by(_E.id.desc())
        .limit(1)
    )
    return store.connection.execute(query).scalar_one_or_none()


def shipment_of_request(store: LedgerStore, transaction_id: int, request_id: int) -> bool:
    """Whether the transaction was shipped against this request."""
    query = select(_S.confirmation_id).where(
        _S.transaction_id == transaction_id, _S.request_id == request_id
    )
    return store.connection.execute(query).one_or_none() is not None


def unconfirmed_shipments(store: LedgerStore, request_id: int) -> int:
    query = select(func.count()).where(_S.request_id == request_id, _S.confirmation_id.is_(None))
    return store.connection.execute(query).scalar_one()


# ---- writing -----------------------------------------------------------------------------------


def insert_request(store: LedgerStore, **values) -> int:
    query = insert(t.allocation_requests).returning(_R.id)
    return store.connection.execute(query, values).scalar_one()


def replace_lines(
    store: LedgerStore,
    request_id: int,
    wanted: Iterable[tuple[int, int]],
    suggested: dict[int, int] | None = None,
) -> None:
    """The request's lines become `wanted`, (item id, requested base units) in order, each
    with its suggested quantity from `suggested` (item id → base units) when given."""
    store.connection.execute(t.allocation_request_lines.delete().where(_L.request_id == request_id))
    store.connection.execute(
        insert(t.allocation_request_lines),
        [
            {
                "request_id": request_id,
                "position": position,
                "item_id": item_id,
                "requested": quantity,
                "approved": None,
                "issued": 0,
                "received": 0,
                "short": 0,
                "suggested": None if suggested is None else suggested.get(item_id, 0),
            }
            for position, (item_id, quantity) in enumerate(wanted)
        ],
    )


def update_request(store: LedgerStore, request_id: int, **values) -> None:
    store.connection.execute(
        update(t.allocation_requests).where(_R.id == request_id).values(**values)
    )


def update_line(store: LedgerStore, line_id: int, **values) -> None:
    store.connection.execute(
        update(t.allocation_request_lines).where(_L.id == line_id).values(**values)
    )


def add_event(
    store: LedgerStore,
    request_id: int,
    at: dt.datetime,
    user_id: int | None,
    action: str,
    detail: str,
) -> None:
    store.connection.execute(
        insert(t.allocation_request_events),
        {
            "request_id": request_id,
            "at": at,
            "user_id": user_id,
            "action": action,
            "detail": detail,
        },
    )


def add_shipment(store: LedgerStore, transaction_id: int, request_id: int) -> None:
    store.connection.execute(
        insert(t.allocation_request_shipments),
        {"transaction_id": transaction_id, "request_id": request_id, "confirmation_id": None},
    )


def set_confirmation(store: LedgerStore, transaction_id: int, confirmation_id: int) -> None:
    store.connection.execute(
        update(t.allocation_request_shipments)
        .where(_S.transaction_id == transaction_id)
        .values(confirmation_id=confirmation_id)
    )
