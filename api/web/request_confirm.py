"""签收: the requester confirms a shipment's arrival from the request's page, with the received
quantity of each item and batch. Less than shipped is a shortage, confirmed in a second step,
as the API's rule (`shortage_unconfirmed`, api.common.SHORTAGE_STEP) asks: the first sending
shows what is missing and asks why (a reason from the list, a note for 其他); the second sends
the reason with exactly those missing lines. Received quantities changed in between are
checked again by the service, which then shows the new shortage."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.datastructures import FormMultiDict

from api.common import services_of
from api.errors import status_of
from api.policy import require_request_confirmer, roles
from api.web.render import once
from api.web.request_detail import (
    ConfirmForm,
    ConfirmLine,
    Typed,
    detail_page,
    missing_of,
    shipment_lines,
)
from api.web.request_views import (
    CONFIRM_FIELDS,
    done,
    error_at,
    form_of,
    parse_date,
    run,
    visible_request,
    whole_number,
)
from ledger import commands as c
from ledger.model import Role
from ledger.rules import Code, LedgerError
from ledger.services import requests
from ledger.services.request_models import ConfirmShipment


def _typed(form: FormMultiDict, shipment: str, shipped: list[ConfirmLine]) -> ConfirmForm:
    """The form as sent: the received quantity typed for each line of the shipment (by item
    and batch), and the shortage step's fields."""
    typed: dict[tuple[str, str], str] = {}
    for code, batch, received in zip(
        form.getall("item_code", []),
        form.getall("batch_number", []),
        form.getall("received", []),
        strict=False,
    ):
        typed[(code, batch)] = received.strip()
    lines = [
        line._replace(received=typed.get((line.item_code, line.batch_number), ""))
        for line in shipped
    ]
    return ConfirmForm(
        shipment,
        lines,
        str(form.get("occurred_on", "")).strip(),
        str(form.get("memo", "")).strip(),
        missing_of(lines) if "short_item" in form else [],  # in the second step
        str(form.get("shortage_reason", "")).strip(),
        str(form.get("shortage_note", "")).strip(),
    )


def _shortage(form: FormMultiDict, confirm: ConfirmForm) -> c.Shortage | None:
    """The second step's acknowledgement: the reason and the missing lines the first step
    showed (sent back as hidden fields); None on the first sending."""
    if "short_item" not in form:
        return None
    if not confirm.reason:
        raise LedgerError(Code.reason_required, "请选择短少原因", "shortage.reason")
    lines = tuple(
        c.ShortageLine(code, batch, whole_number(quantity, "shortage"))
        for code, batch, quantity in zip(
            form.getall("short_item", []),
            form.getall("short_batch", []),
            form.getall("short_quantity", []),
            strict=False,
        )
    )
    return c.Shortage(confirm.reason, lines, confirm.note)


def _command(form: FormMultiDict, shipment: str, confirm: ConfirmForm) -> ConfirmShipment:
    received = tuple(
        c.ReceivedLine(
            line.item_code,
            line.batch_number,
            whole_number(line.received, f"received[{index}].quantity_received"),
        )
        for index, line in enumerate(confirm.lines)
    )
    return ConfirmShipment(
        shipment,
        received,
        parse_date(confirm.occurred_on, "occurred_on"),
        confirm.memo,
        _shortage(form, confirm),
    )


def _field(error: LedgerError) -> str | None:
    """The page's field for a refusal: the received box of a line, the reason or note of the
    shortage step, the date, the memo; the shortage as a whole above its table."""
    found = error.field or ""
    if found.startswith("received[") or found in ("occurred_on", "memo"):
        return found
    if found in ("shortage.reason", "shortage.note"):
        return found
    if found.startswith("shortage"):
        return "shortage"
    return None


def _confirm(request: Request, form: FormMultiDict, number: str, shipment: str) -> Any:
    services, user = services_of(request.app.state), request.user
    found = visible_request(request, number)
    require_request_confirmer(user, found, services.location)
    if shipment not in {s.number for s in found.shipments}:
        raise LedgerError(
            Code.shipment_not_in_request,
            f"{shipment} 不是申领单 {number} 的发货单 (not a shipment of this request)",
            "shipment_number",
        )
    confirm = _typed(form, shipment, shipment_lines(request, shipment))
    try:
        command = _command(form, shipment, confirm)
        once(
            request,
            form_of(form),
            lambda: (
                requests.confirm(
                    services.database, number, command, user.id, services.clock()
                ).number
            ),
        )
    except LedgerError as error:
        if (
            error.code in (Code.shortage_unconfirmed, Code.no_shortage_to_confirm)
            or confirm.missing
        ):
            confirm.missing = missing_of(confirm.lines)
        errors = error_at(error, _field(error), CONFIRM_FIELDS)
        typed = Typed(confirm=confirm)
        return detail_page(request, number, f"confirm:{shipment}", errors, typed, status_of(error))
    return done(number)


@post(
    "/requests/{number:str}/shipments/{shipment:str}/confirm",
    guards=[roles(Role.requester, Role.clerk)],
    status_code=303,
)
async def confirm(request: Request, number: str, shipment: str) -> Any:
    return await run(request, _confirm, number, shipment)
