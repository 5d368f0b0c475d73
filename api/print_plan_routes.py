"""印制计划 (print-run plans) over HTTP: make one for an office's area (and keep it with
`save`), read a saved one as JSON or as the 印制计划表 (CSV, XLSX, print HTML). When the print
run arrives, `POST /allocation-plans` with `print_plan` splits it as the plan says."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from api.common import IdempotencyKey, idempotent, reads_of, services_of
from api.media_types import ExportOperation
from api.policy import roles
from api.report_routes import Format, answer
from api.schemas import Strict
from ledger import print_plan as pp
from ledger.model import Role
from ledger.services import print_plans
from ledger.services.report_print_plan import print_plan_report


class PrintPlanMake(msgspec.Struct, **Strict):
    """A plan for `item_code` over the area of `office_code` down to `level` (county,
    township or village): `copies` base units for every `per` units of `basis` (household,
    person, or place: each place at the level), for `coverage_percent` of them; a spare of
    `spare_percent` kept at each level above; households of `household_size` persons (a
    decimal with at most two places, 1 to 10, as a string "2.62" or a number 2.62, a number
    read by its shortest decimal form; 2.62 by default); whole packs of `pack` (the item's
    first pack when omitted); the office's own stock set against what to print unless
    `deduct_stock` is false. With `save` the plan is kept under a number (YZ-2026-000001)."""

    office_code: str
    item_code: str
    level: str = "village"
    basis: str = "household"
    copies: int = 1
    per: int = 1
    coverage_percent: int = 100
    spare_percent: int = 0
    household_size: str | float = "2.62"
    pack: str | None = None
    deduct_stock: bool = True
    title: str = ""
    save: bool = False


class PrintLineOut(msgspec.Struct, frozen=True):
    """One place: target (a place at the plan's level; else it keeps a spare), its
    population, households/persons/places (units), need before packs, packs, quantity it
    gets (base units), and subtree: its quantity with everything below it — what an
    allocation plan from its parent sends it."""

    location_code: str
    location_name: str
    parent_code: str | None
    level: str
    target: bool
    population: int | None
    units: int
    need: int
    packs: int
    quantity: int
    subtree: int


class PrintPlanOut(msgspec.Struct, frozen=True):
    """A plan as made (number null) or saved. total: base units for the whole area;
    on_hand: the office's stock set against it; to_print: what to print, whole packs."""

    number: str | None
    title: str
    office_code: str
    office_name: str
    item_code: str
    item_name: str
    unit: str
    pack: str
    pack_base_units: int
    level: str
    basis: str
    copies: int
    per: int
    coverage_percent: int
    spare_percent: int
    household_size: str
    made_on: dt.date
    made_by: str | None
    total: int
    on_hand: int
    to_print: int
    lines: tuple[PrintLineOut, ...]


def plan_out(made: print_plans.PrintPlanOut) -> PrintPlanOut:
    terms, plan = made.terms, made.plan
    return PrintPlanOut(
        made.number,
        made.title,
        terms.office_code,
        made.office_name,
        terms.item_code,
        made.item_name,
        made.base_unit,
        made.pack_name,
        plan.pack_base_units,
        terms.level,
        terms.target.basis.value,
        terms.target.copies,
        terms.target.per,
        terms.target.coverage_percent,
        terms.spare_percent,
        f"{float(terms.household_size):g}",
        made.made_on,
        made.made_by,
        plan.total,
        plan.on_hand,
        plan.to_print,
        tuple(PrintLineOut(*line) for line in plan.lines),
    )


def terms_of(data: PrintPlanMake) -> print_plans.Terms:
    target = pp.Target(pp.basis_of(data.basis), data.copies, data.per, data.coverage_percent)
    return print_plans.Terms(
        data.office_code,
        data.item_code,
        data.level,
        target,
        data.spare_percent,
        pp.household_size_of(data.household_size),
        data.pack,
        data.deduct_stock,
        data.title,
    )


@post(
    "/print-plans",
    sync_to_thread=True,
    guards=[roles(Role.clerk, Role.approver)],
    tags=["plans"],
    summary="印制计划: copies per place from population and a coverage target (save: keep it)",
)
def make_print_plan(
    request: Request,
    state: State,
    data: JSONBody[PrintPlanMake],
    idempotency_key: IdempotencyKey = None,
) -> Response[PrintPlanOut]:
    services = services_of(state)
    services.visible_location(request.user, data.office_code, "office_code")
    terms = terms_of(data)

    def work(_: str | None) -> PrintPlanOut:
        made = print_plans.make_print_plan(
            services.database, terms, data.save, request.user.id, services.clock()
        )
        return plan_out(made)

    return idempotent(request, state, idempotency_key, data, work, 201 if data.save else 200)


@get(
    "/print-plans/{number:str}",
    sync_to_thread=True,
    tags=["plans"],
    summary="A saved 印制计划, as JSON or the 印制计划表 (csv, xlsx, html)",
    operation_class=ExportOperation,
)
def read_print_plan(
    request: Request, state: State, number: FromPath[str], format: Format = "json"
) -> Response:
    services = services_of(state)
    made = reads_of(request, state).lookup(lambda s: print_plans.saved_plan(s, number))
    services.visible_location(request.user, made.terms.office_code, "number")
    if format == "json":
        return Response(plan_out(made))
    return answer(print_plan_report(made), format)


ROUTES = [make_print_plan, read_print_plan]
