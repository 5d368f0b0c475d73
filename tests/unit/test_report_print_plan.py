"""The 印制计划表's 小计 and 合计 rows add up across their columns: each figure is the sum of the
rows above it as shown — 人口 and 户数 of the target places, 应发数, 包数 and 数量 of every row,
spares (机动) included — against figures worked out by hand for a county of two townships."""

from __future__ import annotations

import datetime as dt

from ledger.print_plan import Basis, Place, Target, plan_print
from ledger.services.print_plans import PrintPlanOut, Terms
from ledger.services.report_print_plan import print_plan_report

COUNTY = (
    Place("C", "金堂县", None, "county", 800_000),
    Place("ZJ", "赵家镇", "C", "township", None),
    Place("ZJ-PS", "平水村", "ZJ", "village", 2_620),
    Place("ZJ-XH", "新华村", "ZJ", "village", 1_000),
    Place("ZJ-TJ", "团结村", "ZJ", "village", 0),
    Place("HK", "淮口镇", "C", "township", 5),
    Place("HK-HG", "红光村", "HK", "village", 3_931),
    Place("HK-GM", "光明村", "HK", "village", 1),
)
NEED, PACKS, QUANTITY = 6, 7, 8  # columns of the table (population 4, units 5)


def _report():
    target = Target(Basis.household, 1)
    plan = plan_print(COUNTY, "village", target, 500, spare_percent=10)
    terms = Terms("C", "NH", "village", target, 10, pack="捆", deduct_stock=False)
    made = PrintPlanOut(
        None, "", terms, "年画", "张", "捆", "金堂县", plan, dt.date(2026, 11, 27), None
    )
    return print_plan_report(made)


def test_subtotals_and_the_total_add_up_across_their_columns():
    report = _report()
    rows = {row[1]: row for row in report.rows}
    # 赵家镇: 平水村 1000 户 → 1000 张 = 2 捆; 新华村 ⌈1000 ÷ 2.62⌉ = 382 户 → 1 捆;
    # 团结村 0; 机动 10% × 1500 = 150 → 1 捆. 淮口镇: 红光村 ⌈3931 ÷ 2.62⌉ = 1501 → 4 捆,
    # 光明村 1 → 1 捆, 机动 10% × 2500 = 250 → 1 捆. 金堂县 机动 10% × 4000 = 400 → 1 捆.
    assert rows["赵家镇"][NEED] == 150 and rows["淮口镇"][NEED] == 250
    assert rows["赵家镇 小计"][4:9] == (3_620, 1_382, 1_532, 4, 2_000)
    assert rows["淮口镇 小计"][4:9] == (3_932, 1_502, 1_752, 6, 3_000)
    (total, *_) = report.totals
    assert total[1] == "合计" and total[4:9] == (7_552, 2_884, 3_684, 11, 5_500)


def test_each_total_is_the_sum_of_the_rows_it_closes():
    report = _report()
    groups: list[list[tuple]] = []
    for row in report.rows[1:]:  # after the office's own row
        if row[1].endswith("小计"):
            closed = groups[-1]
            for column in (NEED, PACKS, QUANTITY):
                assert row[column] == sum(r[column] for r in closed), (row[1], column)
            for column in (4, 5):
                assert row[column] == sum(r[column] or 0 for r in closed), (row[1], column)
            assert row[QUANTITY] == row[PACKS] * 500
            continue
        if row[0] and row[3] == "机动" and row[2] == "乡镇":
            groups.append([])
        groups[-1].append(row)
    every = [row for row in report.rows if row[0]]
    total = report.totals[0]
    for column in (NEED, PACKS, QUANTITY):
        assert total[column] == sum(r[column] for r in every)
    assert any("应发数、包数、数量含各级机动" in note for note in report.notes)
