"""Writing a report tells a progress callback how many rows are written, in steps, and in all
exactly the report's rows, in every format; report files never carry a live formula from text,
and numbers stay numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from ledger.services.report_formats import Column, Report, formula_like, render


def _report(rows: int) -> Report:
    return Report(
        "stock-on-hand",
        "库存余额表",
        "成都市及下级",
        (Column("location_name", "库点"), Column("quantity", "数量", "int")),
        tuple((f"库点{index}", index) for index in range(rows)),
    )


@pytest.mark.parametrize("format_", ["csv", "xlsx", "html", "json"])
@pytest.mark.parametrize("rows", [0, 7, 2500])
def test_progress_adds_up_to_the_rows_written(format_, rows):
    told: list[int] = []
    data = render(_report(rows), format_, progress=told.append)
    assert sum(told) == rows and all(step > 0 for step in told)
    if format_ in ("csv", "xlsx", "html") and rows > 1000:
        assert told[0] == 1000  # the bar moves while the rows are written, not only at the end
    if format_ != "xlsx":  # (a workbook records when it was saved)
        assert data == render(_report(rows), format_)  # the same bytes with or without a bar


DANGEROUS = (
    '=HYPERLINK("http://example.invalid","点我")',
    "=1+1",
    "+86 028 1234",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
)
SAFE = ("年画 500 张", "摘要：=1+1", "", " =1")


def report() -> Report:
    rows = tuple((text, -5, dt.date(2026, 6, 30)) for text in (*DANGEROUS, *SAFE))
    return Report(
        "test",
        "=标题",
        "-副标题",
        (Column("memo", "摘要"), Column("n", "数量", "int"), Column("d", "日期", "date")),
        rows,
        totals=(("合计", -5 * len(rows), None),),
        notes=("=注释",),
    )


def test_only_text_starting_with_a_formula_character_is_formula_like():
    assert all(formula_like(text) for text in DANGEROUS)
    assert not any(formula_like(text) for text in SAFE)
    assert not formula_like(-5) and not formula_like(None) and not formula_like(dt.date.today())


def test_csv_puts_an_apostrophe_before_formula_text_only():
    everything = list(csv.reader(io.StringIO(render(report(), "csv").decode("utf-8-sig"))))
    # the table, then after a blank row the notes and signature lines, one cell each
    rows, notes = everything[: everything.index([])], everything[everything.index([]) + 1 :]
    memos = [row[0] for row in rows[1:-1]]
    assert memos == ["'" + text for text in DANGEROUS] + list(SAFE)
    assert {row[1] for row in rows[1:-1]} == {"-5"}  # a negative number is not text
    assert rows[-1] == ["合计", str(-5 * len(SAFE + DANGEROUS)), ""]
    assert notes == [["'=注释"]]


def test_xlsx_keeps_formula_text_as_string_cells():
    data = render(report(), "xlsx")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert (sheet["A1"].value, sheet["A1"].data_type) == ("=标题", "s")
    assert sheet["A2"].value == "-副标题" and sheet["A2"].quotePrefix
    body = list(sheet.iter_rows(min_row=4, max_row=3 + len(DANGEROUS) + len(SAFE)))
    # (XML reads a carriage return back as a line feed)
    read_back = [text.replace("\r", "\n") for text in (*DANGEROUS, *SAFE)]
    assert [row[0].value or "" for row in body] == read_back
    for row, text in zip(body, (*DANGEROUS, *SAFE), strict=True):
        assert row[0].data_type == ("s" if text else "inlineStr")
        assert row[0].quotePrefix == formula_like(text)
        assert (row[1].value, row[1].data_type) == (-5, "n")
    notes = [row[0] for row in sheet.iter_rows() if row[0].value == "=注释"]
    assert len(notes) == 1 and notes[0].data_type == "s"
