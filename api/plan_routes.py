"""Allocation plans (分配计划): split a quantity held at a source over places by weight (a
place's population when no weight is given, or a saved 印制计划's quantities), in whole packs;
apply one as issues."""

from __future__ import annotations

from litestar import Request, Response, post
from litestar.datastructures import State
from litestar.params import JSONBody

from api.common import IdempotencyKey, Services, idempotent, services_of
from api.policy import require_at, roles
from api.schemas import AppliedPlan, PlanApply, PlanCompute, PlanLineOut, PlanOut
from ledger.allocation import Plan, Share
from ledger.model import Role
from ledger.rules import Code, LedgerError
from ledger.services.allocation import issue_plan, make_plan
from ledger.services.print_plans import (
    IssueOrder,
    allocation_from_print_plan,
    issue_print_plan,
)
from ledger.services.users import User


def _plan_out(item_code: str, plan: Plan) -> PlanOut:
    return PlanOut(
        item_code,
        plan.pack_base_units,
        tuple(PlanLineOut(line.location_code, line.packs, line.quantity) for line in plan.lines),
        plan.allocated,
        plan.unallocated,
    )


def _compute(services: Services, user: User, data: PlanCompute | PlanApply) -> Plan:
    services.visible_location(user, data.source_code, "source_code")
    if data.print_plan is not None:
        return _from_print_plan(services, data, data.print_plan)
    if data.quantity is None:
        raise LedgerError(
            Code.invalid_field, "请填写分配数量 quantity，或给出印制计划 print_plan", "quantity"
        )
    shares = [Share(share.location_code, share.weight) for share in data.shares or ()]
    return make_plan(
        services.database,
        data.source_code,
        data.item_code,
        data.quantity,
        shares,
        data.pack,
        services.clock(),
    )


def _refuse_with_print_plan(data: PlanCompute | PlanApply) -> None:
    """With `print_plan` the places, weights and pack are the plan's: `shares` (even an empty
    list) or `pack` given beside it is refused, not ignored."""
    if data.shares is not None or data.pack is not None:
        raise LedgerError(
            Code.weights_invalid,
            "按印制计划分配时，分配对象、权重和包装都取自计划：请不要再填 shares、pack",
            "shares" if data.shares is not None else "pack",
        )


def _refuse_nothing(data: PlanApply) -> None:
    """下发 of nothing is refused: a quantity not above zero."""
    if data.quantity is not None and data.quantity <= 0:
        raise LedgerError(
            Code.quantity_must_be_positive, f"分配数量须大于零：{data.quantity}", "quantity"
        )


def _from_print_plan(services: Services, data: PlanCompute | PlanApply, number: str) -> Plan:
    """The plan's places right below the source, weighted by what is still due to them."""
    _refuse_with_print_plan(data)
    return allocation_from_print_plan(
        services.database,
        number,
        data.source_code,
        data.quantity,
        services.clock(),
        item_code=data.item_code,
    )


@post(
    "/allocation-plans",
    sync_to_thread=True,
    guards=[roles(Role.clerk, Role.approver)],
    tags=["plans"],
    status_code=200,
    summary="分配计划: compute a split by weights",
)
def compute_plan(
    request: Request,
    state: State,
    data: JSONBody[PlanCompute],
    idempotency_key: IdempotencyKey = None,
) -> Response[PlanOut]:
    def work(_: str | None) -> PlanOut:
        return _plan_out(data.item_code, _compute(services_of(state), request.user, data))

    return idempotent(request, state, idempotency_key, data, work, 200)


@post(
    "/allocation-plans/apply",
    sync_to_thread=True,
    guards=[roles(Role.clerk)],
    tags=["plans"],
    summary="Push a plan down as issues",
)
def apply_allocation_plan(
    request: Request,
    state: State,
    data: JSONBody[PlanApply],
    idempotency_key: IdempotencyKey = None,
) -> Response[AppliedPlan]:
    user: User = request.user
    services = services_of(state)
    require_at(user, data.source_code, Role.clerk, "下发分配计划", services.location)

    def work(key: str | None) -> AppliedPlan:
        _refuse_nothing(data)
        if data.print_plan is not None:
            services.visible_location(user, data.source_code, "source_code")
            _refuse_with_print_plan(data)
            order = IssueOrder(
                data.quantity, data.occurred_on, data.memo, key, item_code=data.item_code
            )
            plan, made = issue_print_plan(
                services.database,
                data.print_plan,
                data.source_code,
                order,
                user.id,
                services.clock(),
            )
            return AppliedPlan(_plan_out(data.item_code, plan), tuple(made))
        plan = _compute(services, user, data)
        if not plan.allocated:
            raise LedgerError(
                Code.exceeds_available,
                f"{data.source_code} 没有可按此计划下发的数量（库存不足一整包，或数量不足一整包）",
                "quantity",
            )
        shipments = issue_plan(
            services.database,
            plan,
            data.source_code,
            data.item_code,
            data.occurred_on,
            data.memo,
            key,
            user.id,
            services.clock(),
        )
        return AppliedPlan(_plan_out(data.item_code, plan), tuple(shipments))

    return idempotent(request, state, idempotency_key, data, work)


ROUTES = [compute_plan, apply_allocation_plan]
