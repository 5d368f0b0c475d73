"""印制计划 pages: the form of a print-run plan (an item of 宣传品, the office whose area it
covers, the target level, the coverage target, household size, spares, the office's stock),
the 印制计划表 previewed in whole packs, 保存 once under a number (YZ-2026-000001), the saved
plans of the user's subtree and a saved plan's page with 打印, XLSX and CSV (the API's
`GET /print-plans/{number}` in the browser) and 按印制计划分配 (api/web/print_plan_allocation.py).

The figures come from ledger/services/print_plans.py, the report from report_print_plan.py:
the same use cases and checks as `POST /print-plans`. Clerks and approvers make plans for a
place of their subtree; anybody who sees the office reads a saved plan.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from types import SimpleNamespace
from typing import Any

import anyio
from litestar import MediaType, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.common import services_of
from api.errors import Forbidden, status_of
from api.policy import roles, scope_path
from api.web.places import user_places
from api.web.render import chinese, new_once_key, once, page
from api.web.request_views import error_at, form_of
from ledger import print_plan as pp
from ledger.model import Item, ItemKind, Pack, Role
from ledger.rules import Code, LedgerError
from ledger.services import lookups, print_plans
from ledger.services.report_print_plan import LEVEL_NAMES, print_plan_report

PLANNERS = (Role.clerk, Role.approver)
ROWS_SHOWN_MAX = 1_000  # rows of the 印制计划表 a screen shows; 打印 and XLSX hold them all
PLANS_LISTED_MAX = 200
ITEMS_MAX = 500

# The fields the form shows a refusal beside, and their names in a message.
LABELS = {
    "office_code": "编制单位",
    "item_code": "宣传品",
    "level": "发至级别",
    "basis": "覆盖基数",
    "copies": "每份数量",
    "per": "每多少",
    "coverage_percent": "覆盖率",
    "household_size": "户均人数",
    "spare_percent": "机动比例",
    "pack": "取整包装",
    "title": "标题",
}
FORM_FIELDS = "|".join(LABELS)
BASIS_OPTIONS = (("household", "按户"), ("person", "按人"), ("place", "按库点（每个目标库点）"))


@dataclass
class PrintForm:
    """The form as typed (text, shown again after a refusal)."""

    office_code: str
    item_code: str = ""
    level: str = "village"
    basis: str = "household"
    copies: str = "1"
    per: str = "1"
    coverage_percent: str = "100"
    household_size: str = "2.62"
    spare_percent: str = "0"
    pack: str = ""
    deduct_stock: bool = True
    title: str = ""

    def terms(self) -> print_plans.Terms:
        """The service's terms; a number that is not a whole number is refused beside it."""
        target = pp.Target(
            pp.basis_of(self.basis),
            _whole(self.copies, "copies"),
            _whole(self.per, "per"),
            _whole(self.coverage_percent, "coverage_percent"),
        )
        return print_plans.Terms(
            self.office_code,
            self.item_code,
            self.level,
            target,
            _whole(self.spare_percent, "spare_percent"),
            pp.household_size_of(self.household_size),
            self.pack or None,
            self.deduct_stock,
            self.title,
        )

    def hidden(self) -> list[tuple[str, str]]:
        """The form as the save form carries it (hidden fields)."""
        out = [
            (f.name, str(getattr(self, f.name))) for f in fields(self) if f.name != "deduct_stock"
        ]
        return [("sent", "1"), *out] + ([("deduct_stock", "1")] if self.deduct_stock else [])


def _whole(text: str, field: str) -> int:
    cleaned = text.replace(",", "").strip()
    digits = cleaned.removeprefix("-")  # -1: whole, refused by the service's range check
    # isdecimal, not isdigit: '²' is a digit int() cannot read
    if not digits.isdecimal() or len(digits) > 9:
        raise LedgerError(
            Code.print_plan_target_invalid, f"{LABELS[field]}须为整数，如 1：{text}", field
        )
    return int(cleaned)


def read_form(request: Request, values: Any) -> PrintForm:
    """The form from a preview's query or a save's body; blank: the user's own place."""
    form = PrintForm(office_code=str(values.get("office_code") or request.user.location_code))
    for name in [f.name for f in fields(form)][1:]:
        if name == "deduct_stock":
            form.deduct_stock = "sent" not in values or bool(values.get("deduct_stock"))
        elif name in values:
            setattr(form, name, str(values.get(name)).strip())
    return form


def message_of(error: LedgerError) -> str:
    """A refusal in a clerk's words: a field named by its code at the start in Chinese."""
    text = error.message
    for name, label in LABELS.items():
        if text.startswith(f"{name} "):
            text = label + text[len(name) :]
    return chinese(text)


def errors_of(error: LedgerError) -> dict[str, str]:
    at = error_at(error, error.field, FORM_FIELDS)
    return {key: message_of(error) for key in at}


def printed_items(request: Request) -> dict[str, Item]:
    """The 宣传品 a plan may be made for (年画, 挂图 …), by code."""
    database = services_of(request.app.state).database
    found = lookups.items(database, ITEMS_MAX, 0)
    return {item.code: item for item in found if item.kind is ItemKind.printed}


def in_packs(made: print_plans.PrintPlanOut) -> Any:
    """What `qty` counts a plan's quantities in: its own pack and the base unit."""
    units = made.plan.pack_base_units
    packs = (Pack(made.pack_name, units),) if units > 1 else ()
    return SimpleNamespace(base_unit=made.base_unit, packs=packs)


def in_figures(quantity: int, made: print_plans.PrintPlanOut) -> tuple[str, str]:
    """A key figure: (whole packs and the loose rest, the base units) — ("16 捆", "8,000 张");
    a quantity below one pack, or a plan in base units: (base units, "")."""
    units, unit = made.plan.pack_base_units, made.base_unit
    packs, rest = divmod(quantity, units)
    if units == 1 or packs == 0:
        return f"{quantity:,} {unit}", ""
    loose = f" {rest:,} {unit}" if rest else ""
    return f"{packs:,} {made.pack_name}{loose}", f"{quantity:,} {unit}"


def _figures(made: print_plans.PrintPlanOut) -> list[tuple[str, str, str, str]]:
    level = LEVEL_NAMES.get(made.terms.level, made.terms.level)
    stock = f"减：{made.office_name}现有库存" if made.terms.deduct_stock else "现有库存（未扣减）"
    plan = made.plan
    return [
        (key, *in_figures(quantity, made), label)
        for key, quantity, label in (
            ("print-total", plan.total, f"合计（发至{level}，含机动）"),
            ("print-on-hand", plan.on_hand, stock),
            ("print-to-print", plan.to_print, "应印数"),
        )
    ]


def table_context(made: print_plans.PrintPlanOut) -> dict[str, Any]:
    """The 印制计划表 as the templates draw it (print_plans_table.html)."""
    report = print_plan_report(made)
    return {
        "made": made,
        "report": report,
        "figures": _figures(made),
        "units_title": pp.BASIS_COLUMNS[made.terms.target.basis],
        "rows": report.rows[:ROWS_SHOWN_MAX],
        "rows_left": max(len(report.rows) - ROWS_SHOWN_MAX, 0),
        "unit": in_packs(made),
        "level_name": LEVEL_NAMES.get(made.terms.level, made.terms.level),
    }


def _form_page(
    request: Request,
    form: PrintForm,
    made: print_plans.PrintPlanOut | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    items = printed_items(request)
    context = table_context(made) if made is not None else {}
    template = page(
        request,
        "print_plans_form.html",
        "印制计划 — 新建",
        form=form,
        items=items,
        item=items.get(form.item_code),
        places=user_places(request),
        levels=[(code, LEVEL_NAMES[code]) for code in pp.LEVELS[1:]],
        basis_options=BASIS_OPTIONS,
        errors=errors or {},
        once=new_once_key(),
        **context,
    )
    template.status_code = status_code
    return template


def _make(request: Request, form: PrintForm, save: bool) -> print_plans.PrintPlanOut:
    services = services_of(request.app.state)
    services.visible_location(request.user, form.office_code, "office_code")
    return print_plans.make_print_plan(
        services.database, form.terms(), save, request.user.id, services.clock()
    )


@get("/print-plans/new", sync_to_thread=True, guards=[roles(*PLANNERS)])
def new_plan(request: Request) -> Template:
    """The plan's form; with `sent`, the 印制计划表 previewed below it."""
    values = request.query_params
    form = read_form(request, values)
    if "sent" not in values:
        return _form_page(request, form)
    try:
        made = _make(request, form, save=False)
    except Forbidden as refused:
        return _form_page(request, form, None, {"office_code": chinese(refused.detail or "")}, 403)
    except LedgerError as error:
        return _form_page(request, form, None, errors_of(error), status_of(error))
    return _form_page(request, form, made)


@get("/print-plans/parts", sync_to_thread=True, guards=[roles(*PLANNERS)])
def pack_parts(request: Request) -> Template:
    """The packs of the item chosen (htmx swaps them in)."""
    form = read_form(request, request.query_params)
    items = printed_items(request)
    return Template(
        media_type=MediaType.HTML,
        template_name="print_plans_pack.html",
        context={"form": form, "item": items.get(form.item_code), "errors": {}},
    )


def _save(request: Request, values: Any) -> Any:
    form = read_form(request, values)

    def work() -> str:
        made = _make(request, form, save=True)
        return str(made.number)

    try:
        number = once(request, form_of(values), work)
    except Forbidden as refused:
        return _form_page(request, form, None, {"office_code": chinese(refused.detail or "")}, 403)
    except LedgerError as error:
        return _form_page(request, form, None, errors_of(error), status_of(error))
    return Redirect(path=f"/print-plans/{number}", status_code=303)


@post("/print-plans/save", guards=[roles(*PLANNERS)], status_code=303)
async def save_plan(request: Request) -> Any:
    """保存: the plan kept under a new number, once however often the form is sent."""
    values = await request.form()
    return await anyio.to_thread.run_sync(_save, request, values)


@get("/print-plans", sync_to_thread=True, guards=[roles(*PLANNERS)])
def plan_list(request: Request) -> Template:
    """The saved plans of the offices in the user's subtree, newest first."""
    database = services_of(request.app.state).database
    saved = print_plans.saved_print_plans(database, scope_path(request.user), PLANS_LISTED_MAX)
    return page(
        request,
        "print_plans_list.html",
        "印制计划",
        saved=saved,
        listed_max=PLANS_LISTED_MAX,
        level_names=LEVEL_NAMES,
    )


def read_saved(request: Request, number: str) -> print_plans.PrintPlanOut:
    """A saved plan the user may see (its office in the user's subtree), else 403/404."""
    services = services_of(request.app.state)
    made = print_plans.get_print_plan(services.database, number)
    services.visible_location(request.user, made.terms.office_code, "print_plan")
    return made


def allocation_sources(request: Request, made: print_plans.PrintPlanOut) -> list[tuple[str, str]]:
    """(code, label) of the plan's places an allocation may start from (above the target
    level) that the user sees."""
    shown = {place.code for place in user_places(request).places}
    return [
        (line.location_code, f"{line.location_name}（{line.location_code}）")
        for line in made.plan.lines
        if not line.target and line.location_code in shown
    ]


@get("/print-plans/{number:str}", sync_to_thread=True)
def plan_page(request: Request, number: FromPath[str]) -> Template:
    """A saved plan: its table, 打印/XLSX/CSV, and 按印制计划分配 from a place of it."""
    made = read_saved(request, number)
    sources = allocation_sources(request, made)
    own = request.user.location_code
    database = services_of(request.app.state).database
    names = {line.location_code: line for line in made.plan.lines}
    shipping = [
        (names[place.location_code], place)
        for place in print_plans.print_plan_shipping(database, number)
    ]
    return page(
        request,
        "print_plans_detail.html",
        f"印制计划 {number}",
        sources=sources,
        source_code=own if any(code == own for code, _ in sources) else "",
        may_allocate=request.user.has(Role.admin) or any(request.user.has(r) for r in PLANNERS),
        shipping=shipping[:ROWS_SHOWN_MAX],
        shipping_left=max(len(shipping) - ROWS_SHOWN_MAX, 0),
        level_names=LEVEL_NAMES,
        **table_context(made),
    )


HANDLERS: list = [new_plan, pack_parts, save_plan, plan_list, plan_page]
