"""签收 of a shipment that no allocation request made (出库 on /movements/issue, 分配方案's
issues): the receiving place confirms what arrived, line by line.

Link to it as `confirm_path(number)`: **`/vouchers/{number}/confirm`** (GET shows the form,
POST confirms). Any unconfirmed shipment's number may be linked there (the home page's
"待我签收的发货", the voucher page's 签收 button): a shipment made for a request is sent on
(303) to that request's page, whose confirm form (`/requests/{request}#confirm-{number}`)
also counts the arrival on the request's lines (`requests.confirm`, another use case).

Who may confirm is the API's rule for `POST /api/v1/transactions/confirmations`
(api/policy.py require_receiver): a clerk or requester at the receiving location, or an admin
of its city; anybody else is refused (403). The form shows each line shipped (item, batch,
expiry, shipped in packs with base units beside) with its received quantity, prefilled as
shipped, in base units or one of the item's packs; it posts the API's command (`c.Confirm`
through `ledger.services.ledger.execute`) once per form (`once`). Less than shipped is refused
first (`shortage_unconfirmed`): the page shows the missing lines and asks for the reason and a
note (required for 其他), and the second sending carries them (api.common.SHORTAGE_STEP). On
success the browser goes to the confirmation's voucher, `/vouchers/{QS number}`."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from litestar import Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.common import services_of
from api.errors import Forbidden, status_of
from api.policy import require_receiver, require_sees_transaction, roles
from api.web.confirm_parts import (
    ConfirmForm,
    confirmation_of,
    field_of,
    in_packs,
    missing_of,
    refused_missing,
    shipped_lines,
    typed_form,
)
from api.web.render import once, page
from api.web.request_views import (
    CONFIRM_FIELDS,
    error_at,
    form_of,
    holds,
    run,
    shortage_reason_options,
    unit_options,
)
from ledger.model import Role
from ledger.rules import Code, LedgerError
from ledger.services.ledger import execute
from ledger.services.shipment_requests import request_of
from ledger.services.users import User
from ledger.services.vouchers import SHIPMENTS, VoucherView, voucher

CONFIRMERS = (Role.clerk, Role.requester)  # the API's role guard (an admin always passes)


def confirm_path(number: str) -> str:
    """The page that confirms this shipment (see the module's docstring)."""
    return f"/vouchers/{number}/confirm"


def request_confirm_path(request_number: str, shipment: str) -> str:
    """A request's shipment is confirmed on the request's page, at its confirm form."""
    return f"/requests/{request_number}#confirm-{shipment}"


def _shipment(request: Request, number: str) -> VoucherView:
    """The shipment, if the user may confirm it: 404 for an unknown number, 403 outside its
    reach or for anybody but the receiver (the API's require_receiver), 422 for a voucher
    that is no shipment (as the service refuses it)."""
    services = services_of(request.app.state)
    user: User = request.user
    view = voucher(services.database, number)
    shipment = view.transaction
    require_sees_transaction(user, shipment, services.location)
    if shipment.kind not in SHIPMENTS:
        raise LedgerError(
            Code.not_a_shipment,
            f"{shipment.number} 不是出库或调拨单 (not a shipment)",
            "shipment_number",
        )
    require_receiver(user, shipment, services.location)
    return view


def _settled(view: VoucherView) -> str:
    """Why the shipment can no longer be confirmed (the service's refusal, in its words), or
    "" while it is in transit."""
    number = view.transaction.number
    if view.reversed_by:
        return f"{number} 已被 {view.reversed_by} 红冲，不能签收"
    if view.confirmation:
        return f"{number} 已由 {view.confirmation} 签收"
    return ""


def confirm_link(request: Request, view: VoucherView) -> str | None:
    """Where the voucher page's 签收 button leads: this shipment's confirm page (or its
    request's), when the voucher is a shipment still in transit and the signed-in user may
    confirm it; None otherwise."""
    shipment = view.transaction
    user: User = request.user
    if shipment.kind not in SHIPMENTS or _settled(view) or not holds(user, *CONFIRMERS):
        return None
    services = services_of(request.app.state)
    with suppress(Forbidden, LedgerError):
        require_receiver(user, shipment, services.location)
        found = request_of(services.database, shipment.number)
        if found is not None:
            return request_confirm_path(found, shipment.number)
        return confirm_path(shipment.number)
    return None


def _page(
    request: Request,
    view: VoucherView,
    form: ConfirmForm | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    request_number: str | None = None,
) -> Template:
    """The confirm page: the shipment, and its form while it is in transit (`form`: what was
    typed, after a refusal) or why it cannot be confirmed."""
    shipment = view.transaction
    settled = _settled(view)
    if form is None and not settled and request_number is None:
        form = ConfirmForm(shipment.number, in_packs(shipped_lines(shipment), view.items))
    services = services_of(request.app.state)
    result = page(
        request,
        "confirm_shipment.html",
        f"签收 {shipment.number}",
        view=view,
        t=shipment,
        cf=None if settled or request_number else form,
        settled=settled,
        request_number=request_number,
        request_path=request_confirm_path(request_number or "", shipment.number),
        items=view.items,
        units_of=lambda code: unit_options(view.items.get(code)),
        reasons=shortage_reason_options(),
        errors=errors or {},
        today=services.clock().isoformat(),
    )
    result.status_code = status_code
    return result


@get("/vouchers/{number:str}/confirm", sync_to_thread=True, guards=[roles(*CONFIRMERS)])
def confirm_page(request: Request, number: FromPath[str]) -> Any:
    """The 签收 form of a shipment in transit; a request's shipment goes to its request."""
    view = _shipment(request, number)
    if not _settled(view):
        found = request_of(services_of(request.app.state).database, number)
        if found is not None:
            return Redirect(path=request_confirm_path(found, number), status_code=303)
    return _page(request, view)


def _confirm(request: Request, form: FormMultiDict, number: str) -> Any:
    services = services_of(request.app.state)
    user: User = request.user
    view = _shipment(request, number)
    found = request_of(services.database, number)
    if found is not None and not _settled(view):
        return _page(request, view, status_code=409, request_number=found)
    confirm = typed_form(form, number, shipped_lines(view.transaction))
    try:
        command = confirmation_of(form, confirm)
        made = once(
            request,
            form_of(form),
            lambda: execute(services.database, command, user.id, services.clock()).number,
        )
    except LedgerError as error:
        if refused_missing(error, form, confirm):
            confirm.missing = missing_of(confirm.lines, view.items)
        at = field_of(error)
        if at == "shortage" and not confirm.missing:
            at = None  # no shortage table to show it beside: above the form
        errors = error_at(error, at, CONFIRM_FIELDS)
        fresh = voucher(services.database, number)  # confirmed meanwhile: said, no form
        return _page(request, fresh, confirm, errors, status_of(error))
    return Redirect(path=f"/vouchers/{made}", status_code=303)


@post("/vouchers/{number:str}/confirm", guards=[roles(*CONFIRMERS)], status_code=303)
async def confirm_shipment(request: Request, number: FromPath[str]) -> Any:
    """签收 (POST /api/v1/transactions/confirmations's use case), once per form."""
    return await run(request, _confirm, number)


HANDLERS: list = [confirm_page, confirm_shipment]
