"""Stocktakes over HTTP. A clerk opens a count of its own location's subtree and enters counts
within its subtree; an approver or auditor may open one anywhere in theirs, closes it, sends
lines back for recount and approves it. Everyone reads the stocktakes in their subtree (a blind
count shows no book quantities until it is closed)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody, QueryParameter

from api.common import IdempotencyKey, idempotent, services_of
from api.policy import require_stocktake_opener, roles
from ledger.limits import integer_magnitude_max
from ledger.model import Role
from ledger.reconcile import DEFAULT_THRESHOLD
from ledger.services import scanning, stocktakes
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
from ledger.services.users import User

OFFICE = (Role.clerk, Role.approver, Role.auditor)
REVIEWERS = (Role.approver, Role.auditor)
Threshold = Annotated[float, QueryParameter(ge=0, le=1, description="match rate required")]


class ScanDocumentRef(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    document: Annotated[int, msgspec.Meta(ge=1, le=integer_magnitude_max)]


def _visible(state: State, user: User, location_code: str) -> None:
    services_of(state).visible_location(user, location_code)


def _stocktake(state: State, user: User, number: str) -> Stocktake:
    stocktake = stocktakes.get(services_of(state).database, number)
    _visible(state, user, stocktake.location_code)
    return stocktake


class StocktakeController(Controller):
    path = "/stocktakes"
    tags = ("stocktakes",)

    @post("/", sync_to_thread=True, guards=[roles(*OFFICE)], summary="盘点: open a count")
    def open(
        self,
        request: Request,
        state: State,
        data: JSONBody[OpenStocktake],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Stocktake]:
        user: User = request.user
        require_stocktake_opener(user, data.location_code, services_of(state).location)
        services = services_of(state)
        return idempotent(
            request,
            state,
            idempotency_key,
            data,
            lambda k: stocktakes.open_stocktake(services.database, data, user.id, services.clock()),
        )

    @get("/{number:str}", sync_to_thread=True, summary="One stocktake with its counted lines")
    def one(self, request: Request, state: State, number: FromPath[str]) -> Stocktake:
        return _stocktake(state, request.user, number)

    @post(
        "/{number:str}/counts",
        sync_to_thread=True,
        guards=[roles(Role.clerk)],
        status_code=200,
        summary="Enter counted quantities (0 for none found)",
    )
    def counts(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        data: JSONBody[EnterCounts],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Stocktake]:
        user: User = request.user
        _stocktake(state, user, number)
        for line in data.lines:
            _visible(state, user, line.location_code)
        services = services_of(state)
        return idempotent(
            request,
            state,
            idempotency_key,
            data,
            lambda k: stocktakes.count(services.database, number, data, user.id, services.clock()),
            200,
        )

    @post(
        "/{number:str}/scan-documents",
        sync_to_thread=True,
        guards=[roles(Role.clerk)],
        status_code=200,
        summary="Count from a finished count scan document",
    )
    def scanned(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        data: JSONBody[ScanDocumentRef],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Stocktake]:
        user: User = request.user
        _stocktake(state, user, number)
        services = services_of(state)
        document = scanning.document(services.database, data.document)
        _visible(state, user, document.location_code)
        return idempotent(
            request,
            state,
            idempotency_key,
            data,
            lambda k: stocktakes.add_scan_document(
                services.database, number, data.document, user.id, services.clock()
            ),
            200,
        )

    @post(
        "/{number:str}/zero-uncounted",
        sync_to_thread=True,
        guards=[roles(Role.clerk)],
        status_code=200,
        summary="Declare a place fully counted: its uncounted book lines are counted as 0",
        description=(
            "A line nobody counted is 未盘 and is never adjusted. This counts as 0 every line on "
            "the books of `location_code` (at the cut-off) that has no count yet (source "
            "`declared_zero`), so they become 盘亏 at approval."
        ),
    )
    def zero_uncounted(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        data: JSONBody[ZeroUncounted],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Stocktake]:
        user: User = request.user
        _stocktake(state, user, number)
        _visible(state, user, data.location_code)
        services = services_of(state)
        return idempotent(
            request,
            state,
            idempotency_key,
            data,
            lambda k: stocktakes.zero_uncounted(
                services.database, number, data, user.id, services.clock()
            ),
            200,
        )

    @get(
        "/{number:str}/approval-preview",
        sync_to_thread=True,
        summary="What approving will post: adjustment lines, totals per unit, 未盘 lines left",
        description=(
            "Approve with this answer's `digest` (`preview_digest`): approval posts only when "
            "the adjustments are still exactly these (else 409 approval_preview_stale)."
        ),
    )
    def approval_preview(
        self, request: Request, state: State, number: FromPath[str]
    ) -> ApprovalPreview:
        _stocktake(state, request.user, number)
        return stocktakes.preview(services_of(state).database, number)

    @post(
        "/{number:str}/close",
        sync_to_thread=True,
        guards=[roles(*OFFICE)],
        status_code=200,
        summary="Close the count: the book side as of the cut-off, the reconciliation",
    )
    def close(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[StocktakeReconciliation]:
        _stocktake(state, request.user, number)
        services = services_of(state)
        return idempotent(
            request,
            state,
            idempotency_key,
            None,
            lambda k: stocktakes.close(
                services.database, number, request.user.id, services.clock()
            ),
            200,
        )

    @get(
        "/{number:str}/reconciliation",
        sync_to_thread=True,
        summary="盘点报告: book, counted, 盘盈/盘亏 per line; 帐物相符率 per location",
    )
    def reconciliation(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        threshold: Threshold = DEFAULT_THRESHOLD,
    ) -> StocktakeReconciliation:
        _stocktake(state, request.user, number)
        return stocktakes.reconciliation(services_of(state).database, number, threshold)

    @post(
        "/{number:str}/recount",
        sync_to_thread=True,
        guards=[roles(*REVIEWERS)],
        status_code=200,
        summary="Send lines back for recount (their counts are superseded)",
    )
    def recount(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        data: JSONBody[Recount],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Stocktake]:
        user: User = request.user
        _stocktake(state, user, number)
        services = services_of(state)
        return idempotent(
            request,
            state,
            idempotency_key,
            data,
            lambda k: stocktakes.recount(
                services.database, number, data, user.id, services.clock()
            ),
            200,
        )

    @post(
        "/{number:str}/approve",
        sync_to_thread=True,
        guards=[roles(*REVIEWERS)],
        status_code=200,
        summary="Approve: post the 盘盈/盘亏 the approval preview showed (preview_digest)",
    )
    def approve(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        data: JSONBody[ApproveStocktake],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Stocktake]:
        user: User = request.user
        _stocktake(state, user, number)
        services = services_of(state)
        return idempotent(
            request,
            state,
            idempotency_key,
            data,
            lambda k: stocktakes.approve(
                services.database, number, data, user.id, services.clock()
            ),
            200,
        )


ROUTES = [StocktakeController]
