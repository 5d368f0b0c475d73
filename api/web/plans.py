"""分配方案: split stock held at the user's location over places by weight (the places below
it by default, each weighted by its population unless another weight is typed), preview the
split in whole packs as the allocation service rounds it, then apply it: the issues the API's
`/allocation-plans/apply` makes, their vouchers listed with links. Clerks and approvers
preview; the clerk at the source applies."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import MediaType, Request, get, post
from litestar.response import Redirect, Template

from api.common import services_of
from api.errors import Forbidden, status_of
from api.policy import require_at, require_sees, require_sees_transaction, roles
from api.web.places import user_places
from api.web.plan_forms import (
    PLAN_FIELDS,
    PlanForm,
    default_places,
    extra_places,
    posted_places,
)
from api.web.print_plan_allocation import saved_choices
from api.web.render import chinese, new_once_key, once, page
from api.web.request_views import error_at, form_of, holds, parse_date
from ledger.allocation import Plan
from ledger.model import Item, Role, VirtualLocation
from ledger.rules import LedgerError
from ledger.services import lookups
from ledger.services.allocation import issue_plan, make_plan
from ledger.services.balances import BalanceQuery, balances
from ledger.services.users import User

PLANNERS = (Role.clerk, Role.approver)
Values = Any  # a preview's query or an apply's form: .get and .getall


def _batches(request: Request, source_code: str, item_code: str) -> list[Any]:
    """The item's batches held at the source, first expiry first."""
    if not item_code:
        return []
    database = services_of(request.app.state).database
    query = BalanceQuery(location_code=source_code, item_code=item_code)
    held = [b for b in balances(database, query) if b.on_hand > 0 and b.batch_number]
    return sorted(held, key=lambda b: (str(b.expires_on or "9999"), b.batch_number or ""))


def _read(request: Request, values: Values, defaults: bool) -> PlanForm:
    """The form as sent (a preview's query or an apply's body); the source's places by
    default when the form has not been sent yet."""
    user: User = request.user
    services = services_of(request.app.state)
    source_code = str(values.get("source_code") or user.location_code).strip()
    source = services.visible_location(user, source_code, "source_code")
    form = PlanForm(
        source_code=source_code,
        item_code=str(values.get("item_code", "")).strip(),
        batch_number=str(values.get("batch_number", "")).strip(),
        quantity=str(values.get("quantity", "")).strip(),
        quantity_unit=str(values.get("quantity_unit", "")).strip(),
        pack=values.get("pack"),
        extra=" ".join(str(code).strip() for code in values.getall("extra", [])).strip(),
        occurred_on=str(values.get("occurred_on", "")).strip(),
        memo=str(values.get("memo", "")).strip(),
    )
    database = services.database
    form.places = default_places(database, source) if defaults else posted_places(database, values)
    return form


def _plan(request: Request, form: PlanForm, item: Item) -> Plan:
    """The split as the allocation service computes it (the API's compute, with the batch)."""
    services = services_of(request.app.state)
    return make_plan(
        services.database,
        form.source_code,
        form.item_code,
        form.base_quantity(item),
        form.shares(),
        form.pack,
        services.clock(),
        form.batch_number or None,
    )


def _page(
    request: Request,
    form: PlanForm,
    plan: Plan | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    services = services_of(request.app.state)
    items = {item.code: item for item in lookups.items(services.database, 200, 0)}
    item = items.get(form.item_code)
    batches = _batches(request, form.source_code, form.item_code)
    if form.batch_number and form.batch_number not in {b.batch_number for b in batches}:
        form.batch_number = ""  # another item's batch: the item was changed
    if item is not None and form.pack not in [None, item.base_unit, *(p.name for p in item.packs)]:
        form.pack = None
    user: User = request.user
    weights = _weights(form) if plan else {}
    places = user_places(request)
    listed = [form.source_code, *(place.code for place in form.places)]
    template = page(
        request,
        "plans_form.html",
        "分配方案",
        form=form,
        items=items,
        item=item,
        batches=batches,
        plan=plan,
        lines={line.location_code: line for line in plan.lines} if plan else {},
        weights=weights,
        weight_total=sum(weights.values()),
        sources=places if user.has(Role.admin) else None,  # a clerk plans at its own place
        extra_places=places.without(listed),
        errors=errors or {},
        may_apply=holds(user, Role.clerk) and _clerk_at(request, form.source_code),
        once=new_once_key(),
        today=services.clock().isoformat(),
        print_plans_saved=saved_choices(request),  # 按印制计划分配 (print_plan_allocation.py)
        print_sources=places.options(),
    )
    template.status_code = status_code
    return template


def _weights(form: PlanForm) -> dict[str, int]:
    """Each included place's weight as the plan used it (the population when left blank)."""
    populations = {place.code: place.population or 0 for place in form.places}
    return {
        share.location_code: share.weight
        if share.weight is not None
        else populations[share.location_code]
        for share in form.shares()
    }


def _clerk_at(request: Request, source_code: str) -> bool:
    try:
        require_at(
            request.user, source_code, Role.clerk, "", services_of(request.app.state).location
        )
    except Forbidden:
        return False
    return True


def _sees(request: Request) -> Any:
    def sees(entry: Any) -> None:
        require_sees(request.user, entry)

    return sees


def _preview(request: Request, values: Values) -> Template:
    sent = "sent" in values
    form = _read(request, values, defaults=not sent)
    if not sent:
        return _page(request, form)
    database = services_of(request.app.state).database
    try:
        form.places = extra_places(database, form.extra, form.places, _sees(request))
        form.extra = ""
        item = lookups.item(database, form.item_code, "item_code")
        plan = _plan(request, form, item)
    except Forbidden as refused:
        return _page(request, form, None, {"extra": chinese(refused.detail or "")}, 403)
    except LedgerError as error:
        errors = error_at(error, error.field, PLAN_FIELDS)
        return _page(request, form, None, errors, status_of(error))
    return _page(request, form, plan)


@get("/plans", sync_to_thread=True, guards=[roles(*PLANNERS)])
def plans_page(request: Request) -> Template:
    """The plan's form; with `sent`, the split previewed below it."""
    return _preview(request, request.query_params)


@get("/plans/parts", sync_to_thread=True, guards=[roles(*PLANNERS)])
def item_parts(request: Request) -> Template:
    """The batch and pack choices for the item chosen (htmx swaps them in)."""
    form = _read(request, request.query_params, defaults=True)
    services = services_of(request.app.state)
    items = {item.code: item for item in lookups.items(services.database, 200, 0)}
    return Template(
        media_type=MediaType.HTML,
        template_name="plans_item_parts.html",
        context={
            "form": form,
            "item": items.get(form.item_code),
            "batches": _batches(request, form.source_code, form.item_code),
            "errors": {},
        },
    )


def _apply(request: Request, values: Values) -> Any:
    user: User = request.user
    services = services_of(request.app.state)
    form = _read(request, values, defaults=False)
    require_at(user, form.source_code, Role.clerk, "下发分配计划", services.location)
    key = f"web:{user.id}:{values.get('once', '')}"

    def work() -> list[str]:
        item = lookups.item(services.database, form.item_code, "item_code")
        plan = _plan(request, form, item)
        shipments = issue_plan(
            services.database,
            plan,
            form.source_code,
            form.item_code,
            parse_date(form.occurred_on, "occurred_on"),
            form.memo,
            key,
            user.id,
            services.clock(),
            form.batch_number or None,
        )
        return [shipment.number for shipment in shipments]

    try:
        numbers = once(request, form_of(values), work)
    except LedgerError as error:
        errors = error_at(error, error.field, PLAN_FIELDS)
        return _page(request, form, None, errors, status_of(error))
    query = "&".join(f"v={number}" for number in numbers)
    return Redirect(path=f"/plans/applied?{query}", status_code=303)


@post("/plans/apply", guards=[roles(Role.clerk)], status_code=303)
async def apply_plan(request: Request) -> Any:
    values = await request.form()
    return await anyio.to_thread.run_sync(_apply, request, values)


@get("/plans/applied", sync_to_thread=True, guards=[roles(*PLANNERS)])
def applied(request: Request) -> Template:
    """The vouchers a plan made: each issue, where it went, how much."""
    services = services_of(request.app.state)
    shown = []
    for number in request.query_params.getall("v", [])[:1000]:
        shipment = lookups.transaction(services.database, number)
        require_sees_transaction(request.user, shipment, services.location)
        moved = [p for p in shipment.postings if p.location_code == VirtualLocation.in_transit]
        item = lookups.item(services.database, moved[0].item_code) if moved else None
        place = services.location(shipment.counterparty_code or shipment.location_code)
        shown.append((shipment, place.location.name, item, sum(p.quantity for p in moved), moved))
    return page(request, "plans_applied.html", "分配方案已下发", shown=shown)


HANDLERS: list = [plans_page, item_parts, apply_plan, applied]
