"""Allocation requests (申领单): a township asks, the level above approves (maybe in part),
approval reserves stock at the supplier, the supplier's clerk ships against the request (FEFO
suggested, overrides need a reason), possibly in several shipments, the township confirms each
arrival (shortages recorded), and the request closes when everything approved has arrived or the
rest is cancelled. Every state change is an event with who and when. Ledger postings and request
changes are written in one database transaction.

The states and which action each allows are `ledger.requests` (the state machine). Here are the
use cases, each `verb(database, …, actor, today)` in its own unit of work; the steps they run are
in `request_transitions` (create … close) and `request_shipments` (suggest, ship, confirm).
"""

from __future__ import annotations

import datetime as dt

from ledger.db.unit_of_work import Database
from ledger.model import Transaction
from ledger.services.request_models import (
    AllocationRequest,
    Approve,
    ConfirmShipment,
    CreateRequest,
    EditRequest,
    Reject,
    RequestEvent,
    Ship,
    Suggestion,
)
from ledger.services.request_records import (
    load_request,
    request_events,
    request_numbers,
)
from ledger.services.request_shipments import (
    confirm_shipment,
    ship_request,
    suggest,
)
from ledger.services.request_transitions import (
    approve_request,
    cancel_request,
    close_request,
    create_request,
    edit_request,
    reject_request,
    submit_request,
)
from ledger.services.work import day, read, write


def create(
    database: Database,
    command: CreateRequest,
    actor: int | None = None,
    today: dt.date | None = None,
) -> AllocationRequest:
    today = day(today)
    return write(
        database, lambda s: load_request(s, create_request(s, command, actor, today)), actor, today
    )


def edit(
    database: Database,
    number: str,
    command: EditRequest,
    actor: int | None = None,
    today: dt.date | None = None,
) -> AllocationRequest:
    def step(store) -> AllocationRequest:
        edit_request(store, number, command, actor)
        return load_request(store, number)

    return write(database, step, actor, day(today))


def submit(
    database: Database, number: str, actor: int | None = None, today: dt.date | None = None
) -> AllocationRequest:
    def step(store) -> AllocationRequest:
        submit_request(store, number, actor)
        return load_request(store, number)

    return write(database, step, actor, day(today))


def cancel(
    database: Database, number: str, actor: int | None = None, today: dt.date | None = None
) -> AllocationRequest:
    today = day(today)

    def step(store) -> AllocationRequest:
        cancel_request(store, number, actor, today)
        return load_request(store, number)

    return write(database, step, actor, today)


def reject(
    database: Database,
    number: str,
    command: Reject,
    actor: int | None = None,
    today: dt.date | None = None,
) -> AllocationRequest:
    def step(store) -> AllocationRequest:
        reject_request(store, number, command, actor)
        return load_request(store, number)

    return write(database, step, actor, day(today))


def approve(
    database: Database,
    number: str,
    command: Approve,
    actor: int | None = None,
    today: dt.date | None = None,
) -> AllocationRequest:
    today = day(today)

    def step(store) -> AllocationRequest:
        approve_request(store, number, command, actor, today)
        return load_request(store, number)

    return write(database, step, actor, today)


def ship(
    database: Database,
    number: str,
    command: Ship,
    actor: int | None = None,
    today: dt.date | None = None,
) -> Transaction:
    today = day(today)
    return write(database, lambda s: ship_request(s, number, command, actor, today), actor, today)


def confirm(
    database: Database,
    number: str,
    command: ConfirmShipment,
    actor: int | None = None,
    today: dt.date | None = None,
) -> Transaction:
    today = day(today)
    return write(
        database, lambda s: confirm_shipment(s, number, command, actor, today), actor, today
    )


def close(
    database: Database, number: str, actor: int | None = None, today: dt.date | None = None
) -> AllocationRequest:
    today = day(today)

    def step(store) -> AllocationRequest:
        close_request(store, number, actor, today)
        return load_request(store, number)

    return write(database, step, actor, today)


def get(database: Database, number: str) -> AllocationRequest:
    return read(database, lambda s: load_request(s, number))


def events(database: Database, number: str) -> list[RequestEvent]:
    return read(database, lambda s: request_events(s, number))


def suggestion(database: Database, number: str, today: dt.date | None = None) -> list[Suggestion]:
    today = day(today)
    return read(database, lambda s: suggest(s, number, today))


def listed(
    database: Database, location_path: str | None, status: str | None, limit: int, offset: int
) -> list[AllocationRequest]:
    """The requests from or to `location_path`'s subtree (None: every one), oldest first."""
    return read(
        database,
        lambda s: [
            load_request(s, number)
            for number in request_numbers(s, location_path, status, limit, offset)
        ],
    )
