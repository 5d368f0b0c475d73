"""One request's page: its lines (requested, approved, issued, received, short — in packs with
base units beside), its shipments, its timeline, and the forms of what the signed-in user may do
now: approve in part or reject, ship with the FEFO suggestion filled in, confirm an arrival
(with the shortage step), submit, cancel, close. A refused form comes back here with the
refusal beside the field at fault and what the user typed kept."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from litestar import Request
from litestar.response import Template

from api.common import services_of
from api.web.confirm_parts import ConfirmForm, ConfirmLine, shipped_lines
from api.web.render import new_once_key, page
from api.web.request_suggestions import differs_much
from api.web.request_views import (
    allowed,
    items_of,
    shortage_reason_options,
    timeline,
    unit_options,
    visible_request,
)
from ledger import norms
from ledger.requests import RequestStatus
from ledger.services import lookups, requests
from ledger.services.balances import BalanceQuery, balances
from ledger.services.request_models import AllocationRequest


class ApproveRow(NamedTuple):
    item_code: str
    quantity: str
    unit: str


class ShipRow(NamedTuple):
    """batch_number "": the service picks first-expiry-first-out."""

    item_code: str
    batch_number: str
    quantity: str
    unit: str
    override_reason: str


@dataclass
class Typed:
    """What the user typed in the form that was refused (the others are shown fresh)."""

    approve: list[ApproveRow] | None = None
    reject_reason: str = ""
    ship: list[ShipRow] | None = None
    memo: str = ""
    occurred_on: str = ""
    confirm: ConfirmForm | None = None


def shipment_lines(request: Request, shipment_number: str) -> list[ConfirmLine]:
    """What a shipment carries, per item and batch (its in-transit legs), as shipped."""
    database = services_of(request.app.state).database
    return shipped_lines(lookups.transaction(database, shipment_number))


def _approve_rows(found: AllocationRequest) -> list[ApproveRow]:
    return [ApproveRow(line.item_code, str(line.requested), "") for line in found.lines]


def _ship_rows(request: Request, found: AllocationRequest) -> list[ShipRow]:
    """The FEFO suggestion as the shipping form's rows; an outstanding item without stock to
    suggest gets an empty row (the clerk sees it and may leave it)."""
    services = services_of(request.app.state)
    rows = [
        ShipRow(s.item_code, s.batch_number, str(s.quantity), "", "")
        for s in requests.suggestion(services.database, found.number, services.clock())
    ]
    suggested = {row.item_code for row in rows}
    rows += [
        ShipRow(line.item_code, "", "", "", "")
        for line in found.lines
        if line.outstanding > 0 and line.item_code not in suggested
    ]
    return rows


class BatchChoice(NamedTuple):
    number: str
    expires_on: dt.date | None
    on_hand: int


def _batch_choices(request: Request, found: AllocationRequest) -> dict[str, list[BatchChoice]]:
    """The batches at the supplier of each outstanding item, first expiry first."""
    database = services_of(request.app.state).database
    choices: dict[str, list[BatchChoice]] = {}
    for line in found.lines:
        if line.outstanding <= 0:
            continue
        query = BalanceQuery(location_code=found.supplier_code, item_code=line.item_code)
        held = [b for b in balances(database, query) if b.on_hand > 0 and b.batch_number]
        held.sort(key=lambda b: (b.expires_on or dt.date.max, b.batch_number or ""))
        choices[line.item_code] = [
            BatchChoice(b.batch_number or "", b.expires_on, b.on_hand) for b in held
        ]
    return choices


def _confirm_forms(
    request: Request, found: AllocationRequest, typed: ConfirmForm | None
) -> list[ConfirmForm]:
    forms = []
    for shipment in found.shipments:
        if shipment.confirmation_number is not None:
            continue
        if typed is not None and typed.number == shipment.number:
            forms.append(typed)
        else:
            forms.append(ConfirmForm(shipment.number, shipment_lines(request, shipment.number)))
    return forms


FORMS = ("submit", "cancel", "close", "approve", "reject", "ship")


def detail_page(
    request: Request,
    number: str,
    failed: str = "",
    errors: dict[str, str] | None = None,
    typed: Typed | None = None,
    status_code: int = 200,
) -> Template:
    """The request's page. failed: the form that was refused ("approve", "ship",
    "confirm:<shipment>" …) whose `errors` and `typed` values are shown."""
    found = visible_request(request, number)
    typed = typed or Typed()
    may = allowed(request, found)
    items = items_of(request)
    database = services_of(request.app.state).database
    for line in found.lines:  # beyond the first page of the catalogue
        if line.item_code not in items:
            items[line.item_code] = lookups.item(database, line.item_code)
    ship_rows = (typed.ship or _ship_rows(request, found)) if may.ship else []
    template = page(
        request,
        "requests_detail.html",
        f"申领单 {number}",
        r=found,
        may=may,
        items=items,
        status_name=found.status,
        draft=found.status == RequestStatus.draft,
        failed=failed,
        errors=errors or {},
        typed=typed,
        far_from_suggested={
            line.item_code: differs_much(
                line.requested,
                line.suggested,
                norms.request_pack_size(items[line.item_code]) or 1,
            )
            for line in found.lines
        },
        approve_rows=typed.approve or _approve_rows(found),
        ship_rows=ship_rows,
        batch_choices=_batch_choices(request, found) if may.ship else {},
        units_of=lambda code: unit_options(items.get(code)),
        confirm_forms=_confirm_forms(request, found, typed.confirm) if may.confirm else [],
        reasons=shortage_reason_options(),
        timeline=timeline(request, number, items),
        today=services_of(request.app.state).clock().isoformat(),
        once={name: new_once_key() for name in FORMS},
    )
    template.status_code = status_code
    return template
