"""The actions on a request's page, each the API's use case under the API's checks, each done
once per form (its `once` key): submit, cancel, close, approve in part, reject with a reason,
ship (the FEFO suggestion filled in; a later batch needs a reason), confirm an arrival (a
shortage is confirmed in a second step with its reason, as the API's `shortage_unconfirmed`
rule asks). A refusal shows the request's page again with the error beside the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath

from api.common import services_of
from api.errors import status_of
from api.policy import (
    require_approver,
    require_at,
    require_request_closer,
    roles,
)
from api.web.render import once
from api.web.request_confirm import confirm
from api.web.request_detail import ApproveRow, ShipRow, Typed, detail_page
from api.web.request_views import (
    APPROVE_FIELDS,
    REJECT_FIELDS,
    SHIP_FIELDS,
    LineRow,
    Posted,
    done,
    error_at,
    filled,
    form_of,
    items_of,
    parse_date,
    run,
    visible_request,
    whole_number,
)
from ledger.model import Role
from ledger.rules import LedgerError
from ledger.services import requests
from ledger.services.request_models import Approve, Reject, RequestLineIn, Ship, ShipLine


def _act(
    request: Request,
    form: FormMultiDict,
    number: str,
    failed: str,
    work: Callable[[], Any],
    fields: Callable[[LedgerError], str | None] = lambda error: None,
    typed: Typed | None = None,
    shown: str = "",
) -> Any:
    """Run `work` once for this form; the request's page after it, or again with the refusal
    beside fields(error), the page's name of the field at fault, when the form shows it
    (`shown`), else above the form."""
    try:
        once(request, form_of(form), work)
    except LedgerError as error:
        errors = error_at(error, fields(error), shown)
        return detail_page(request, number, failed, errors, typed, status_of(error))
    return done(number)


# ---- submit, cancel, close ---------------------------------------------------------------------------


def _as_requester(request: Request, number: str, what: str) -> None:
    found = visible_request(request, number)
    locate = services_of(request.app.state).location
    require_at(request.user, found.requester_code, Role.requester, what, locate)


def _submit(request: Request, form: FormMultiDict, number: str) -> Any:
    _as_requester(request, number, "提交申领单")
    services, user_id = services_of(request.app.state), request.user.id
    return _act(
        request,
        form,
        number,
        "submit",
        lambda: requests.submit(services.database, number, user_id, services.clock()).status,
    )


@post("/requests/{number:str}/submit", guards=[roles(Role.requester)], status_code=303)
async def submit(request: Request, number: FromPath[str]) -> Any:
    return await run(request, _submit, number)


def _cancel(request: Request, form: FormMultiDict, number: str) -> Any:
    _as_requester(request, number, "撤销申领单")
    services, user_id = services_of(request.app.state), request.user.id
    return _act(
        request,
        form,
        number,
        "cancel",
        lambda: requests.cancel(services.database, number, user_id, services.clock()).status,
    )


@post("/requests/{number:str}/cancel", guards=[roles(Role.requester)], status_code=303)
async def cancel(request: Request, number: FromPath[str]) -> Any:
    return await run(request, _cancel, number)


def _close(request: Request, form: FormMultiDict, number: str) -> Any:
    services, user = services_of(request.app.state), request.user
    require_request_closer(user, visible_request(request, number), services.location)
    return _act(
        request,
        form,
        number,
        "close",
        lambda: requests.close(services.database, number, user.id, services.clock()).status,
    )


@post("/requests/{number:str}/close", guards=[roles(Role.approver, Role.clerk)], status_code=303)
async def close(request: Request, number: FromPath[str]) -> Any:
    return await run(request, _close, number)


# ---- approve in part, reject ----------------------------------------------------------------------------


def _approve(request: Request, form: FormMultiDict, number: str) -> Any:
    services, user = services_of(request.app.state), request.user
    require_approver(user, visible_request(request, number), services.location)
    rows = [
        ApproveRow(code, quantity.strip(), unit)
        for code, quantity, unit in zip(
            form.getall("item_code", []),
            form.getall("quantity", []),
            form.getall("unit", []),
            strict=False,
        )
    ]
    memo = str(form.get("memo", "")).strip()
    typed = Typed(approve=rows, memo=memo)
    try:
        lines = tuple(
            RequestLineIn(
                row.item_code,
                whole_number(row.quantity, f"lines[{i}].quantity"),
                row.unit or None,
            )
            for i, row in enumerate(rows)
        )
    except LedgerError as error:
        errors = error_at(error, error.field, APPROVE_FIELDS)
        return detail_page(request, number, "approve", errors, typed, status_of(error))
    command = Approve(lines, memo)
    return _act(
        request,
        form,
        number,
        "approve",
        lambda: (
            requests.approve(services.database, number, command, user.id, services.clock()).status
        ),
        lambda error: error.field,
        typed,
        APPROVE_FIELDS,
    )


@post("/requests/{number:str}/approve", guards=[roles(Role.approver)], status_code=303)
async def approve(request: Request, number: FromPath[str]) -> Any:
    return await run(request, _approve, number)


def _reject(request: Request, form: FormMultiDict, number: str) -> Any:
    services, user = services_of(request.app.state), request.user
    require_approver(user, visible_request(request, number), services.location)
    reason = str(form.get("reason", "")).strip()
    command = Reject(reason)
    return _act(
        request,
        form,
        number,
        "reject",
        lambda: (
            requests.reject(services.database, number, command, user.id, services.clock()).status
        ),
        lambda error: error.field,
        Typed(reject_reason=reason),
        REJECT_FIELDS,
    )


@post("/requests/{number:str}/reject", guards=[roles(Role.approver)], status_code=303)
async def reject(request: Request, number: FromPath[str]) -> Any:
    return await run(request, _reject, number)


# ---- ship -------------------------------------------------------------------------------------------------


def _ship_rows(form: FormMultiDict) -> list[ShipRow]:
    columns = [
        form.getall(name, [])
        for name in ("item_code", "batch_number", "quantity", "unit", "override_reason")
    ]
    count = len(columns[0])
    return [
        ShipRow(*(values[i].strip() if i < len(values) else "" for values in columns))
        for i in range(count)
    ]


def _ship(request: Request, form: FormMultiDict, number: str) -> Any:
    services, user = services_of(request.app.state), request.user
    found = visible_request(request, number)
    require_at(user, found.supplier_code, Role.clerk, "发货", services.location)
    rows = _ship_rows(form)
    typed = Typed(
        ship=rows,
        memo=str(form.get("memo", "")).strip(),
        occurred_on=str(form.get("occurred_on", "")),
    )
    # a row left empty or at 0 is not shipped this time (partial shipments)
    given = [
        LineRow(row.item_code, "" if row.quantity in ("", "0") else row.quantity, row.unit)
        for row in rows
    ]
    posted = Posted([])
    try:
        posted = filled(given)
        lines = tuple(
            ShipLine(
                row.item_code,
                whole_number(row.quantity, f"lines[{i}].quantity", allow_zero=False),
                row.unit or None,
                rows[i].batch_number or None,
                rows[i].override_reason or None,
            )
            for i, row in posted.rows
        )
        command = Ship(lines, parse_date(typed.occurred_on, "occurred_on"), typed.memo)
    except LedgerError as error:
        errors = error_at(error, error.field, SHIP_FIELDS)
        return detail_page(request, number, "ship", errors, typed, status_of(error))
    return _act(
        request,
        form,
        number,
        "ship",
        lambda: requests.ship(services.database, number, command, user.id, services.clock()).number,
        lambda error: _ship_field(request, error, posted, rows),
        typed,
        SHIP_FIELDS,
    )


def _ship_field(request: Request, error: LedgerError, posted: Posted, rows: list[ShipRow]) -> Any:
    """The row a shipping refusal belongs to: the line it names; a stock refusal of the
    posting ("quantity", naming the item and batch) to the row of that item and batch."""
    if error.field != "quantity":
        return posted.field(error.field)
    if len(posted.rows) == 1:
        return f"lines[{posted.rows[0][0]}].quantity"
    items = items_of(request)
    for index, row in posted.rows:
        item = items.get(row.item_code)
        batch = rows[index].batch_number
        if item and item.name in error.message and f"批次{batch}" in error.message:
            return f"lines[{index}].quantity"
    return None


@post("/requests/{number:str}/ship", guards=[roles(Role.clerk)], status_code=303)
async def ship(request: Request, number: FromPath[str]) -> Any:
    return await run(request, _ship, number)


HANDLERS: list = [submit, cancel, close, approve, reject, ship, confirm]
