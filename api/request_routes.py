"""Allocation requests (申领单): a requester drafts and submits, an approver above it approves
(reserving stock) or rejects, the supplier's clerk ships, the requester confirms each shipment's
arrival; closing cancels the unshipped rest. Everyone reads the requests from or to their
subtree."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody

from api.common import (
    SHORTAGE_STEP,
    IdempotencyKey,
    Limit,
    Offset,
    idempotent,
    services_of,
)
from api.policy import (
    require_approver,
    require_at,
    require_request_closer,
    require_request_confirmer,
    require_sees_request,
    roles,
    scope_path,
)
from api.schemas import Page, page
from ledger.model import Role, Transaction
from ledger.rules import Code, LedgerError
from ledger.services import lookups, requests
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
from ledger.services.users import User


class RequestController(Controller):
    path = "/requests"
    tags = ("requests",)

    def _get(self, state: State, number: str, user: User) -> AllocationRequest:
        """The request, if the user may see it (so no refusal after this names another city's
        places)."""
        services = services_of(state)
        found = requests.get(services.database, number)
        require_sees_request(user, found, services.location)
        return found

    def _answer(
        self,
        request: Request,
        state: State,
        key: str | None,
        body: Any,
        work: Callable[[], Any],
        status_code: int = 200,
    ) -> Response:
        return idempotent(request, state, key, body, lambda _: work(), status_code)

    def _as_requester(self, request: Request, state: State, number: str, what: str) -> None:
        found = self._get(state, number, request.user)
        locate = services_of(state).location
        require_at(request.user, found.requester_code, Role.requester, what, locate)

    def _as_approver(self, request: Request, state: State, number: str) -> None:
        found = self._get(state, number, request.user)
        require_approver(request.user, found, services_of(state).location)

    @post(
        "/",
        sync_to_thread=True,
        guards=[roles(Role.requester)],
        summary="申领: create a draft request",
    )
    def create(
        self,
        request: Request,
        state: State,
        data: JSONBody[CreateRequest],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[AllocationRequest]:
        user: User = request.user
        services = services_of(state)
        require_at(user, data.requester_code, Role.requester, "申领", services.location)
        return idempotent(
            request,
            state,
            idempotency_key,
            data,
            lambda _: requests.create(services.database, data, user.id, services.clock()),
        )

    @get("/", sync_to_thread=True, summary="Requests from or to your subtree")
    def list_requests(
        self,
        request: Request,
        state: State,
        status: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[AllocationRequest]:
        database = services_of(state).database
        found = lookups.requests(database, scope_path(request.user), status, limit + 1, offset)
        return page(found, limit, offset)

    @get("/{number:str}", sync_to_thread=True, summary="One request with its lines and shipments")
    def get_request(
        self, request: Request, state: State, number: FromPath[str]
    ) -> AllocationRequest:
        return self._get(state, number, request.user)

    @get("/{number:str}/events", sync_to_thread=True, summary="Every state change: who and when")
    def events(self, request: Request, state: State, number: FromPath[str]) -> list[RequestEvent]:
        self._get(state, number, request.user)
        return requests.events(services_of(state).database, number)

    @get(
        "/{number:str}/suggestion",
        sync_to_thread=True,
        summary="FEFO batches to ship the outstanding quantities",
    )
    def suggestion(self, request: Request, state: State, number: FromPath[str]) -> list[Suggestion]:
        self._get(state, number, request.user)
        services = services_of(state)
        return requests.suggestion(services.database, number, services.clock())

    @put(
        "/{number:str}",
        sync_to_thread=True,
        guards=[roles(Role.requester)],
        summary="Edit a draft request",
    )
    def edit(
        self, request: Request, state: State, number: FromPath[str], data: JSONBody[EditRequest]
    ) -> AllocationRequest:
        self._as_requester(request, state, number, "修改申领单")
        services = services_of(state)
        return requests.edit(services.database, number, data, request.user.id, services.clock())

    @post(
        "/{number:str}/submit",
        sync_to_thread=True,
        guards=[roles(Role.requester)],
        summary="Submit a draft",
    )
    def submit(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[AllocationRequest]:
        self._as_requester(request, state, number, "提交申领单")
        services, user_id = services_of(state), request.user.id
        return self._answer(
            request,
            state,
            idempotency_key,
            None,
            lambda: requests.submit(services.database, number, user_id, services.clock()),
        )

    @post(
        "/{number:str}/cancel",
        sync_to_thread=True,
        guards=[roles(Role.requester)],
        summary="Cancel (nothing shipped yet)",
    )
    def cancel(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[AllocationRequest]:
        self._as_requester(request, state, number, "撤销申领单")
        services, user_id = services_of(state), request.user.id
        return self._answer(
            request,
            state,
            idempotency_key,
            None,
            lambda: requests.cancel(services.database, number, user_id, services.clock()),
        )

    @post(
        "/{number:str}/approve",
        sync_to_thread=True,
        guards=[roles(Role.approver)],
        summary="Approve all or part; reserves stock",
    )
    def approve(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        data: JSONBody[Approve],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[AllocationRequest]:
        self._as_approver(request, state, number)
        services, user_id = services_of(state), request.user.id
        return self._answer(
            request,
            state,
            idempotency_key,
            data,
            lambda: requests.approve(services.database, number, data, user_id, services.clock()),
        )

    @post(
        "/{number:str}/reject",
        sync_to_thread=True,
        guards=[roles(Role.approver)],
        summary="Reject with a reason",
    )
    def reject(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        data: JSONBody[Reject],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[AllocationRequest]:
        self._as_approver(request, state, number)
        services, user_id = services_of(state), request.user.id
        return self._answer(
            request,
            state,
            idempotency_key,
            data,
            lambda: requests.reject(services.database, number, data, user_id, services.clock()),
        )

    @post(
        "/{number:str}/shipments",
        sync_to_thread=True,
        guards=[roles(Role.clerk)],
        summary="Ship against the request",
    )
    def ship(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        data: JSONBody[Ship],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        user: User = request.user
        services = services_of(state)
        found = self._get(state, number, user)
        require_at(user, found.supplier_code, Role.clerk, "发货", services.location)
        return self._answer(
            request,
            state,
            idempotency_key,
            data,
            lambda: requests.ship(services.database, number, data, user.id, services.clock()),
            201,
        )

    @post(
        "/{number:str}/shipments/{shipment:str}/confirm",
        sync_to_thread=True,
        guards=[roles(Role.requester, Role.clerk)],
        summary="The requester confirms a shipment's arrival",
        description=SHORTAGE_STEP,
    )
    def confirm(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        shipment: FromPath[str],
        data: JSONBody[ConfirmShipment | None] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        user: User = request.user
        services = services_of(state)
        require_request_confirmer(user, self._get(state, number, user), services.location)
        body = data or ConfirmShipment(shipment)
        if body.shipment_number != shipment:
            raise LedgerError(
                Code.body_differs_from_path,
                "请求体中的发货单号与路径不一致 (shipment number differs from the path)",
                "shipment_number",
            )
        return self._answer(
            request,
            state,
            idempotency_key,
            body,
            lambda: requests.confirm(services.database, number, body, user.id, services.clock()),
            201,
        )

    @post(
        "/{number:str}/close",
        sync_to_thread=True,
        guards=[roles(Role.approver, Role.clerk)],
        summary="Close; the unshipped rest is cancelled",
    )
    def close(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[AllocationRequest]:
        user: User = request.user
        services = services_of(state)
        require_request_closer(user, self._get(state, number, user), services.location)
        return self._answer(
            request,
            state,
            idempotency_key,
            None,
            lambda: requests.close(services.database, number, user.id, services.clock()),
        )


ROUTES = [RequestController]
