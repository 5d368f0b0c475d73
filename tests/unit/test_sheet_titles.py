"""A report whose title holds a character Excel refuses in a sheet's name (a 印制计划's title
such as 2015年年画（第1/2批）) still writes its XLSX (it was a 500): the sheet is named without
them, the title row keeps the title as typed."""

from __future__ import annotations

import io

import openpyxl

from ledger.services.report_formats import Column, Report, render, sheet_title


def test_a_title_excel_refuses_as_a_sheet_name_still_writes_the_workbook():
    title = "'2015年年画[第1/2批]: 城乡*?\\'"
    report = Report("print-plan", title, "金堂县", (Column("name", "库点"),), (("赵家镇",),))
    book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))
    sheet = book.active
    assert sheet.title == "2015年年画 第1 2批   城乡"
    assert sheet["A1"].value == title
    assert sheet["A4"].value == "赵家镇"


def test_a_sheet_title_is_at_most_31_characters_and_never_blank():
    assert sheet_title("年" * 40) == "年" * 31
    assert sheet_title("[]:*?/\\") == "Sheet1"
    assert sheet_title("收发存汇总表") == "收发存汇总表"
