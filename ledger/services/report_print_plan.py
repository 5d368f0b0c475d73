"""印制计划 as a report: the same figures as ledger/services/print_plans.py, as a `Report` that
renders to JSON, CSV, XLSX and print HTML — each place, a subtotal per place right below the
office (per county for a city), the total, the office's stock set against it, what to print."""

from __future__ import annotations

from ledger import print_plan as pp
from ledger.services.print_plans import PrintPlanOut
from ledger.services.report_formats import Column, Report

LEVEL_NAMES = {"city": "市", "county": "区县", "township": "乡镇", "village": "村(社区)"}


def _columns(made: PrintPlanOut) -> tuple[Column, ...]:
    unit, pack = made.base_unit, made.pack_name
    return (
        Column("location_code", "库点编码"),
        Column("location_name", "库点"),
        Column("level", "级别"),
        Column("use", "用途"),
        Column("population", "人口", "int"),
        Column("units", pp.BASIS_COLUMNS[made.terms.target.basis], "int"),
        Column("need", f"应发数（{unit}）", "int"),
        Column("packs", f"包数（{pack}）", "int"),
        Column("quantity", f"数量（{unit}）", "int"),
        Column("subtree", f"含下级合计（{unit}）", "int"),
    )


def _row(line: pp.PrintLine) -> tuple:
    return (
        line.location_code,
        line.location_name,
        LEVEL_NAMES.get(line.level, line.level),
        "进村入户" if line.target else "机动",
        line.population if line.target else None,
        line.units if line.target else None,
        line.need,
        line.packs,
        line.quantity,
        line.subtree,
    )


def _add(total: int | None, population: int | None) -> int | None:
    """A sum of populations that stays None while none is recorded."""
    return total if population is None else (total or 0) + population


def _sums(lines: list[pp.PrintLine]) -> tuple:
    """The columns of a 小计 or 合计 row: each the sum of the rows above it as shown — 人口 and
    户数 (人数、库点数) of the target places only (a spare row has none), 应发数, 包数 and 数量 of
    every row, the spares (机动) included; so 数量 = 包数 × the pack and = the 含下级合计."""
    population = None
    for line in lines:
        if line.target:
            population = _add(population, line.population)
    return (
        population,
        sum(line.units for line in lines if line.target),
        sum(line.need for line in lines),
        sum(line.packs for line in lines),
        sum(line.quantity for line in lines),
    )


def _rows(made: PrintPlanOut) -> tuple[tuple, ...]:
    """Every line in tree order (each place right below the office is followed by everything
    under it); after each such place that is not a target itself and its area, its 小计."""
    lines = made.plan.lines
    office = lines[0].location_code
    rows: list[tuple] = []
    group: list[pp.PrintLine] = []

    def close() -> None:
        head = group[0] if group else None
        if head is not None and not head.target and (head.subtree or any(g.units for g in group)):
            rows.append(("", f"{head.location_name} 小计", "", "", *_sums(group), None))

    for line in lines:
        if line.parent_code == office:
            close()
            group = []
        if line.parent_code is not None:
            group.append(line)
        rows.append(_row(line))
    close()
    return tuple(rows)


def _totals(made: PrintPlanOut) -> tuple[tuple, ...]:
    plan = made.plan
    pack = plan.pack_base_units
    return (
        ("", "合计", "", "", *_sums(list(plan.lines)), None),
        (
            ("", "减：本单位现有库存", "", "", None, None, None, None, plan.on_hand, None)
            if made.terms.deduct_stock
            else ("", "本单位现有库存（未扣减）", "", "", None, None, None, None, None, None)
        ),
        ("", "应印数", "", "", None, None, None, plan.to_print // pack, plan.to_print, None),
    )


def describe_target(made: PrintPlanOut) -> str:
    """The target in a clerk's words: 每 1 户 1 张，覆盖 100%."""
    target = made.terms.target
    basis = pp.BASIS_NAMES[target.basis]
    per = "每个库点" if target.basis is pp.Basis.place else f"每 {target.per} {basis}"
    return f"{per} {target.copies} {made.base_unit}，覆盖 {target.coverage_percent}%"


def print_plan_report(made: PrintPlanOut) -> Report:
    """印制计划表 of a plan as made or saved."""
    terms = made.terms
    size = terms.household_size
    level = LEVEL_NAMES.get(terms.level, terms.level)
    subtitle = (
        f"{made.office_name}（{terms.office_code}）　{made.item_name}　发至{level}"
        f"　{describe_target(made)}　机动 {terms.spare_percent}%"
        f"　按{made.pack_name}（{made.plan.pack_base_units} {made.base_unit}）取整"
        f"　{made.made_on}"
    )
    notes = (
        (
            f"户数 = 人口 ÷ 户均人数 {float(size):g}，向上取整；"
            if terms.target.basis is pp.Basis.household
            else ""
        )
        + "应发数 = 户数（人数、库点数）× 覆盖率 × 每份数 ÷ 每多少，向上取整；"
        + f"数量按整{made.pack_name}向上取整，人口为 0 的库点不发",
        f"机动 = 下级进村入户数量 × {terms.spare_percent}%，按整{made.pack_name}向上取整，"
        "留在目标级别以上的每一级（含本单位）",
        "小计、合计各列均为其上各行之和：人口和"
        + pp.BASIS_COLUMNS[terms.target.basis]
        + "只计进村入户的库点（机动行没有），应发数、包数、数量含各级机动；"
        "小计含该库点本级机动及其下各库点，合计含本单位机动；合计数量即计划总数",
        "应印数 = 合计 − 本单位现有库存，按整包向上取整；印制到货后按本计划分配：各下级"
        "得其含下级合计，本级留其机动",
    )
    number = f" {made.number}" if made.number else "（草案）"
    return Report(
        "print-plan",
        f"{made.title or made.item_name + ' 印制计划'}{number}",
        subtitle,
        _columns(made),
        _rows(made),
        totals=_totals(made),
        notes=notes,
        signatures=(f"制表人：{made.made_by}" if made.made_by else "制表人", "审核人"),
    )
