"""`ledger print-plan make/show/allocate`, end to end on the demo: a 挂图 plan over a county's
villages, saved, written as CSV, pushed down from the county with --apply, the ledger verified."""

from __future__ import annotations

import csv
import io

from tests.support import ledger_command


def test_make_show_and_allocate_a_print_plan(tmp_path):
    run_ledger = ledger_command(f"sqlite:///{tmp_path / 'cli.db'}")
    run_ledger("db", "upgrade")
    run_ledger("demo", "load")
    out = tmp_path / "plan.csv"
    made = run_ledger(
        "print-plan", "make", "--office", "510121", "--item", "GT2014", "--level", "village",
        "--basis", "place", "--copies", "4", "--spare", "10", "--save", "--out", str(out),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    # 5 villages × 1 套; 赵家镇 (3) and 淮口镇 (2) keep 10% → 1 套 each, 金堂县 1 套
    assert "合计 32 张" in made.stdout and "YZ-2026-000001" in made.stdout
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    subtotals = {
        row[1]: int(row[8].replace(",", ""))
        for row in rows
        if len(row) > 8 and row[1].endswith("小计")
    }
    assert subtotals == {"淮口镇 小计": 12, "赵家镇 小计": 16}
    shown = run_ledger("print-plan", "show", "YZ-2026-000001")
    assert "赵家镇(510121-ZJ)" in shown.stdout and "合计 32 张" in shown.stdout
    applied = run_ledger(
        "print-plan", "allocate", "YZ-2026-000001", "--source", "510121", "--apply"
    )
    assert applied.returncode == 0, applied.stderr
    assert "分配 28 张，未分配 0 张" in applied.stdout and "出库单: CK-" in applied.stdout
    assert run_ledger("verify").returncode == 0
    # applied again (as the tester did three times): nothing more is due, nothing is issued
    again = run_ledger("print-plan", "allocate", "YZ-2026-000001", "--source", "510121", "--apply")
    assert again.returncode == 2 and "出库单" not in again.stdout
    assert again.stderr.startswith("error: print_plan_fully_shipped:")
    # 淮口镇 12 张 and 赵家镇 16 张 planned (计划), all shipped (已发), none due (待发)
    rows = {line.split()[0]: line.split()[1:] for line in again.stdout.splitlines()[1:3]}
    assert rows == {"510121-HK": ["12", "12", "0"], "510121-ZJ": ["16", "16", "0"]}
    outside = run_ledger("print-plan", "allocate", "YZ-2026-000001", "--source", "510181")
    assert outside.returncode == 2
    assert outside.stderr.startswith("error: print_plan_source_outside:")
    missing = run_ledger(
        "print-plan", "make", "--office", "510121", "--item", "GT2014", "--basis", "person"
    )
    assert missing.stderr.startswith("error: print_plan_population_missing:")
