"""A convenience binding for tests, not a second shape of use case.

The use cases are plain functions `verb(database, …, actor=None, today=None)`
(`ledger.services`). Tests that run many of them on one database with a fixed clock hold a
`Ledger` (the database and the clock) and the area objects built on it; each method calls the
use case of the same name with the bound database and `clock()` as today, and nothing else
(`plan_allocation` and `apply_plan`: `make_plan` and `issue_plan` so). Production code calls
the functions themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from ledger import commands as c
from ledger import labels
from ledger.allocation import Plan, Share
from ledger.db.unit_of_work import Database
from ledger.model import Item, Location, Transaction
from ledger.reconcile import DEFAULT_THRESHOLD
from ledger.services import ledger as movements
from ledger.services import requests, scanning, stocktakes
from ledger.services.allocation import issue_plan, make_plan
from ledger.services.label_sheets import DEFAULT_GRID, Grid
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
from ledger.services.reservations import Released, Reservation
from ledger.services.scan_models import (
    AnnounceDelivery,
    OpenDocument,
    OpenPack,
    PackInfo,
    Scan,
    ScanDocument,
    ScanResult,
)
from ledger.services.scanning import Check
from ledger.services.stocktake_models import (
    ApprovalPreview,
    ApproveStocktake,
    EnterCounts,
    OpenStocktake,
    Recount,
    Stocktake,
    StocktakeReconciliation,
    ZeroUncounted,
)
from ledger.settings import office_today


def _anything(row) -> None:
    """No look at the document (the tests may touch any)."""


class Ledger:
    """`execute` bound to one database and a clock that gives today's date: the office's (see
    `ledger.settings.office_today`); tests fix it."""

    def __init__(self, database: Database, clock: Callable[[], dt.date] = office_today) -> None:
        self.database = database
        self.clock = clock

    def execute(self, command: Any, actor: int | None = None) -> Any:
        """Carry out one command as user `actor` (the vouchers' maker; None: the command line)."""
        return movements.execute(self.database, command, actor, self.clock())

    def execute_many(self, commands: Sequence[Any], actor: int | None = None) -> list[Any]:
        """Carry out many commands in one database transaction: all of them, or none."""
        return movements.execute_many(self.database, commands, actor, self.clock())

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


class Requests:
    """The request use cases bound to one ledger's database and clock."""

    def __init__(self, ledger) -> None:
        self.ledger = ledger

    def create(self, command: CreateRequest, actor: int | None = None) -> AllocationRequest:
        return requests.create(self.ledger.database, command, actor, self.ledger.clock())

    def edit(
        self, number: str, command: EditRequest, actor: int | None = None
    ) -> AllocationRequest:
        return requests.edit(self.ledger.database, number, command, actor, self.ledger.clock())

    def submit(self, number: str, actor: int | None = None) -> AllocationRequest:
        return requests.submit(self.ledger.database, number, actor, self.ledger.clock())

    def cancel(self, number: str, actor: int | None = None) -> AllocationRequest:
        return requests.cancel(self.ledger.database, number, actor, self.ledger.clock())

    def reject(self, number: str, command: Reject, actor: int | None = None) -> AllocationRequest:
        return requests.reject(self.ledger.database, number, command, actor, self.ledger.clock())

    def approve(self, number: str, command: Approve, actor: int | None = None) -> AllocationRequest:
        return requests.approve(self.ledger.database, number, command, actor, self.ledger.clock())

    def ship(self, number: str, command: Ship, actor: int | None = None) -> Transaction:
        return requests.ship(self.ledger.database, number, command, actor, self.ledger.clock())

    def confirm(
        self, number: str, command: ConfirmShipment, actor: int | None = None
    ) -> Transaction:
        return requests.confirm(self.ledger.database, number, command, actor, self.ledger.clock())

    def close(self, number: str, actor: int | None = None) -> AllocationRequest:
        return requests.close(self.ledger.database, number, actor, self.ledger.clock())

    def get(self, number: str) -> AllocationRequest:
        return requests.get(self.ledger.database, number)

    def events(self, number: str) -> list[RequestEvent]:
        return requests.events(self.ledger.database, number)

    def suggestion(self, number: str) -> list[Suggestion]:
        return requests.suggestion(self.ledger.database, number, self.ledger.clock())


class Scanning:
    """The labelling and scanning use cases bound to one ledger's database and clock and the
    label keys."""

    def __init__(self, ledger, keys: labels.LabelKeys) -> None:
        self.ledger = ledger
        self.keys = keys

    def announce(self, command: AnnounceDelivery) -> list[PackInfo]:
        return scanning.announce(
            self.ledger.database, self.keys, command, None, self.ledger.clock()
        )

    def open_pack(self, command: OpenPack) -> PackInfo:
        return scanning.open_pack(
            self.ledger.database, self.keys, command, None, self.ledger.clock()
        )

    def packs(
        self,
        item_code: str,
        batch_number: str,
        location_code: str | None = None,
        sealed_only: bool = True,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[PackInfo]:
        return scanning.packs(
            self.ledger.database,
            self.keys,
            item_code,
            batch_number,
            location_code,
            sealed_only,
            limit,
            offset,
        )

    def pack(self, item_code: str, batch_number: str, serial: int) -> PackInfo:
        return scanning.pack(self.ledger.database, self.keys, item_code, batch_number, serial)

    def resolve(self, payload: str) -> PackInfo:
        return scanning.resolve(self.ledger.database, self.keys, payload)

    def sheet(
        self,
        item_code: str,
        batch_number: str,
        location_code: str | None = None,
        grid: Grid = DEFAULT_GRID,
    ) -> bytes:
        return scanning.sheet(
            self.ledger.database, self.keys, item_code, batch_number, location_code, grid
        )

    def open_document(self, command: OpenDocument, actor: int | None = None) -> ScanDocument:
        return scanning.open_document(self.ledger.database, command, actor, self.ledger.clock())

    def document(self, document_id: int) -> ScanDocument:
        return scanning.document(self.ledger.database, document_id)

    def documents(
        self, location_path: str | None, status: str | None, limit: int, offset: int
    ) -> list[ScanDocument]:
        return scanning.documents(self.ledger.database, location_path, status, limit, offset)

    def scan(self, command: Scan, actor: int | None = None, check: Check = _anything) -> ScanResult:
        return scanning.scan(
            self.ledger.database, self.keys, command, actor, check, self.ledger.clock()
        )

    def undo(self, document_id: int, check: Check = _anything) -> ScanDocument:
        return scanning.undo(self.ledger.database, document_id, check, None, self.ledger.clock())

    def cancel(
        self, document_id: int, check: Check = _anything, actor: int | None = None
    ) -> ScanDocument:
        return scanning.cancel(self.ledger.database, document_id, check, actor, self.ledger.clock())

    def post(
        self,
        document_id: int,
        actor: int | None = None,
        occurred_on: dt.date | None = None,
        check: Check = _anything,
        shortage: c.Shortage | None = None,
    ) -> ScanDocument:
        return scanning.post(
            self.ledger.database,
            document_id,
            actor,
            occurred_on,
            check,
            shortage,
            self.ledger.clock(),
        )


class Stocktakes:
    """The stocktake use cases bound to one ledger's database and clock."""

    def __init__(self, ledger) -> None:
        self.ledger = ledger

    def open(self, command: OpenStocktake, actor: int | None = None) -> Stocktake:
        return stocktakes.open_stocktake(self.ledger.database, command, actor, self.ledger.clock())

    def count(self, number: str, command: EnterCounts, actor: int | None = None) -> Stocktake:
        return stocktakes.count(self.ledger.database, number, command, actor, self.ledger.clock())

    def zero_uncounted(
        self, number: str, command: ZeroUncounted, actor: int | None = None
    ) -> Stocktake:
        return stocktakes.zero_uncounted(
            self.ledger.database, number, command, actor, self.ledger.clock()
        )

    def preview(self, number: str) -> ApprovalPreview:
        return stocktakes.preview(self.ledger.database, number)

    def add_scan_document(
        self, number: str, document_id: int, actor: int | None = None
    ) -> Stocktake:
        return stocktakes.add_scan_document(
            self.ledger.database, number, document_id, actor, self.ledger.clock()
        )

    def close(self, number: str, actor: int | None = None) -> StocktakeReconciliation:
        return stocktakes.close(self.ledger.database, number, actor, self.ledger.clock())

    def recount(self, number: str, command: Recount, actor: int | None = None) -> Stocktake:
        return stocktakes.recount(self.ledger.database, number, command, actor, self.ledger.clock())

    def approve(
        self, number: str, command: ApproveStocktake, actor: int | None = None
    ) -> Stocktake:
        return stocktakes.approve(self.ledger.database, number, command, actor, self.ledger.clock())

    def get(self, number: str) -> Stocktake:
        return stocktakes.get(self.ledger.database, number)

    def reconciliation(
        self, number: str, threshold: float = DEFAULT_THRESHOLD
    ) -> StocktakeReconciliation:
        return stocktakes.reconciliation(self.ledger.database, number, threshold)


def plan_allocation(
    ledger: Ledger,
    source_code: str,
    item_code: str,
    quantity: int,
    shares: Sequence[Share],
    unit: str | None = None,
) -> Plan:
    """`make_plan` on a ledger's database, on its clock's day."""
    return make_plan(
        ledger.database, source_code, item_code, quantity, shares, unit, ledger.clock()
    )


def apply_plan(
    ledger: Ledger,
    plan: Plan,
    source_code: str,
    item_code: str,
    occurred_on: dt.date | None = None,
    memo: str = "",
    idempotency_key: str | None = None,
    actor: int | None = None,
) -> list[Transaction]:
    """`issue_plan` on a ledger's database, on its clock's day."""
    return issue_plan(
        ledger.database,
        plan,
        source_code,
        item_code,
        occurred_on,
        memo,
        idempotency_key,
        actor,
        ledger.clock(),
    )
