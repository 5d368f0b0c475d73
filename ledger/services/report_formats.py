"""Reports as data, and the same report as CSV, XLSX and a print-friendly HTML page.

A `Report` is a title, Chinese column headers, rows, total rows (one per unit: figures in
different units are never added together) and signature fields; the JSON answer is the struct
itself. CSV is UTF-8 with a byte-order mark (Excel in a Chinese locale reads it right); XLSX is
written with openpyxl; HTML is one self-contained page meant for printing (A4, the header
repeated on every page, signature lines at the foot).

Text that a spreadsheet would take for a formula (a memo `=HYPERLINK(...)`, anything starting
with `=`, `+`, `-`, `@`, a tab or a carriage return) is written as text: in CSV behind a leading
apostrophe (as OWASP advises for CSV injection), in XLSX as a string cell with the quote prefix
set, so no cell ever holds a live formula. Numbers, negative ones included, stay numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from html import escape

import msgspec


class Column(msgspec.Struct, frozen=True):
    """key: stable, for machines; title: the Chinese header; kind: text, int, date, rate or
    decimal (a figure to one decimal place kept as exact text, "12.5": a number in XLSX)."""

    key: str
    title: str
    kind: str = "text"


class Report(msgspec.Struct, frozen=True):
    name: str
    title: str
    subtitle: str
    columns: tuple[Column, ...]
    rows: tuple[tuple, ...]
    totals: tuple[tuple, ...] = ()  # total rows, one per unit (or per item)
    # lines to sign: a role (经办人) left blank for a pen, or a role with its name (制单人：…)
    signatures: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def signature_lines(self) -> tuple[str, ...]:
        return tuple(name if "：" in name else f"{name}：" for name in self.signatures)

    def records(self) -> list[dict]:
        """Rows as {key: value}, for code that reads reports."""
        keys = [column.key for column in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.rows]


MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv",  # Litestar adds "; charset=utf-8" to text types
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
}


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMERIC_KINDS = ("int", "rate", "decimal")  # right-aligned, never wrapped
SHORT_TEXT = 4  # characters: a text column no longer than this is never wrapped in print


def formula_like(value) -> bool:
    """Text a spreadsheet would read as a formula (numbers are never that)."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def _csv_value(value):
    if value is None:
        return ""
    return "'" + value if formula_like(value) else value


def _cell(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == "rate":
        return f"{value * 100:.2f}%"
    if kind == "int":
        return f"{value:,}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


Progress = Callable[[int], None] | None  # told how many more rows were written


def _counted(rows: tuple[tuple, ...], progress: Progress, step: int = 1000) -> Iterator[tuple]:
    """The rows, telling `progress` every `step` rows and once at the end."""
    done = 0
    for index, row in enumerate(rows, start=1):
        yield row
        if progress is not None and index % step == 0:
            progress(index - done)
            done = index
    if progress is not None and len(rows) > done:
        progress(len(rows) - done)


def to_csv(report: Report, progress: Progress = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_csv_value(column.title) for column in report.columns])
    for row in _counted(report.rows, progress):
        writer.writerow([_csv_value(value) for value in row])
    for total in report.totals:
        writer.writerow([_csv_value(value) for value in total])
    for index, line in enumerate((*report.notes, *report.signature_lines())):
        if index == 0:
            writer.writerow([])
        writer.writerow([_csv_value(line)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


_NOT_IN_SHEET_TITLES = str.maketrans(dict.fromkeys("[]:*?/\\", " "))


def sheet_title(title: str) -> str:
    """The title as Excel takes a sheet's name: none of [ ] : * ? / \\ (a plan's title may hold
    them: 第1/2批), no apostrophe at either end, at most 31 characters, never blank."""
    return title.translate(_NOT_IN_SHEET_TITLES).strip().strip("'")[:31].strip() or "Sheet1"


def to_xlsx(report: Report, progress: Progress = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title(report.title)

    decimals = [index for index, column in enumerate(report.columns) if column.kind == "decimal"]

    def number(value):
        """A decimal column's text as a number (text that is not one stays as it is)."""
        try:
            return float(Decimal(value)) if isinstance(value, str) else value
        except InvalidOperation:
            return value

    def figures(row) -> list:
        values = list(row)
        for index in decimals:
            values[index] = number(values[index])
        return values

    def append(values) -> None:
        """A row; text that looks like a formula becomes a string cell shown as typed."""
        sheet.append(list(values))
        for cell in sheet[sheet.max_row]:
            if formula_like(cell.value):
                cell.data_type = "s"
                cell.quotePrefix = True

    append([report.title])
    sheet["A1"].font = Font(bold=True, size=14)
    append([report.subtitle])
    append([column.title for column in report.columns])
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    for row in _counted(report.rows, progress):
        append(figures(row))
    for total in report.totals:
        append(figures(total))
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    for index, column in enumerate(report.columns, start=1):
        letter = get_column_letter(index)
        if column.kind == "rate":
            for cell in sheet[letter][3:]:
                cell.number_format = "0.00%"
        elif column.kind == "int":
            for cell in sheet[letter][3:]:
                cell.number_format = "#,##0"
        elif column.kind == "decimal":
            for cell in sheet[letter][3:]:
                cell.number_format = "0.0"
        width = max(
            [len(column.title) * 2]
            + [len(_cell(r[index - 1], column.kind)) for r in report.rows[:200]]
        )
        sheet.column_dimensions[letter].width = min(max(width + 2, 8), 40)
    sheet.freeze_panes = "A4"
    for line in (*report.notes, *report.signature_lines()):
        sheet.append([])
        append([line])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


WIDEST_PORTRAIT = 8  # columns

PAGE_STYLE = """
body { font-family: "Noto Serif CJK SC", "SimSun", "Songti SC", "WenQuanYi Micro Hei", serif; margin: 16mm; color: #000; }
h1 { font-size: 20px; text-align: center; margin: 0 0 4px; letter-spacing: 2px; }
p.subtitle { text-align: center; margin: 0 0 10px; font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { border: 1px solid #000; padding: 3px 5px; }
th { background: #eee; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.n, td.s, th.s { white-space: nowrap; }
tfoot td { font-weight: bold; }
.notes { font-size: 12px; margin-top: 8px; }
.signatures { display: flex; justify-content: space-between; margin-top: 28px; font-size: 14px; }
.signatures span { min-width: 30%; }
@page { size: A4 ORIENTATION; margin: 12mm; }
@media print { body { margin: 0; } thead { display: table-header-group; } }
"""


def _short_columns(report: Report) -> list[bool]:
    """Per column: its text is never longer than SHORT_TEXT characters (方式 申领, 范围 本级),
    so the print form keeps it on one line rather than one character a line."""
    return [
        all(
            len(_cell(row[index], column.kind)) <= SHORT_TEXT for row in report.rows + report.totals
        )
        for index, column in enumerate(report.columns)
    ]


def to_html(report: Report, progress: Progress = None) -> bytes:
    kinds = [column.kind for column in report.columns]
    short = _short_columns(report)

    def cells(row, tag="td") -> str:
        out = []
        for index, (value, kind) in enumerate(zip(row, kinds, strict=True)):
            css = ' class="n"' if kind in NUMERIC_KINDS else ' class="s"' if short[index] else ""
            out.append(f"<{tag}{css}>{escape(_cell(value, kind))}</{tag}>")
        return "".join(out)

    # A table wider than a portrait A4 page holds (the 收发存汇总表 has 20 columns) prints across.
    orientation = "landscape" if len(report.columns) > WIDEST_PORTRAIT else "portrait"
    short_head = ' class="s"'
    head = "".join(
        f"<th{short_head if short[index] and len(column.title) <= SHORT_TEXT else ''}>"
        f"{escape(column.title)}</th>"
        for index, column in enumerate(report.columns)
    )
    body = "".join(f"<tr>{cells(row)}</tr>" for row in _counted(report.rows, progress))
    foot = (
        "<tfoot>" + "".join(f"<tr>{cells(total)}</tr>" for total in report.totals) + "</tfoot>"
        if report.totals
        else ""
    )
    notes = "".join(f"<p>{escape(note)}</p>" for note in report.notes)
    signatures = "".join(f"<span>{escape(line)}</span>" for line in report.signature_lines())
    page = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(report.title)}</title><style>{PAGE_STYLE.replace('ORIENTATION', orientation)}</style>"
        "</head><body>"
        f'<h1>{escape(report.title)}</h1><p class="subtitle">{escape(report.subtitle)}</p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>{foot}</table>"
        f'<div class="notes">{notes}</div>'
        + (f'<div class="signatures">{signatures}</div>' if signatures else "")
        + "</body></html>"
    )
    return page.encode("utf-8")


def render(report: Report, format: str, progress: Progress = None) -> bytes:
    """The report as a file; `progress`, if given, hears how many rows are written as it goes."""
    if format == "json":
        encoded = msgspec.json.encode(report)
        if progress is not None and report.rows:
            progress(len(report.rows))
        return encoded
    if format == "csv":
        return to_csv(report, progress)
    if format == "xlsx":
        return to_xlsx(report, progress)
    if format == "html":
        return to_html(report, progress)
    raise ValueError(f"unknown report format {format!r}")
