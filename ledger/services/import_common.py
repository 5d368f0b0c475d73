"""What every spreadsheet import shares: reading a file (.xlsx, or .csv in UTF-8 with or without
a BOM) into rows keyed by column, the problems found in it, what an import did, and the readers
of the reference data a file is checked against. See docs/import.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import NamedTuple

import msgspec

from ledger.db import import_rows, oplog
from ledger.db.store import LedgerStore
from ledger.limits import log_object_key_length_max, problems_listed_max, quantity_per_line_max
from ledger.model import Item
from ledger.rules import Code, LedgerError, check_date
from ledger.services.import_read import DateText, NoValue, Table, read_table, table_of, unreadable

__all__ = ["read_table", "table_of", "unreadable"]  # the reading, from import_read

# column key → (Chinese header, English header, other accepted spellings, required)
ColumnSpec = dict[str, tuple[str, str, tuple[str, ...], bool]]
Rows = list[tuple[int, dict[str, str]]]

# A file this long gets a progress bar on the command line.
progress_rows_min = 500


class Problem(NamedTuple):
    """One thing wrong with the file: its row (1 = the header row; 0 = the whole import, such as
    the --as-of day), the column and why."""

    row: int
    column: str
    message: str

    def line(self) -> str:
        where = f"第 {self.row} 行" if self.row else "整个文件"
        return f"{where}{' ' + self.column if self.column else ''}：{self.message}"


class ImportInvalid(LedgerError):
    """The file has problems; nothing was imported."""

    def __init__(self, problems: list[Problem], total_rows: int) -> None:
        rows = len({p.row for p in problems if p.row})
        listed = problems[:problems_listed_max]
        more = f"；只列出前 {problems_listed_max} 处" if len(problems) > problems_listed_max else ""
        super().__init__(
            Code.import_invalid,
            f"文件有 {len(problems)} 处问题（涉及 {rows} 行，共 {total_rows} 行），一行也没有导入；"
            f"改好后重新导入{more} ({len(problems)} problems, nothing imported)",
            "file",
            {"problems": [p._asdict() for p in listed]},
        )
        self.problems = problems


class OutsideScope(Exception):
    """Rows about places or reference data the importing user may not change (another city's,
    or an item every city shares, for a city's admin): the import is refused as a whole. The
    message names rows only, never what the other city holds."""

    def __init__(self, rows: list[int], reason: str) -> None:
        shown = "、".join(str(row) for row in sorted(set(rows))[:20])
        more = " 等" if len(set(rows)) > 20 else ""
        super().__init__(f"第 {shown}{more} 行{reason}")
        self.rows = rows


class PostedOpening(msgspec.Struct, frozen=True):
    """One location's opening transaction (期初建账单) posted by an import: its voucher number,
    how many lines and how much in all, per base unit."""

    location_code: str
    location_name: str
    number: str
    lines: int
    totals: dict[str, int]


class Imported(msgspec.Struct, frozen=True):
    """What an import did. added: codes added; updated: one line per changed row (code and what
    changed); unchanged: rows already in the ledger as in the file. For opening balances:
    posted, one per location, and skipped, the locations whose identical opening is there."""

    kind: str
    rows: int
    added: list[str]
    updated: list[str]
    unchanged: int
    posted: list[PostedOpening] = []
    skipped: list[str] = []
    ignored_columns: list[str] = []  # the file's columns no import reads (named as in the file)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.posted)


Progress = Callable[[int], object]


# ---- reading ----------------------------------------------------------------------------------


# Columns that hold codes: text, never a date Excel made of what was typed.
TEXT_COLUMNS = frozenset({"code", "parent_code", "location_code", "item_code", "batch_number"})


def _columns(spec: ColumnSpec, header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Where each known column is, and the header's other (ignored) columns."""
    names: dict[str, str] = {}
    for key, (chinese, english, others, _required) in spec.items():
        for name in (chinese, english, *others):
            names[name.lower()] = key
    found: dict[str, int] = {}
    ignored: list[str] = []
    for index, cell in enumerate(header):
        column = names.get(cell.strip().lower())
        if column is None:
            if cell.strip():
                ignored.append(cell.strip())
            continue
        key = column
        if key in found:
            first = header[found[key]].strip()
            raise unreadable(
                f"第 {found[key] + 1} 列“{first}”和第 {index + 1} 列“{cell.strip()}”是同一列"
                f"（{spec[key][0]}）：请删去其中一列 (column {spec[key][1]} appears twice)"
            )
        found[key] = index
    missing = [f"{v[0]}/{v[1]}" for k, v in spec.items() if v[3] and k not in found]
    if missing:
        known = "、".join(f"{v[0]}/{v[1]}" for v in spec.values())
        raise unreadable(
            f"缺少必需的列：{'、'.join(missing)}；认得的列名：{known} (missing columns)"
        )
    return found, ignored


def ignored_columns(spec: ColumnSpec, table: Table) -> list[str]:
    """The header's columns the import does not read (told to the user, not dropped silently)."""
    return _columns(spec, table[0][1])[1] if table and table[0][0] == 1 else []


def records(spec: ColumnSpec, table: Table) -> Rows:
    """(row number, {column key: text}) for every non-empty data row; a cell that cannot be
    what its column needs (a code Excel turned into a date, a formula without its result)
    refuses the file with every such cell listed."""
    if not table or table[0][0] != 1:
        raise unreadable("文件是空的：第 1 行应是列名 (the file is empty)")
    found, _ignored = _columns(spec, table[0][1])
    rows: Rows = []
    problems: list[Problem] = []
    for number, row in table[1:]:
        record = {k: (row[i] if i < len(row) else "") for k, i in found.items()}
        for key, text in record.items():
            column = spec[key][0]
            if isinstance(text, NoValue):
                problems.append(
                    Problem(
                        number,
                        column,
                        "这一格是公式，文件里没有保存它的计算结果：请用 Excel 打开文件、保存后再"
                        "导入，或把公式改成数值 (a formula without a saved value)",
                    )
                )
            elif key in TEXT_COLUMNS and isinstance(text, DateText):
                problems.append(
                    Problem(
                        number,
                        column,
                        f"这一格被 Excel 存成了日期（{text}），不是{column}：请把这一列设置为"
                        "“文本”格式后重新输入（模板的这一列已是文本格式） (a date, not text)",
                    )
                )
        rows.append((number, record))
    if problems:
        raise ImportInvalid(problems, len(rows))
    return rows


def check(
    problems: list[Problem], row: int, column: str, rule: Callable[..., object], *args
) -> bool:
    """Run one of the ledger's checks on a cell; a refusal becomes a problem of that row."""
    try:
        rule(*args)
    except LedgerError as error:
        problems.append(Problem(row, column, error.message))
        return False
    return True


def at_row(number: int, action: Callable[..., object], *args) -> None:
    """A refusal from a use case while writing: the whole import is rolled back, and the row
    is named."""
    try:
        action(*args)
    except ImportInvalid:
        raise
    except LedgerError as error:
        raise ImportInvalid([Problem(number, error.field or "", error.message)], 0) from None


def log_import(
    store: LedgerStore, done: Imported, name: str, scope: str | None, paths: list[str]
) -> None:
    """One `import.<kind>` entry per city the import touched (none: the importing user's
    city, or no city for a global admin's or the command line's import of items)."""
    summary = {
        "file": name,
        "rows": done.rows,
        "added": len(done.added),
        "updated": len(done.updated),
        "unchanged": done.unchanged,
    }
    if done.kind == "opening-balances":
        summary.update(
            vouchers=[p.number for p in done.posted],
            lines=sum(p.lines for p in done.posted),
            skipped=len(done.skipped),
        )
    if done.kind == "locations":
        paths = [store.location(code).path for code in done.added] + [
            store.location(line.split(" ", 1)[0]).path for line in done.updated
        ]
    roots: list[str | None] = [*root_paths(paths)] or ([scope] if scope else [None])
    for root in roots:
        oplog.record(
            store,
            f"import.{done.kind}",
            "import",
            name[:log_object_key_length_max],
            user_id=store.maker_id,
            after=msgspec.to_builtins(summary),
            location_path=root,
        )


# ---- cells ------------------------------------------------------------------------------------

WHOLE_NUMBER = re.compile(r"^[0-9]{1,3}(,[0-9]{3})+$|^[0-9]+$")
DATE_PARTS = re.compile(r"^([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?$")


def whole_number(text: str, what: str) -> int | str:
    """A positive whole number written in a cell (1200, 1,200), or why it is not one."""
    text = text.strip()
    if not text:
        return f"{what}不能为空"
    if WHOLE_NUMBER.match(text) is None:
        if re.fullmatch(r"-\s*[0-9.,]+", text):
            return f"{what}不能为负数：{text}"
        if re.fullmatch(r"[0-9,]*\.[0-9]+", text):
            return f"{what}必须是整数，不能是小数：{text}"
        return f"{what}应是正整数，不是 {text!r}"
    value = int(text.replace(",", ""))
    if value == 0:
        return f"{what}必须大于零"
    if value > quantity_per_line_max:
        return f"{what}过大：{value}，每行最多 {quantity_per_line_max}"
    return value


def day(text: str, what: str) -> dt.date | str | None:
    """A date written in a cell (2027-06-30, 2027/6/30, 2027.6.30, 2027年6月30日, or a date cell
    of Excel), None for an empty cell, or why it is not a date the ledger holds."""
    text = text.strip()
    if not text:
        return None
    match = DATE_PARTS.match(text.split("T")[0])
    try:
        if match is None:
            raise ValueError(text)
        value = dt.date(*(int(part) for part in match.groups()))
        check_date(value, what)
    except ValueError:
        return f"{what} {text!r} 不是日期：应写成 2027-06-30"
    except LedgerError as error:
        return error.message
    return value


# ---- what the ledger holds --------------------------------------------------------------------


def stored_items(store: LedgerStore) -> dict[str, Item]:
    return import_rows.items(store)


def root_paths(paths: list[str]) -> list[str]:
    """The distinct roots ('/510100/') of location paths, in order."""
    return list(dict.fromkeys("/" + path.split("/")[1] + "/" for path in paths))
