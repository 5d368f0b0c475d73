"""Movements: receipts, issues, confirmations, distributions, returns, write-offs,
adjustments and reversals — each a POST that the ledger posts as one transaction — and the
transactions as read back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody

from api.common import (
    SHORTAGE_STEP,
    IdempotencyKey,
    Limit,
    Offset,
    idempotent,
    idempotent_command,
    idempotent_command_async,
    services_of,
)
from api.policy import (
    require_at,
    require_receiver,
    require_sees_transaction,
    roles,
    scope_path,
)
from api.schemas import (
    AdjustmentCreate,
    ConfirmationCreate,
    DistributionCreate,
    IssueCreate,
    Page,
    ReceiptCreate,
    ReturnCreate,
    ReversalCreate,
    WriteOffCreate,
    page,
)
from ledger import commands as c
from ledger.model import Role, Transaction, TransactionKind
from ledger.services import lookups, requests
from ledger.services.lookups import TransactionFilter
from ledger.services.request_models import ConfirmShipment
from ledger.services.shipment_requests import request_of
from ledger.services.users import User


class TransactionController(Controller):
    path = "/transactions"
    tags = ("transactions",)

    @get("/", sync_to_thread=True, summary="Transactions, oldest first, with filters")
    def list_transactions(
        self,
        request: Request,
        state: State,
        kind: FromQuery[TransactionKind | None] = None,
        location: FromQuery[str | None] = None,
        item: FromQuery[str | None] = None,
        batch: FromQuery[str | None] = None,
        date_from: FromQuery[dt.date | None] = None,
        date_to: FromQuery[dt.date | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[Transaction]:
        user: User = request.user
        services = services_of(state)
        if location is not None:
            services.visible_location(user, location, "location")
        wanted = TransactionFilter(
            scope_path(user), kind, location, item, batch, date_from, date_to
        )
        found = lookups.transactions(services.database, wanted, limit + 1, offset)
        return page(found, limit, offset)

    @get("/{number:str}", sync_to_thread=True, summary="One transaction with its postings")
    def get_transaction(self, request: Request, state: State, number: FromPath[str]) -> Transaction:
        services = services_of(state)
        transaction = lookups.transaction(services.database, number)
        require_sees_transaction(request.user, transaction, services.location)
        return transaction

    def _post(
        self,
        request: Request,
        state: State,
        key: str | None,
        body: Any,
        command: Callable[[str | None], Any],
    ) -> Response:
        return idempotent_command(request, state, key, body, command)

    async def _post_async(
        self,
        request: Request,
        state: State,
        key: str | None,
        body: Any,
        command: Callable[[str | None], Any],
    ) -> Response:
        # No thread waits for the batch's commit: many requests' commands can queue for one.
        return await idempotent_command_async(request, state, key, body, command)

    def _clerk_at(self, request: Request, state: State, location_code: str, what: str) -> None:
        require_at(request.user, location_code, Role.clerk, what, services_of(state).location)

    @post(
        "/receipts",
        guards=[roles(Role.clerk)],
        summary="入库: receive into a warehouse",
    )
    async def receipt(
        self,
        request: Request,
        state: State,
        data: JSONBody[ReceiptCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        self._clerk_at(request, state, data.location_code, "入库")
        return await self._post_async(
            request,
            state,
            idempotency_key,
            data,
            lambda k: c.Receive(data.location_code, data.lines, data.occurred_on, data.memo, k),
        )

    @post(
        "/issues",
        guards=[roles(Role.clerk)],
        summary="出库/调拨: issue into transit",
    )
    async def issue(
        self,
        request: Request,
        state: State,
        data: JSONBody[IssueCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        self._clerk_at(request, state, data.source_code, "出库")
        return await self._post_async(
            request,
            state,
            idempotency_key,
            data,
            lambda k: c.Issue(
                data.source_code,
                data.destination_code,
                data.lines,
                data.occurred_on,
                data.memo,
                None,
                k,
            ),
        )

    @post(
        "/confirmations",
        sync_to_thread=True,
        guards=[roles(Role.clerk, Role.requester)],
        summary="签收: confirm a shipment",
        description=SHORTAGE_STEP,
    )
    def confirmation(
        self,
        request: Request,
        state: State,
        data: JSONBody[ConfirmationCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        services = services_of(state)
        shipment = lookups.transaction(services.database, data.shipment_number)
        require_receiver(request.user, shipment, services.location)
        number = request_of(services.database, data.shipment_number)
        if number is not None:
            # A request's shipment is confirmed through its request, which also counts what
            # arrived on the request's lines and closes it once everything has (as /scan does).
            body = ConfirmShipment(
                data.shipment_number, data.received, data.occurred_on, data.memo, data.shortage
            )
            user: User = request.user
            return idempotent(
                request,
                state,
                idempotency_key,
                data,
                lambda _: requests.confirm(
                    services.database, number, body, user.id, services.clock()
                ),
            )
        return self._post(
            request,
            state,
            idempotency_key,
            data,
            lambda k: c.Confirm(
                data.shipment_number,
                data.received,
                data.occurred_on,
                data.memo,
                k,
                shortage=data.shortage,
            ),
        )

    @post(
        "/distributions",
        guards=[roles(Role.clerk)],
        summary="发放: hand out to the public",
    )
    async def distribution(
        self,
        request: Request,
        state: State,
        data: JSONBody[DistributionCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        self._clerk_at(request, state, data.location_code, "发放")
        return await self._post_async(
            request,
            state,
            idempotency_key,
            data,
            lambda k: c.Distribute(data.location_code, data.lines, data.occurred_on, data.memo, k),
        )

    @post(
        "/returns",
        guards=[roles(Role.clerk)],
        summary="退回: return to the parent location",
    )
    async def return_(
        self,
        request: Request,
        state: State,
        data: JSONBody[ReturnCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        self._clerk_at(request, state, data.location_code, "退回")
        return await self._post_async(
            request,
            state,
            idempotency_key,
            data,
            lambda k: c.Return(data.location_code, data.lines, data.occurred_on, data.memo, k),
        )

    @post(
        "/write-offs",
        guards=[roles(Role.clerk)],
        summary="报损: write off with a reason",
    )
    async def write_off(
        self,
        request: Request,
        state: State,
        data: JSONBody[WriteOffCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        self._clerk_at(request, state, data.location_code, "报损")
        return await self._post_async(
            request,
            state,
            idempotency_key,
            data,
            lambda k: c.WriteOff(
                data.location_code, data.lines, data.reason, data.occurred_on, data.memo, k
            ),
        )

    @post(
        "/adjustments",
        guards=[roles(Role.clerk)],
        summary="盘点调整: stocktake gains and losses",
    )
    async def adjustment(
        self,
        request: Request,
        state: State,
        data: JSONBody[AdjustmentCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        self._clerk_at(request, state, data.location_code, "盘点调整")
        return await self._post_async(
            request,
            state,
            idempotency_key,
            data,
            lambda k: c.Adjust(
                data.location_code, data.lines, data.reason, data.occurred_on, data.memo, k
            ),
        )

    @post(
        "/reversals",
        sync_to_thread=True,
        guards=[roles(Role.clerk)],
        summary="红冲: reverse a transaction",
    )
    def reversal(
        self,
        request: Request,
        state: State,
        data: JSONBody[ReversalCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        services = services_of(state)
        original = lookups.transaction(services.database, data.transaction_number)
        require_sees_transaction(request.user, original, services.location)
        self._clerk_at(request, state, original.location_code, "红冲")
        return self._post(
            request,
            state,
            idempotency_key,
            data,
            lambda k: c.Reverse(data.transaction_number, data.occurred_on, data.memo, k),
        )


ROUTES = [TransactionController]
