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
from litestar.params import FromPath

from api.common import services_of
from api.errors import status_of
from api.policy import require_request_confirmer, roles
from api.web.confirm_parts import (
    ConfirmForm,
    field_of,
    missing_of,
    received_of,
    refused_missing,
    shortage_of,
    typed_form,
)
from api.web.render import once
from api.web.request_detail import Typed, detail_page, shipment_lines
from api.web.request_views import (
    CONFIRM_FIELDS,
    done,
    error_at,
    form_of,
    parse_date,
    run,
    visible_request,
)
from ledger.model import Role
from ledger.rules import Code, LedgerError
from ledger.services import requests
from ledger.services.request_models import ConfirmShipment


def _command(form: FormMultiDict, confirm: ConfirmForm) -> ConfirmShipment:
    return ConfirmShipment(
        confirm.number,
        received_of(confirm),
        parse_date(confirm.occurred_on, "occurred_on"),
        confirm.memo,
        shortage_of(form, confirm),
    )


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
    confirm = typed_form(form, shipment, shipment_lines(request, shipment))
    try:
        command = _command(form, confirm)
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
        if refused_missing(error, form, confirm):
            confirm.missing = missing_of(confirm.lines)
        errors = error_at(error, field_of(error), CONFIRM_FIELDS)
        typed = Typed(confirm=confirm)
        return detail_page(request, number, f"confirm:{shipment}", errors, typed, status_of(error))
    return done(number)


@post(
    "/requests/{number:str}/shipments/{shipment:str}/confirm",
    guards=[roles(Role.requester, Role.clerk)],
    status_code=303,
)
async def confirm(request: Request, number: FromPath[str], shipment: FromPath[str]) -> Any:
    return await run(request, _confirm, number, shipment)
