"""`ledger report demand-plan`, end to end: the demo's 年度需求计划 in every format, the options
it takes, and bad input refused with its code."""

from __future__ import annotations

import csv
import io
import json

import openpyxl

from ledger.settings import office_today
from tests.support import ledger_command


def test_the_demand_plan_report_from_the_command_line(tmp_path):
    run_ledger = ledger_command(f"sqlite:///{tmp_path / 'cli.db'}")
    run_ledger("db", "upgrade")
    run_ledger("demo", "load")
    year = office_today().year + 1
    out = tmp_path / "plan.csv"
    made = run_ledger(
        "report", "demand-plan", "--under", "510121", "--year", str(year), "--out", str(out)
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"金堂县{year}年度需求计划:")
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["库点编码", "库点", "范围"] and "应申领（印制）量" in rows[0]
    assert any(row and row[2] == "合计" for row in rows)
    book = tmp_path / "plan.xlsx"
    options = ("--months", "6", "--growth", "-2.5", "--level", "village")
    made = run_ledger(
        "report", "demand-plan", "--under", "510121", "--year", str(year), *options,
        "--out", str(book),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    sheet = openpyxl.load_workbook(book).active
    assert "增长率：-2.5%" in sheet["A2"].value and "（6 个月）" in sheet["A2"].value
    as_json = tmp_path / "plan.json"
    made = run_ledger(
        "report", "demand-plan", "--under", "510100", "--year", str(year), "--out", str(as_json)
    )
    assert made.returncode == 0, made.stderr
    report = json.loads(as_json.read_text(encoding="utf-8"))
    assert any(row[2] == "小计" for row in report["rows"])  # a city's plan: per 区县


def test_bad_input_is_refused_with_its_code(tmp_path):
    run_ledger = ledger_command(f"sqlite:///{tmp_path / 'cli.db'}")
    run_ledger("db", "upgrade")
    run_ledger("demo", "load")
    year = str(office_today().year + 1)
    out = str(tmp_path / "plan.csv")
    for arguments, code in (
        (("--under", "510121"), "invalid_usage"),
        (("--under", "510121", "--year", "1999"), "demand_year_invalid"),
        (("--under", "510121", "--year", year, "--growth", "300"), "demand_growth_invalid"),
        (("--under", "510121", "--year", year, "--months", "5"), "invalid_field"),
        (("--under", "NOPE", "--year", year), "unknown_location"),
    ):
        refused = run_ledger("report", "demand-plan", *arguments, "--out", out)
        assert refused.returncode == 2, (arguments, refused.stdout)
        assert refused.stderr.startswith(f"error: {code}:"), (arguments, refused.stderr)
