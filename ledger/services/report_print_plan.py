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


def _rows(made: PrintPlanOut) -> tuple[tuple, ...]:
    """Every line in tree order (each place right below the office is followed by everything
    under it); after each such place that is not a target itself and its area, its 小计."""
    lines = made.plan.lines
    office = lines[0].location_code
    rows: list[tuple] = []
    head: pp.PrintLine | None = None
    sums: list = [None, 0, 0]  # population (None: none recorded), units, need of its targets

    def close() -> None:
        if head is not None and not head.target and (head.subtree or sums[1]):
            total = head.subtree
            packs = total // made.plan.pack_base_units
            rows.append(("", f"{head.location_name} 小计", "", "", *sums, packs, total, None))

    for line in lines:
        if line.parent_code == office:
            close()
            head, sums = line, [None, 0, 0]
        if line.target:
            sums = [_add(sums[0], line.population), sums[1] + line.units, sums[2] + line.need]
        rows.append(_row(line))
    close()
    return tuple(rows)


def _totals(made: PrintPlanOut) -> tuple[tuple, ...]:
    plan = made.plan
    targets = [line for line in plan.lines if line.target]
    pack = plan.pack_base_units
    population = None
    for line in targets:
        population = _add(population, line.population)
    units = sum(line.units for line in targets)
    need = sum(line.need for line in targets)
    return (
        ("", "合计", "", "", population, units, need, plan.total // pack, plan.total, None),
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
