"""Reading an imported file (.xlsx, or .csv in UTF-8 with or without a BOM) into its non-empty
rows, as text, within bounds checked while it is read: an .xlsx whose parts unpack to more than
`import_unpacked_bytes_max`, a file of more than `import_rows_max` data rows, or a cell longer
than `import_cell_length_max` characters is refused before the rest is read (see
docs/import.md). Empty rows are skipped, not counted; after `import_empty_rows_run_max` empty
rows in a row the data has ended (a sheet formatted far below its data is read no further).

An .xlsx sheet is read row by row from its XML as it stands, never from its `<dimension>` tag
(which a program writing the file may leave stale). A cell Excel keeps as a date comes back as
`DateText`, and a formula whose result was never saved as `NoValue`, so that the columns that
must hold text can say so.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

from ledger.limits import (
    import_cell_length_max,
    import_empty_rows_run_max,
    import_rows_max,
    import_unpacked_bytes_max,
)
from ledger.rules import Code, LedgerError

# (row number in the file, its cells as text), the header row (row 1) first.
Table = list[tuple[int, list[str]]]


class DateText(str):
    """The text of a cell Excel keeps as a date (a typed 2014-01 becomes 2014-01-01)."""


class NoValue(str):
    """A formula cell whose result the file does not hold (written by a program, never saved
    in Excel): read as empty."""


def unreadable(message: str) -> LedgerError:
    return LedgerError(Code.import_file_unreadable, message, "file")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, NoValue):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        text = value.date().isoformat() if value.time() == dt.time() else value.isoformat()
        return DateText(text)
    if isinstance(value, dt.date):
        return DateText(value.isoformat())
    return str(value).strip()


def read_table(path: Path) -> Table:
    """The non-empty rows of the file's first sheet as text (the header row first)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise unreadable(f"{path.name} 读不了 (cannot read the file): {error.strerror}") from None
    return table_of(path.name, data)


def table_of(name: str, data: bytes) -> Table:
    """The non-empty rows of a file's first sheet, from its name (its extension says the
    format) and content."""
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        return _bounded(name, _csv_rows(name, data))
    if suffix == ".xlsx":
        _check_unpacked(name, data)
        return _xlsx_table(name, data)
    raise unreadable(f"{name}：只能导入 .xlsx 或 .csv 文件 (only .xlsx or .csv)")


def _bounded(name: str, rows: Iterator[tuple[int, list]]) -> Table:
    """The non-empty rows, stopping as soon as there are too many or a cell is too long."""
    table: Table = []
    for number, cells in rows:
        if table and number - table[-1][0] > import_empty_rows_run_max:
            break  # a sheet formatted far below its data: the rest is taken as empty
        texts = [_text(cell) for cell in cells]
        if not any(texts):
            continue
        if len(table) > import_rows_max:  # the header and import_rows_max data rows so far
            raise unreadable(
                f"{name} 超过 {import_rows_max} 行数据（读到第 {number} 行时停止）：请把文件拆成"
                f"几个，每个最多 {import_rows_max} 行，分别导入 (more than {import_rows_max} "
                "data rows: split the file)"
            )
        for column, text in enumerate(texts, start=1):
            if len(text) > import_cell_length_max:
                raise unreadable(
                    f"{name} 第 {number} 行第 {column} 列有 {len(text)} 个字符，一个单元格最多 "
                    f"{import_cell_length_max} 个：请检查这一格是否粘贴错了 (cell longer than "
                    f"{import_cell_length_max} characters)"
                )
        table.append((number, texts))
    return table


def _csv_rows(name: str, data: bytes) -> Iterator[tuple[int, list]]:
    if b"\x00" in data:
        raise unreadable(f"{name} 含有 NUL 字符，不是文本 CSV (the CSV holds a NUL)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise unreadable(
            f"{name} 不是 UTF-8 编码的 CSV：在 Excel 里“另存为 CSV UTF-8”，或直接导入 .xlsx "
            "(the CSV is not UTF-8)"
        ) from None
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as error:
        raise unreadable(f"{name} 不是可读的 CSV (cannot read the CSV): {error}") from None


def _check_unpacked(name: str, data: bytes) -> None:
    """Refuse an .xlsx whose parts unpack to too much, before anything is unpacked (the sizes
    its zip directory declares; reading a part stops at its declared size)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise unreadable(
            f"{name} 不是可读的 .xlsx 文件 (cannot read the workbook): {error}"
        ) from None
    if unpacked > import_unpacked_bytes_max:
        raise unreadable(
            f"{name} 解压后有 {unpacked // 1_048_576} MiB，最多 "
            f"{import_unpacked_bytes_max // 1_048_576} MiB：请删去多余的工作表、图片和格式，或把"
            f"文件拆成几个分别导入 (the workbook unpacks to more than "
            f"{import_unpacked_bytes_max // 1_048_576} MiB)"
        )


def _xlsx_table(name: str, data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # a damaged or misnamed file
        raise unreadable(
            f"{name} 不是可读的 .xlsx 文件 (cannot read the workbook): {error}"
        ) from None
    try:
        return _bounded(name, _sheet_rows(book))
    except LedgerError:
        raise
    except Exception as error:  # a workbook whose sheet cannot be read
        raise unreadable(
            f"{name} 的第一个工作表读不了 (cannot read the first sheet): {error}"
        ) from None
    finally:
        book.close()


_NO_VALUE = object()


def _sheet_rows(book) -> Iterator[tuple[int, list]]:
    """The rows the first sheet's XML holds, as they are parsed (openpyxl's read-only parser,
    which reads no further than asked; the sheet's `<dimension>` is not consulted)."""
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    class Parser(WorkSheetParser):
        def parse_cell(self, element):
            cell = super().parse_cell(element)
            if cell["value"] is None and element.find(FORMULA_TAG) is not None:
                cell["value"] = _NO_VALUE
            return cell

    sheet = book.worksheets[0]
    sheet.reset_dimensions()
    with sheet._get_source() as source:
        parser = Parser(
            source,
            sheet._shared_strings,
            data_only=True,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        for number, cells in parser.parse():
            if not cells:
                continue
            values: list = [None] * max(cell["column"] for cell in cells)
            for cell in cells:
                value = cell["value"]
                values[cell["column"] - 1] = NoValue("") if value is _NO_VALUE else value
            yield number, values
