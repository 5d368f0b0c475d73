"""按印制计划分配: when a print run arrives, split it from a place of a saved 印制计划 to the
plan's places right below it, each getting what the plan gives it with its area (its 含下级合计),
in the plan's pack, less what has been shipped to it under the plan already (已发, reversed
issues not counted) — the preview with 计划 / 已发 / 待发, then 下发 once (the issues, each
linked to the plan). Nothing due: the preview says so and offers no 下发. The same use cases and checks
as `POST /allocation-plans[/apply]` with `print_plan`: the source is one the user sees,
only the clerk at the source applies, and the split is `allocation_from_print_plan`'s.
"""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Request, get, post
from litestar.response import Redirect, Template

from api.common import services_of
from api.errors import Forbidden, status_of
from api.policy import require_at, roles, scope_path
from api.web.places import user_places
from api.web.print_plans import (
    PLANNERS,
    allocation_sources,
    in_figures,
    in_packs,
    message_of,
    read_saved,
)
from api.web.render import chinese, new_once_key, once, page
from api.web.request_views import error_at, form_of, holds, parse_date
from ledger.allocation import Plan
from ledger.model import Role
from ledger.rules import Code, LedgerError
from ledger.services import print_plans
from ledger.services.balances import BalanceQuery, balances
from ledger.services.users import User

FIELDS = "print_plan|source_code|occurred_on|memo"


def saved_choices(request: Request) -> list[Any]:
    """The saved plans a form offers (the user's subtree's, newest first)."""
    database = services_of(request.app.state).database
    return print_plans.saved_print_plans(database, scope_path(request.user), 200)


def _chosen(values: Any, user: User) -> tuple[str, str]:
    number = str(values.get("print_plan", "")).strip()
    source = str(values.get("source_code") or user.location_code).strip()
    return number, source


def _plan(request: Request, number: str, source_code: str) -> tuple[Any, Plan | None]:
    """(the saved plan, the allocation of what is still due from the source; None when all of
    it has been shipped): the API's checks."""
    services = services_of(request.app.state)
    if not number:
        raise LedgerError(Code.unknown_print_plan, "请选择一个已保存的印制计划", "print_plan")
    made = read_saved(request, number)
    services.visible_location(request.user, source_code, "source_code")
    try:
        plan = print_plans.allocation_from_print_plan(
            services.database, number, source_code, None, services.clock()
        )
    except LedgerError as error:
        if error.code is not Code.print_plan_fully_shipped:
            raise
        return made, None
    return made, plan


def _available(request: Request, source_code: str, item_code: str) -> int:
    database = services_of(request.app.state).database
    held = balances(database, BalanceQuery(location_code=source_code, item_code=item_code))
    return sum(line.available for line in held)


def _clerk_at(request: Request, source_code: str) -> bool:
    try:
        require_at(
            request.user, source_code, Role.clerk, "", services_of(request.app.state).location
        )
    except Forbidden:
        return False
    return True


def _totals(shipping: Any, source_code: str, made: Any) -> dict[str, int]:
    """计划 / 已发 / 待发 summed over the places right below the source."""
    below = {line.location_code for line in made.plan.lines if line.parent_code == source_code}
    places = [place for place in shipping if place.location_code in below]
    return {
        "planned": sum(place.planned for place in places),
        "shipped": sum(place.shipped for place in places),
        "due": sum(place.due for place in places),
    }


def _page(
    request: Request,
    number: str,
    source_code: str,
    found: tuple[Any, Plan | None] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    values: Any = None,
) -> Template:
    services = services_of(request.app.state)
    context: dict[str, Any] = {}
    if found is not None:
        made, plan = found
        subtree = {line.location_code: line for line in made.plan.lines}
        shipping = print_plans.print_plan_shipping(services.database, made.number)
        context = {
            "made": made,
            "plan": plan,
            "shipping": {place.location_code: place for place in shipping},
            "below": [line for line in made.plan.lines if line.parent_code == source_code],
            "totals": _totals(shipping, source_code, made),
            "unit": in_packs(made),
            "planned": subtree,
            "source": subtree[source_code],
            "available": _available(request, source_code, made.terms.item_code),
            "split": lambda quantity: in_figures(quantity, made),
            "shown": [
                line
                for line in (plan.lines if plan else ())
                if line.quantity or subtree[line.location_code].subtree
            ],
        }
    user: User = request.user
    if found is not None:
        sources = allocation_sources(request, found[0])
    else:
        sources = user_places(request).options()
    template = page(
        request,
        "plans_print_plan.html",
        "分配方案 — 按印制计划分配",
        saved=saved_choices(request),
        number=number,
        source_code=source_code,
        sources=sources,
        errors=errors or {},
        may_apply=holds(user, Role.clerk) and _clerk_at(request, source_code),
        once=new_once_key(),
        today=services.clock().isoformat(),
        occurred_on=str((values or {}).get("occurred_on", "")),
        memo=str((values or {}).get("memo", "")),
        **context,
    )
    template.status_code = status_code
    return template


def _refused(error: LedgerError) -> dict[str, str]:
    """A refusal beside its field (an unknown plan's number beside the plan chosen)."""
    field = "print_plan" if error.field == "number" else error.field
    return {key: message_of(error) for key in error_at(error, field, FIELDS)}


@get("/plans/print-plan", sync_to_thread=True, guards=[roles(*PLANNERS)])
def preview(request: Request) -> Template:
    """The allocation from the source the plan gives, beside what the plan says."""
    number, source_code = _chosen(request.query_params, request.user)
    if not number:
        return _page(request, number, source_code)
    try:
        found = _plan(request, number, source_code)
    except Forbidden as refused:
        errors = {"source_code": chinese(refused.detail or "")}
        return _page(request, number, source_code, None, errors, 403)
    except LedgerError as error:
        return _page(request, number, source_code, None, _refused(error), status_of(error))
    return _page(request, number, source_code, found)


def _apply(request: Request, values: Any) -> Any:
    user: User = request.user
    services = services_of(request.app.state)
    number, source_code = _chosen(values, user)
    require_at(user, source_code, Role.clerk, "下发分配计划", services.location)
    key = f"web:{user.id}:{values.get('once', '')}"

    def work() -> list[str]:
        if not number:
            raise LedgerError(Code.unknown_print_plan, "请选择一个已保存的印制计划", "print_plan")
        read_saved(request, number)
        services.visible_location(user, source_code, "source_code")
        order = print_plans.IssueOrder(
            None,
            parse_date(str(values.get("occurred_on", "")), "occurred_on"),
            str(values.get("memo", "")).strip(),
            key,
        )
        _, shipments = print_plans.issue_print_plan(
            services.database, number, source_code, order, user.id, services.clock()
        )
        return [shipment.number for shipment in shipments]

    try:
        numbers = once(request, form_of(values), work)
    except LedgerError as error:
        errors = _refused(error)
        try:  # the preview again, the refusal beside its field (出库日期, 摘要) or above it
            found: tuple[Any, Plan | None] | None = _plan(request, number, source_code)
        except (LedgerError, Forbidden):
            found = None
        return _page(request, number, source_code, found, errors, status_of(error), values)
    query = "&".join(f"v={voucher}" for voucher in numbers)
    return Redirect(path=f"/plans/applied?{query}", status_code=303)


@post("/plans/print-plan/apply", guards=[roles(Role.clerk)], status_code=303)
async def apply(request: Request) -> Any:
    """下发: the issues of the allocation, once however often the form is sent."""
    values = await request.form()
    return await anyio.to_thread.run_sync(_apply, request, values)


HANDLERS: list = [preview, apply]
