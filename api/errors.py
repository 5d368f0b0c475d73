"""Errors as RFC 9457 problem details (application/problem+json) with a stable `code`.

Only this module knows which HTTP status a ledger rejection becomes. Bad input is always a 4xx;
a 500 is a bug, logged, and answered without internals.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.types import ExceptionHandlersMap

from ledger.limits import request_body_bytes_max
from ledger.rules import Code, LedgerError

log = logging.getLogger("ledger.api")

PROBLEM_JSON = "application/problem+json"

STATUS_BY_CODE: dict[str, int] = {
    Code.unknown_transaction: 404,
    Code.unknown_request: 404,
    Code.unknown_print_plan: 404,
    Code.print_plan_fully_shipped: 409,
    Code.idempotency_key_reused: 409,
    Code.idempotency_key_in_progress: 409,
    Code.reversal_already_exists: 409,
    Code.shipment_already_confirmed: 409,
    Code.item_exists: 409,
    Code.location_exists: 409,
    Code.opening_exists: 409,
    Code.unknown_user: 404,
    Code.user_revoked: 409,
    Code.last_admin: 409,
    Code.login_taken: 409,
    Code.password_wrong: 403,
    Code.sign_in_failed: 401,
    Code.sign_in_locked: 429,
    Code.csrf_failed: 403,
    Code.read_only_replica: 503,
    Code.request_state: 409,
    Code.shipments_in_transit: 409,
    Code.unknown_scan_document: 404,
    Code.unknown_labelled_pack: 404,
    Code.pack_not_here: 409,
    Code.pack_opened: 409,
    Code.scan_document_state: 409,
    Code.nothing_to_undo: 409,
    Code.nothing_scanned: 409,
    Code.unknown_stocktake: 404,
    Code.stocktake_state: 409,
    Code.scan_document_already_counted: 409,
    Code.chain_head_mismatch: 409,
    Code.shortage_unconfirmed: 409,
    Code.approval_preview_stale: 409,
    Code.invalid_request: 400,
    Code.invalid_checkpoint: 400,
    Code.malformed_json: 400,
    Code.duplicate_key: 400,
    Code.invalid_encoding: 400,
    Code.invalid_character: 400,
    Code.body_too_deep: 400,
    Code.integer_required: 400,
    Code.integer_out_of_range: 400,
    Code.body_too_large: 413,
    Code.unsupported_media_type: 415,
}


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    """A problem detail: `code` is stable and machine-readable; `detail` is for people."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    field: str | None = None


def problem(status: int, code: str, detail: str, field: str | None = None) -> Response[Problem]:
    title = code.replace("_", " ")
    body = Problem(f"urn:ledger:problem:{code}", title, status, code, detail, field)
    return Response(body, status_code=status, media_type=PROBLEM_JSON)


class Forbidden(PermissionDeniedException):
    """Raised by the scope checks: the user may not touch this."""


def status_of(error: LedgerError) -> int:
    """The HTTP status a refusal is answered with."""
    return STATUS_BY_CODE.get(error.code, 422)


def on_ledger_error(_: Request | None, error: LedgerError) -> Response[Any]:
    answer: Response[Any] = problem(status_of(error), error.code, error.message, error.field)
    if error.details:  # RFC 9457 extension members, e.g. `missing` of shortage_unconfirmed
        answer.content = {**msgspec.to_builtins(answer.content), **error.details}
    return answer


def on_validation_error(_: Request, error: ValidationException) -> Response[Problem]:
    field = None
    extra = error.extra
    if isinstance(extra, list) and extra and isinstance(extra[0], dict):
        # Litestar lists an absent optional body as "'data'" beside the real error: skip it.
        found = [entry for entry in extra if entry.get("message") != "'data'"]
        if not found:
            return problem(400, "invalid_request", "缺少请求体 (a JSON body is required)", "body")
        field = found[0].get("key") or found[0].get("source")
        message = found[0].get("message") or error.detail
    else:
        message = error.detail
    message = str(message)
    if message.startswith(("Expected `int`, got", "Expected `int | null`, got")):
        return problem(
            400,
            Code.integer_required,
            f"{field or '参数'} 必须是整数 (an integer is required)",
            field,
        )
    if message.startswith(("Expected `int` <=", "Expected `int` >=")):
        return problem(
            400,
            Code.integer_out_of_range,
            f"{field or '参数'} 超出范围 (integer out of range): {message}",
            field,
        )
    if "Invalid RFC3339 encoded date" in message:
        return problem(
            400,
            "invalid_request",
            f"{field or '日期'} 不是有效的日期：应写成 YYYY-MM-DD，且是日历上有的一天，如 "
            f"2026-01-01 (not a valid date: {message})",
            field,
        )
    if message.startswith("Expected `str` of length <="):
        return problem(
            422, Code.text_too_long, f"{field or '参数'} 过长 (text too long): {message}", field
        )
    return problem(400, "invalid_request", f"请求格式有误 (invalid request): {message}", field)


def on_http_error(request: Request, error: HTTPException) -> Response[Problem]:
    if isinstance(error, NotAuthorizedException):
        return problem(
            401,
            "unauthenticated",
            "需要有效的访问令牌或登录会话 (a valid bearer token or session is required)",
        )
    if isinstance(error, PermissionDeniedException):
        return problem(403, "forbidden", error.detail or "无权操作 (not allowed)")
    if isinstance(error, NotFoundException):
        detail = error.detail if error.detail and error.detail != "Not Found" else ""
        return problem(404, "not_found", detail or f"没有这个地址：{request.url.path} (not found)")
    if error.status_code == 413:
        limit = request_body_bytes_max
        with suppress(Exception):  # the route's own limit (a file upload's is larger)
            limit = request.route_handler.resolve_request_max_body_size() or limit
        return problem(
            413,
            Code.body_too_large,
            f"请求体过大，最多 {limit} 字节 (the body is above {limit} bytes)",
        )
    if error.status_code == 405:
        return problem(
            405,
            "method_not_allowed",
            f"这个地址不支持 {request.method} 请求 (method not allowed)",
        )
    return problem(error.status_code, "http_error", error.detail or "请求被拒绝 (request refused)")


def on_unexpected_error(request: Request, error: Exception) -> Response[Problem]:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return problem(500, "internal_error", "服务器内部错误，已记录 (internal error, logged)")


def document_problems(handlers: list) -> None:
    """Declare the problem-detail answers on every handler so the OpenAPI schema lists them."""
    from litestar.handlers import HTTPRouteHandler
    from litestar.openapi.datastructures import ResponseSpec

    def spec(description: str) -> ResponseSpec:
        return ResponseSpec(
            Problem, description=description, media_type=PROBLEM_JSON, generate_examples=False
        )

    for entry in handlers:
        members = vars(entry).values() if isinstance(entry, type) else [entry]
        for handler in members:
            if not isinstance(handler, HTTPRouteHandler):
                continue
            responses = {
                400: spec(
                    "malformed request: invalid_request, malformed_json, integer_required, "
                    "invalid_character …"
                ),
                401: spec("missing or unknown bearer token (unauthenticated)"),
                403: spec("outside your role or subtree (forbidden)"),
                404: spec("no such resource"),
                409: spec(
                    "conflicts: idempotency_key_reused, reversal_already_exists, request_state …"
                ),
                413: spec("the body is too large (body_too_large)"),
                415: spec("the body is not application/json (unsupported_media_type)"),
                422: spec("refused by a ledger rule: exceeds_on_hand, batch_expired …"),
            }
            responses.update(handler.responses or {})
            handler.responses = responses


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    LedgerError: on_ledger_error,
    ValidationException: on_validation_error,
    HTTPException: on_http_error,
    Exception: on_unexpected_error,
}
