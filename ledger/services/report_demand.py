"""年度需求计划 as a report (JSON, CSV, XLSX, print HTML): the plan's lines in tree order, a
subtotal per 区县 and item after each county's lines, a total per item; the form an office
sends to the level above. The figures are ledger/services/demand_plan.py's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from fractions import Fraction

from ledger import demand as d
from ledger.db.store import LedgerStore
from ledger.model import Item, ItemKind, Location
from ledger.services.demand_plan import (
    Basis,
    DemandPlan,
    PlanLine,
    Scope,
    check_asked,
    demand_plan_asked,
)
from ledger.services.report_formats import Column, Report
from ledger.services.report_norms import decimal

COLUMNS = (
    Column("location_code", "库点编码"),
    Column("location_name", "库点"),
    Column("scope", "范围"),
    Column("item_code", "物资编码"),
    Column("item_name", "物资名称"),
    Column("kind", "类别"),
    Column("unit", "单位"),
    Column("last_year", "上年消耗", "int"),
    Column("months_counted", "计入月数", "int"),
    Column("stock_out_months", "断货月数", "int"),
    Column("amc", "月均消耗", "decimal"),
    Column("basis", "需求依据"),
    Column("demand", "计划需求量", "int"),
    Column("maximum", "最高库存", "int"),
    Column("on_hand", "现有库存", "int"),
    Column("in_transit", "在途", "int"),
    Column("on_order", "已申领未到", "int"),
    Column("to_request", "应申领（印制）量", "int"),
    Column("packs", "折合包装"),
    Column("action", "方式"),
)
__all__ = ["check_asked", "demand_plan_asked_report", "demand_plan_report"]
SCOPE_NAMES = {Scope.own: "本级", Scope.area: "含下级"}
KIND_NAMES = {ItemKind.printed: "宣传品", ItemKind.contraceptive: "药具"}
SUBTOTAL, TOTAL = "小计", "合计"

NOTES = (
    "范围：含下级 = 本库点及其下级各库点合计；本级 = 本库点自身（自行发放、自身库存），"
    "各行互不重叠，小计、合计为各行相加",
    "消耗 = 发放 + 破损/霉变、丢失报损（减去其红冲），按整月统计；药具不计断货月"
    "（月末本库点及下级无库存且当月无到货）；上年消耗为计划年度前 12 个整月",
    "计划需求量 = 月均消耗 × 12 ×（1 + 增长率），向上取整；无消耗的，按人口折算上级的计划需求量"
    "（上级需求 × 本库点人口 ÷ 上级之下各行人口之和）",
    "最高库存 = 本行库点的定额最高月数 × 其整个辖区的月均消耗（本级行亦按整个辖区），"
    "不低于所设最低库存；"
    "应申领（印制）量 = 计划需求量 + 最高库存 − 现有库存 − 在途 − 已申领未到，按包装向上取整，"
    "不为负；已申领未到 = 本行库点已提交、已批准未发完的申领，减去其他行向本行申领待发出的"
    "（为负：将发出）；"
    "小计、合计的应申领量按汇总数计算（辖区内余缺相抵），不是各行之和",
)


def _basis(line: PlanLine) -> str:
    if line.basis is Basis.consumption:
        return "按消耗"
    if line.basis is Basis.population and line.basis_place is not None:
        return f"按人口（{line.basis_place.name}）"
    return "无消耗"


def _pack_name(item: Item) -> str | None:
    return item.packs[0].name if item.packs else None


def line_row(line: PlanLine) -> tuple:
    item, used = line.item, line.used
    return (
        line.location.code,
        line.location.name,
        SCOPE_NAMES[line.scope],
        item.code,
        item.name,
        KIND_NAMES[item.kind],
        item.base_unit,
        line.last_year,
        used.months,
        used.stock_out_months,
        decimal(used.amc),
        _basis(line),
        line.demand,
        line.maximum,
        line.on_hand,
        line.in_transit,
        line.on_order,
        line.to_request,
        d.in_packs(line.to_request, line.pack_size, _pack_name(item)),
        "申领",
    )


def sum_row(
    lines: list[PlanLine], place: Location, label: str, action: str, name: str | None = None
) -> tuple:
    """One item's lines added up; what to request found from the sums (a surplus in one place
    of the area covers a need in another)."""
    item, pack = lines[0].item, lines[0].pack_size
    demand, maximum, on_hand, in_transit, on_order = (
        sum(getattr(line, field) for line in lines)
        for field in ("demand", "maximum", "on_hand", "in_transit", "on_order")
    )
    request = d.to_request(demand, maximum, on_hand, in_transit, pack, on_order)
    return (
        place.code,
        name or f"{place.name}{label}",
        label,
        item.code,
        item.name,
        KIND_NAMES[item.kind],
        item.base_unit,
        sum(line.last_year for line in lines),
        None,
        None,
        decimal(sum((line.used.amc for line in lines), Fraction(0))),
        "",
        demand,
        maximum,
        on_hand,
        in_transit,
        on_order,
        request,
        d.in_packs(request, pack, _pack_name(item)),
        action,
    )


def _by_item(lines: Iterable[PlanLine]) -> dict[str, list[PlanLine]]:
    out: dict[str, list[PlanLine]] = {}
    for line in sorted(lines, key=lambda line: line.item.code):
        out.setdefault(line.item.code, []).append(line)
    return out


def plan_rows(plan: DemandPlan) -> tuple[tuple, ...]:
    """The lines in tree order, each county's subtotals (per item) after its last line."""
    rows: list[tuple] = []
    county_lines: list[PlanLine] = []
    for index, line in enumerate(plan.lines):
        rows.append(line_row(line))
        if line.county is not None:
            county_lines.append(line)
        after = plan.lines[index + 1] if index + 1 < len(plan.lines) else None
        if county_lines and (after is None or after.county != line.county):
            county = county_lines[0].county
            if county is not None:
                for same in _by_item(county_lines).values():
                    rows.append(sum_row(same, county, SUBTOTAL, "申领"))
            county_lines = []
    return tuple(rows)


def total_rows(plan: DemandPlan) -> tuple[tuple, ...]:
    """A total per item; printed matter the office at the top of the ledger prints (印制)."""
    rows = []
    for same in _by_item(plan.lines).values():
        printed = plan.top_is_root and same[0].item.kind == ItemKind.printed
        label = f"{plan.top.name}{TOTAL}"
        rows.append(sum_row(same, plan.top, TOTAL, "印制" if printed else "申领", label))
    return tuple(rows)


def subtitle(plan: DemandPlan) -> str:
    first, last = plan.last_year[0], plan.last_year[-1]
    start, end = plan.window[0], plan.window[-1]
    return (
        f"编制单位：{plan.top.name}（{plan.top.code}）　计划年度：{plan.year} 年　"
        f"上年消耗：{first:%Y-%m} 至 {last:%Y-%m}　"
        f"月均消耗：{start:%Y-%m} 至 {end:%Y-%m}（{plan.months} 个月）　"
        f"增长率：{d.growth_text(plan.growth)}　库存截至：{plan.today}"
    )


def demand_plan_report(plan: DemandPlan) -> Report:
    return Report(
        "demand-plan",
        f"{plan.top.name}{plan.year}年度需求计划",
        subtitle(plan),
        COLUMNS,
        plan_rows(plan),
        totals=total_rows(plan),
        notes=NOTES,
        signatures=("制表人", "审核人", "单位负责人"),
    )


def demand_plan_asked_report(
    store: LedgerStore,
    under: str,
    year: int,
    today: dt.date,
    months: int | None = None,
    growth: str | None = None,
    level: str | None = None,
) -> Report:
    """The 年度需求计划 report with the options as asked (see `demand_plan_asked`)."""
    return demand_plan_report(demand_plan_asked(store, under, year, today, months, growth, level))
