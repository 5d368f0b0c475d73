"""`ledger norms set/show` and `ledger report stock-alerts`, end to end."""

from __future__ import annotations

import csv
import io

from tests.support import ledger_command


def test_norms_set_show_and_the_stock_alerts_report(tmp_path):
    run_ledger = ledger_command(f"sqlite:///{tmp_path / 'cli.db'}")
    run_ledger("db", "upgrade")
    run_ledger("demo", "load")
    made = run_ledger("norms", "set", "--level", "township", "--min", "2", "--max", "4")
    assert made.returncode == 0, made.stderr
    assert "township（全部城市）: 2–4 个月" in made.stdout
    city = run_ledger(
        "norms", "set", "--level", "township", "--city", "510100", "--min", "3", "--max", "6"
    )
    assert city.returncode == 0, city.stderr
    assert "township（510100）: 3–6 个月" in city.stdout
    not_a_city = run_ledger(
        "norms", "set", "--level", "township", "--city", "510121", "--min", "3", "--max", "6"
    )
    assert not_a_city.returncode == 2
    assert not_a_city.stderr.startswith("error: norm_scope_invalid:")
    own = run_ledger(
        "norms", "set", "--location", "510121-ZJ", "--item", "BYT", "--min", "3", "--max", "5"
    )
    assert own.returncode == 0, own.stderr
    shown = run_ledger("norms", "show")
    assert "510121-ZJ" in shown.stdout and "township" in shown.stdout and "默认" in shown.stdout
    one = run_ledger("norms", "show", "--location", "510121-ZJ", "--item", "BYT")
    assert "3–5 个月（本库点本物资）" in one.stdout
    other = run_ledger("norms", "show", "--location", "510121-ZJ", "--item", "GT2014")
    assert "3–6 个月（本市本级）" in other.stdout
    levels = run_ledger("norms", "show", "--city", "510100").stdout
    township = next(line for line in levels.splitlines() if "（township）" in line)
    assert "3–6" in township and "本市本级" in township
    every = run_ledger("norms", "show").stdout
    township = next(line for line in every.splitlines() if "（township）" in line)
    assert "2–4" in township and "全部城市本级" in township
    assert "城市" in every and "510100" in every
    bad = run_ledger("norms", "set", "--level", "township", "--min", "4", "--max", "2")
    assert bad.returncode == 2 and bad.stderr.startswith("error: norm_months_invalid:")
    out = tmp_path / "alerts.csv"
    report = run_ledger(
        "report", "stock-alerts", "--under", "510121", "--months", "3", "--out", str(out)
    )
    assert report.returncode == 0, report.stderr
    assert report.stdout.startswith("库存预警表:")
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    header = next(row for row in rows if row and row[0] == "库点编码")
    assert "建议申领量" in header and "预警" in header
