"""Reading an imported file within bounds (ledger.services.import_read): a small .xlsx that
unpacks to too much, too many rows, a cell too long, a stale `<dimension>`, a sheet formatted far
below its data; no database (the imports' answers are tested in tests/api/test_imports.py)."""

from __future__ import annotations

import io
import itertools
import re
import zipfile

import pytest
from openpyxl import Workbook

from ledger.limits import (
    import_cell_length_max,
    import_empty_rows_run_max,
    import_rows_max,
    import_unpacked_bytes_max,
)
from ledger.rules import LedgerError
from ledger.services import import_read
from ledger.services.import_read import DateText, NoValue, table_of


def xlsx(rows: list[list], dimension: str | None = None, empty_rows: int = 0) -> bytes:
    """A workbook of these rows; its sheet's `<dimension>` replaced, or `empty_rows` formatted
    empty rows appended, as other programs write them."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    written = io.BytesIO()
    book.save(written)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(written.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                if dimension:
                    text = re.sub(
                        r'<dimension ref="[^"]*"/>', f'<dimension ref="{dimension}"/>', text
                    )
                first = len(rows) + 1
                text = text.replace(
                    "</sheetData>",
                    "".join(
                        f'<row r="{n}"><c r="A{n}" s="0"/></row>'
                        for n in range(first, first + empty_rows)
                    )
                    + "</sheetData>",
                )
                data = text.encode()
            target.writestr(info.filename, data)
    return out.getvalue()


def refusal(name: str, data: bytes) -> str:
    with pytest.raises(LedgerError) as caught:
        table_of(name, data)
    assert caught.value.code == "import_file_unreadable"
    return caught.value.message


def test_a_small_workbook_that_unpacks_to_too_much_is_refused_before_it_is_unpacked():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b"\0" * (import_unpacked_bytes_max + 1))
    assert len(out.getvalue()) < 1_048_576
    message = refusal("大.xlsx", out.getvalue())
    assert "解压后" in message and "拆成" in message


def test_too_many_rows_stop_the_reading_at_the_first_row_too_many():
    rows = ((n, ["510100", "x"]) for n in itertools.count(1))  # never ends
    with pytest.raises(LedgerError) as caught:
        import_read._bounded("多.csv", rows)
    assert f"超过 {import_rows_max} 行" in caught.value.message
    assert "拆成" in caught.value.message
    csv = ("编码,名称\n" + "510100,x\n" * (import_rows_max + 1)).encode()
    assert f"第 {import_rows_max + 2} 行时停止" in refusal("多.csv", csv)
    assert len(table_of("够.csv", ("编码,名称\n" + "510100,x\n" * 10).encode())) == 11


def test_a_cell_too_long_is_refused_naming_its_row_and_column():
    long = "字" * (import_cell_length_max + 1)
    assert "第 3 行第 2 列" in refusal("长.csv", f"a,b\nx,y\nx,{long}\n".encode())
    assert "第 2 行第 1 列" in refusal("长.xlsx", xlsx([["a"], [long]]))


def test_a_stale_dimension_is_not_trusted():
    data = xlsx([["编码", "名称"], ["510121", "金堂县"], ["510122", "双流区"]], dimension="A1:E1")
    assert table_of("旧.xlsx", data) == [
        (1, ["编码", "名称"]),
        (2, ["510121", "金堂县"]),
        (3, ["510122", "双流区"]),
    ]


def test_a_sheet_formatted_far_below_its_data_is_read_to_its_data():
    data = xlsx([["编码"], ["510121"]], empty_rows=3 * import_empty_rows_run_max)
    assert table_of("格式.xlsx", data) == [(1, ["编码"]), (2, ["510121"])]
    gap = "编码\n510121\n" + "\n" * (import_empty_rows_run_max - 1) + "510122\n"
    assert table_of("空行.csv", gap.encode())[-1][1] == ["510122"]


def test_dates_and_formulas_without_a_value_are_told_apart():
    import datetime as dt

    table = table_of("式.xlsx", xlsx([["批号", "数量"], [dt.datetime(2014, 1, 1), "=1+1"]]))
    batch, quantity = table[1][1]
    assert isinstance(batch, DateText) and batch == "2014-01-01"
    assert isinstance(quantity, NoValue) and quantity == ""
