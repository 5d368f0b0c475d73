"""A figure to one decimal place (月均消耗) stays exact text in JSON and CSV, is a number with
one decimal shown in XLSX and right-aligned in the print form; a short text column (方式 申领,
印制) never wraps one character a line in print."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import msgspec
import openpyxl

from ledger.services.report_formats import Column, Report, to_csv, to_html, to_xlsx

REPORT = Report(
    "demand-plan",
    "金堂县2027年度需求计划",
    "编制单位：金堂县",
    (
        Column("location_name", "库点"),
        Column("amc", "月均消耗", "decimal"),
        Column("demand", "计划需求量", "int"),
        Column("basis", "需求依据"),
        Column("action", "方式"),
    ),
    (
        ("赵镇", "12.5", 1575, "按人口（金堂县本级，一个很长的说明）", "申领"),
        ("淮口镇", "0.0", 0, "无消耗", "申领"),
        ("三溪镇", None, 7, "按消耗", "印制"),
        ("官仓镇", "无消耗", 0, "无消耗", "申领"),
    ),
    totals=(("金堂县合计", "1234.6", 1582, "", "印制"),),
)


def test_json_and_csv_keep_the_figure_as_exact_text():
    assert msgspec.json.decode(msgspec.json.encode(REPORT))["rows"][0][1] == "12.5"
    rows = list(csv.reader(io.StringIO(to_csv(REPORT).decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:6]] == ["12.5", "0.0", "", "无消耗", "1234.6"]


def test_xlsx_writes_the_figure_as_a_number_with_one_decimal():
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(REPORT))).active
    cells = [sheet.cell(row=row, column=2) for row in range(4, 9)]
    assert [cell.value for cell in cells] == [12.5, 0, None, "无消耗", 1234.6]
    for cell, text in zip(cells, ["12.5", "0.0", None, None, "1234.6"], strict=True):
        if text is not None:
            assert cell.data_type == "n" and cell.number_format == "0.0"
            assert Decimal(str(cell.value)) == Decimal(text)
    assert sheet.cell(row=4, column=3).number_format == "#,##0"


def test_print_form_right_aligns_figures_and_keeps_short_words_on_one_line():
    page = to_html(REPORT).decode("utf-8")
    assert '<td class="n">12.5</td>' in page and '<td class="n">1234.6</td>' in page
    assert '<td class="n">1,575</td>' in page
    assert '<td class="s">申领</td>' in page and '<th class="s">方式</th>' in page
    # the long text column may wrap; the CSS keeps figures and short words on one line
    assert "<td>按人口（金堂县本级，一个很长的说明）</td>" in page
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    assert re.search(r"td\.n, td\.s, th\.s \{ white-space: nowrap; \}", style)
