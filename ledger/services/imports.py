"""Master data from spreadsheets: `ledger import locations|items FILE` (see docs/import.md).

A file (.xlsx, or .csv in UTF-8 with or without a BOM; headers in Chinese or English) is read
and checked whole before anything is written: every problem is collected with its row number
and a Chinese message, and then nothing is imported. A clean file is written in one database
transaction through the ledger's own use cases (`add_location` / `add_item`: version 1 and an
operations-log entry each; a changed name or parent of an existing location, or a changed
name, category, unit or packs of an existing item, through `ledger.services.reference`: a new
version and a log entry). A row identical to what is stored is skipped, so the same file
imported twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import select

from ledger import commands as c
from ledger.db import tables as t
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database
from ledger.model import Item, ItemKind, Location, LocationLevel, Pack
from ledger.rules import Code, LedgerError, category_length_max, check_text, name_length_max
from ledger.services.ledger import PARENT_LEVEL, check_code, run_command
from ledger.services.reference import ItemChange, LocationChange, change_item, change_location
from ledger.settings import office_today

KINDS = ("locations", "items")

# column key → (Chinese header, English header, other accepted spellings, required)
LOCATION_COLUMNS = {
    "code": ("编码", "code", ("库点编码", "行政区划代码"), True),
    "name": ("名称", "name", ("库点名称",), True),
    "parent_code": ("上级编码", "parent_code", ("上级", "parent"), False),
    "level": ("级别", "level", ("层级",), True),
    "population": ("人口", "population", (), False),
}
ITEM_COLUMNS = {
    "code": ("编码", "code", ("物资编码",), True),
    "name": ("名称", "name", ("物资名称",), True),
    "kind": ("类别", "category", ("kind", "大类"), True),
    "variety": ("品种", "variety", ("分类", "subcategory"), False),
    "unit": ("单位", "unit", ("基本单位", "base_unit"), True),
    "packs": ("包装", "packs", (), False),
    "tracks_expiry": ("有效期管理", "tracks_expiry", ("expiry_tracked",), False),
}
COLUMNS = {"locations": LOCATION_COLUMNS, "items": ITEM_COLUMNS}

LEVELS = {
    "市": LocationLevel.city,
    "city": LocationLevel.city,
    "区县": LocationLevel.county,
    "区(市)县": LocationLevel.county,
    "区": LocationLevel.county,
    "县": LocationLevel.county,
    "county": LocationLevel.county,
    "乡镇": LocationLevel.township,
    "乡镇/街道": LocationLevel.township,
    "乡": LocationLevel.township,
    "镇": LocationLevel.township,
    "街道": LocationLevel.township,
    "township": LocationLevel.township,
    "村": LocationLevel.village,
    "村/社区": LocationLevel.village,
    "社区": LocationLevel.village,
    "village": LocationLevel.village,
}
LEVEL_WORDS = {
    LocationLevel.city: "市",
    LocationLevel.county: "区县",
    LocationLevel.township: "乡镇",
    LocationLevel.village: "村",
}
ITEM_KINDS = {
    "宣传品": ItemKind.printed,
    "printed": ItemKind.printed,
    "药具": ItemKind.contraceptive,
    "计生药具": ItemKind.contraceptive,
    "contraceptive": ItemKind.contraceptive,
}
KIND_WORDS = {ItemKind.printed: "宣传品", ItemKind.contraceptive: "药具"}
# The units an office counts in; anything else is a typing mistake until added here.
BASE_UNITS = (
    "张",
    "本",
    "册",
    "份",
    "套",
    "幅",
    "只",
    "个",
    "盒",
    "板",
    "支",
    "片",
    "粒",
    "瓶",
    "袋",
    "贴",
)
PACK_UNITS = (*BASE_UNITS, "捆", "箱", "包", "件", "扎", "沓", "刀", "令", "卷", "桶")
YES = {"是", "yes", "y", "true", "1", "需要"}
NO = {"否", "no", "n", "false", "0", "不需要", ""}
PACK_ENTRY = re.compile(r"^\s*([^=＝\s]+)\s*[=＝]\s*([0-9]+)\s*$")
packs_max = 10


class Problem(NamedTuple):
    """One thing wrong with the file: its row (1 = the header row), the column and why."""

    row: int
    column: str
    message: str

    def line(self) -> str:
        where = f"第 {self.row} 行" if self.row else "文件"
        return f"{where}{' ' + self.column if self.column else ''}：{self.message}"


class ImportInvalid(LedgerError):
    """The file has problems; nothing was imported."""

    def __init__(self, problems: list[Problem], total_rows: int) -> None:
        rows = len({p.row for p in problems})
        super().__init__(
            Code.import_invalid,
            f"文件有 {len(problems)} 处问题（涉及 {rows} 行，共 {total_rows} 行），一行也没有导入；"
            f"改好后重新导入 ({len(problems)} problems, nothing imported)",
            "file",
            {"problems": [p._asdict() for p in problems]},
        )
        self.problems = problems


class Imported(NamedTuple):
    """What an import did: codes added, updated (with what changed) and left as they were."""

    kind: str
    added: list[str]
    updated: list[str]
    unchanged: int


# ---- reading ----------------------------------------------------------------------------------


def _unreadable(message: str) -> LedgerError:
    return LedgerError(Code.import_file_unreadable, message, "file")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def read_table(path: Path) -> list[list[str]]:
    """The rows of the file's first sheet as text (the header row first)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _unreadable(
                f"{path.name} 不是 UTF-8 编码的 CSV：在 Excel 里“另存为 CSV UTF-8”，或直接导入 .xlsx "
                "(the CSV is not UTF-8)"
            ) from None
        return [[_text(cell) for cell in row] for row in csv.reader(io.StringIO(text))]
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as error:  # a damaged or misnamed file
            raise _unreadable(
                f"{path.name} 不是可读的 .xlsx 文件 (cannot read the workbook): {error}"
            ) from None
        try:
            sheet = book.worksheets[0]
            return [[_text(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    raise _unreadable(f"{path.name}：只能导入 .xlsx 或 .csv 文件 (only .xlsx or .csv)")


def _columns(kind: str, header: list[str]) -> dict[str, int]:
    spec = COLUMNS[kind]
    names = {}
    for key, (chinese, english, others, _required) in spec.items():
        for name in (chinese, english, *others):
            names[name.lower()] = key
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = names.get(cell.strip().lower())
        if key is not None and key not in found:
            found[key] = index
    missing = [f"{v[0]}/{v[1]}" for k, v in spec.items() if v[3] and k not in found]
    if missing:
        known = "、".join(f"{v[0]}/{v[1]}" for v in spec.values())
        raise _unreadable(
            f"缺少必需的列：{'、'.join(missing)}；认得的列名：{known} (missing columns)"
        )
    return found


def records(kind: str, table: list[list[str]]) -> list[tuple[int, dict[str, str]]]:
    """(row number, {column key: text}) for every non-empty data row."""
    if not table or not any(table[0]):
        raise _unreadable("文件是空的：第 1 行应是列名 (the file is empty)")
    found = _columns(kind, table[0])
    rows = []
    for number, row in enumerate(table[1:], start=2):
        if not any(cell for cell in row):
            continue
        rows.append((number, {k: (row[i] if i < len(row) else "") for k, i in found.items()}))
    return rows


def _check(
    problems: list[Problem], row: int, column: str, check: Callable[..., object], *args
) -> bool:
    try:
        check(*args)
    except LedgerError as error:
        problems.append(Problem(row, column, error.message))
        return False
    return True


# ---- locations --------------------------------------------------------------------------------


def _stored_locations(store: LedgerStore) -> dict[str, Location]:
    loc = t.locations.c
    parent = t.locations.alias("parent")
    rows = store.connection.execute(
        select(loc.code, loc.name, loc.level, parent.c.code.label("parent_code"))
        .select_from(t.locations.outerjoin(parent, parent.c.id == loc.parent_id))
        .where(loc.physical.is_(True))
    )
    return {r.code: Location(r.code, r.name, LocationLevel(r.level), r.parent_code) for r in rows}


def plan_locations(
    rows: list[tuple[int, dict[str, str]]], stored: dict[str, Location]
) -> tuple[list[Problem], list[tuple[int, Location]], list[tuple[int, Location, Location]]]:
    """Check every row; return the problems, the new locations (parents first) and the changes
    (row, stored, wanted)."""
    problems: list[Problem] = []
    wanted: dict[str, tuple[int, Location]] = {}
    first_row: dict[str, int] = {}
    for number, row in rows:
        code, name = row["code"], row.get("name", "")
        parent_code = row.get("parent_code", "") or None
        ok = _check(problems, number, "编码", check_code, code, "code")
        ok &= _check(problems, number, "名称", check_text, name, "name", name_length_max)
        level = LEVELS.get(row["level"].strip().lower())
        if level is None:
            problems.append(
                Problem(number, "级别", f"不认识的级别 {row['level']!r}：应为 市、区县、乡镇 或 村")
            )
            ok = False
        population = row.get("population", "")
        if population and not population.isdigit():
            problems.append(
                Problem(number, "人口", f"人口应为不小于 0 的整数，不是 {population!r}")
            )
        if ok and code in first_row:
            problems.append(Problem(number, "编码", f"编码 {code} 与第 {first_row[code]} 行重复"))
            continue
        if ok:
            first_row[code] = number
            wanted[code] = (number, Location(code, name, level, parent_code))
    for code, (number, location) in wanted.items():
        expected = PARENT_LEVEL[location.level]
        known = stored.get(code)
        if known is not None and known.level is not location.level:
            problems.append(
                Problem(
                    number,
                    "级别",
                    f"库点 {code} 已是{LEVEL_WORDS.get(known.level, known.level.value)}，"
                    f"不能改成{LEVEL_WORDS[location.level]}",
                )
            )
            continue
        if expected is None:
            if location.parent_code is not None:
                problems.append(Problem(number, "上级编码", "市是最上级库点，不能有上级编码"))
            elif known is None:
                problems.append(
                    Problem(number, "编码", f"市 {code} 不在账本中：新的市请用 ledger init 建立")
                )
            continue
        if location.parent_code is None:
            problems.append(
                Problem(number, "上级编码", f"{LEVEL_WORDS[location.level]}必须填写上级编码")
            )
            continue
        parent = wanted.get(location.parent_code)
        parent_location = parent[1] if parent else stored.get(location.parent_code)
        if parent_location is None:
            problems.append(
                Problem(
                    number,
                    "上级编码",
                    f"上级编码 {location.parent_code} 既不在账本中，也不在本文件中",
                )
            )
            continue
        if parent_location.level is not expected:
            problems.append(
                Problem(
                    number,
                    "级别",
                    f"级别顺序不对：{LEVEL_WORDS[location.level]}的上级应是{LEVEL_WORDS[expected]}，"
                    f"{location.parent_code} {parent_location.name} 是"
                    f"{LEVEL_WORDS.get(parent_location.level, parent_location.level.value)}",
                )
            )
    depth = list(LEVEL_WORDS)
    new = sorted(
        ((n, loc) for code, (n, loc) in wanted.items() if code not in stored),
        key=lambda pair: (depth.index(pair[1].level), pair[0]),
    )
    changed = [
        (n, stored[code], loc)
        for code, (n, loc) in wanted.items()
        if code in stored
        and (stored[code].name, stored[code].parent_code) != (loc.name, loc.parent_code)
    ]
    return problems, new, changed


# ---- items ------------------------------------------------------------------------------------


def parse_packs(text: str, unit: str) -> tuple[tuple[Pack, ...], list[str]]:
    """`捆=500; 箱=10000` → packs, or the reasons it cannot be read."""
    packs, errors = [], []
    for part in filter(None, (p.strip() for p in re.split(r"[;；,，、]", text))):
        match = PACK_ENTRY.match(part)
        if match is None:
            errors.append(f"包装 {part!r} 写法不对，应写成 捆=500; 箱=10000")
            continue
        name, units = match.group(1), int(match.group(2))
        if name not in PACK_UNITS:
            errors.append(f"不认识的包装单位 {name!r}（认得：{'、'.join(PACK_UNITS)}）")
        elif name == unit or name in (p.name for p in packs):
            errors.append(f"包装 {name} 重复（或与单位 {unit} 相同）")
        elif not 2 <= units <= 2_000_000_000:
            errors.append(f"包装 {name} 的数量应是 2 到 2000000000 之间的整数，不是 {units}")
        else:
            packs.append(Pack(name, units))
    if len(packs) > packs_max:
        errors.append(f"包装最多 {packs_max} 种")
    return tuple(packs), errors


def _stored_items(store: LedgerStore) -> dict[str, Item]:
    ip = t.item_packs.c
    packs: dict[int, list[Pack]] = {}
    for row in store.connection.execute(
        select(ip.item_id, ip.name, ip.base_units).order_by(ip.item_id, ip.position)
    ):
        packs.setdefault(row.item_id, []).append(Pack(row.name, row.base_units))
    return {
        r.code: Item(
            r.code,
            r.name,
            ItemKind(r.kind),
            r.category,
            r.base_unit,
            tuple(packs.get(r.id, ())),
            r.expiry_tracked,
        )
        for r in store.connection.execute(select(t.items))
    }


def plan_items(
    rows: list[tuple[int, dict[str, str]]], stored: dict[str, Item]
) -> tuple[list[Problem], list[tuple[int, Item]], list[tuple[int, Item, Item]]]:
    problems: list[Problem] = []
    first_row: dict[str, int] = {}
    new, changed = [], []
    for number, row in rows:
        code, name, unit = row["code"], row.get("name", ""), row["unit"]
        before = len(problems)
        _check(problems, number, "编码", check_code, code, "code")
        _check(problems, number, "名称", check_text, name, "name", name_length_max)
        kind = ITEM_KINDS.get(row["kind"].strip().lower())
        if kind is None:
            problems.append(
                Problem(number, "类别", f"不认识的类别 {row['kind']!r}：应为 宣传品 或 药具")
            )
        category = row.get("variety", "") or (KIND_WORDS[kind] if kind else "")
        if category or kind:  # an unknown 类别 with no 品种 is reported once, above
            _check(problems, number, "品种", check_text, category, "category", category_length_max)
        if unit not in BASE_UNITS:
            problems.append(
                Problem(number, "单位", f"不认识的单位 {unit!r}（认得：{'、'.join(BASE_UNITS)}）")
            )
        packs, errors = parse_packs(row.get("packs", ""), unit)
        problems.extend(Problem(number, "包装", e) for e in errors)
        flag = row.get("tracks_expiry", "").strip().lower()
        if flag not in YES | NO:
            problems.append(
                Problem(number, "有效期管理", f"有效期管理应填 是 或 否，不是 {flag!r}")
            )
        if code in first_row:
            problems.append(Problem(number, "编码", f"编码 {code} 与第 {first_row[code]} 行重复"))
        if len(problems) > before:
            continue
        first_row[code] = number
        item = Item(code, name, kind, category, unit, packs, flag in YES)
        known = stored.get(code)
        if known is None:
            new.append((number, item))
        elif known != item:
            if (known.kind, known.expiry_tracked) != (item.kind, item.expiry_tracked):
                problems.append(
                    Problem(
                        number,
                        "类别",
                        f"物资 {code} 已存在，其类别和有效期管理不能改"
                        f"（账本中：{KIND_WORDS[known.kind]}，有效期管理"
                        f"{'是' if known.expiry_tracked else '否'}）",
                    )
                )
                continue
            changed.append((number, known, item))
    return problems, new, changed


# ---- the import -------------------------------------------------------------------------------


def import_file(
    database: Database,
    kind: str,
    path: Path,
    clock: Callable[[], dt.date] = office_today,
    progress: Callable[[int], object] | None = None,
    length: Callable[[int], object] | None = None,
    actor: int | None = None,
) -> Imported:
    """Check `path` whole, then write it in one database transaction (or raise ImportInvalid).

    `length(n)` is told how many rows will be written; `progress(1)` is called per row."""
    if kind not in KINDS:
        raise LedgerError(Code.invalid_usage, f"只能导入 locations 或 items，不是 {kind!r}", "kind")
    rows = records(kind, read_table(path))
    today = clock()
    reason = f"导入 {path.name}"

    def work(store: LedgerStore) -> Imported:
        store = store.acting(actor, today)
        if kind == "locations":
            problems, new, changed = plan_locations(rows, _stored_locations(store))
        else:
            problems, new, changed = plan_items(rows, _stored_items(store))
        if problems:
            raise ImportInvalid(sorted(problems), len(rows))
        if length is not None:
            length(len(new) + len(changed))
        added, updated = [], []
        for number, thing in new:
            command = c.AddLocation(thing) if kind == "locations" else c.AddItem(thing)
            _at_row(number, run_command, store, command, today)
            added.append(thing.code)
            if progress:
                progress(1)
        for number, old, thing in changed:
            if kind == "locations":
                change = LocationChange(
                    reason,
                    name=thing.name,
                    parent_code=thing.parent_code,
                )
                _at_row(number, change_location, store, thing.code, change, actor, today)
                what = [
                    f"{label} {a or '—'} → {b or '—'}"
                    for label, a, b in (
                        ("名称", old.name, thing.name),
                        ("上级", old.parent_code, thing.parent_code),
                    )
                    if a != b
                ]
            else:
                item_change = ItemChange(
                    reason,
                    name=thing.name,
                    category=thing.category,
                    base_unit=thing.base_unit,
                    packs=thing.packs,
                )
                _at_row(number, change_item, store, thing.code, item_change, actor, today)
                what = [
                    f"{label} {a} → {b}"
                    for label, a, b in (
                        ("名称", old.name, thing.name),
                        ("品种", old.category, thing.category),
                        ("单位", old.base_unit, thing.base_unit),
                        ("包装", _packs_text(old.packs), _packs_text(thing.packs)),
                    )
                    if a != b
                ]
            updated.append(f"{thing.code} {'；'.join(what)}")
            if progress:
                progress(1)
        return Imported(kind, added, updated, len(rows) - len(added) - len(updated))

    return database.write(work)


def _at_row(number: int, action: Callable[..., object], *args) -> None:
    """A refusal from a use case while writing: the whole import is rolled back, and the row
    is named."""
    try:
        action(*args)
    except ImportInvalid:
        raise
    except LedgerError as error:
        raise ImportInvalid([Problem(number, error.field or "", error.message)], 0) from None


def _packs_text(packs: tuple[Pack, ...]) -> str:
    return "; ".join(f"{p.name}={p.base_units}" for p in packs) or "—"


# ---- templates --------------------------------------------------------------------------------

EXPLAIN = {
    "locations": [
        ("编码", "code", "必填", "库点编码，最好用行政区划代码，如 510121；只用字母、数字和 - _ ."),
        ("名称", "name", "必填", "库点名称，如 金堂县、赵家镇、平水村"),
        (
            "上级编码",
            "parent_code",
            "市以外必填",
            "上级库点的编码；上级可以已在账本中，也可以写在本文件中",
        ),
        (
            "级别",
            "level",
            "必填",
            "市、区县、乡镇 或 村；村的上级是乡镇，乡镇的上级是区县，区县的上级是市",
        ),
        (
            "人口",
            "population",
            "选填",
            "只作核对，账本目前不保存人口（分配计划的权重在分配时给出）",
        ),
    ],
    "items": [
        ("编码", "code", "必填", "物资编码，如 NH2014；只用字母、数字和 - _ ."),
        ("名称", "name", "必填", "物资名称，如 2014年慰问独生子女家庭户单张年画"),
        ("类别", "category", "必填", "宣传品 或 药具"),
        ("品种", "variety", "选填", "如 年画、挂图、避孕套；不填则用类别"),
        ("单位", "unit", "必填", "数量的基本单位：" + "、".join(BASE_UNITS)),
        (
            "包装",
            "packs",
            "选填",
            "包装与基本单位的换算，如 捆=500; 箱=10000；一套4张的挂图：单位 张，包装 套=4",
        ),
        ("有效期管理", "tracks_expiry", "选填", "是 或 否（不填为否）；药具一般填 是"),
    ],
}


def template(kind: str) -> bytes:
    """An empty workbook with the headers, a second sheet explaining each column, and lists
    to choose from for 级别 / 类别 / 单位 / 有效期管理."""
    from openpyxl import Workbook
    from openpyxl.worksheet.datavalidation import DataValidation

    if kind not in KINDS:
        raise LedgerError(Code.invalid_usage, f"模板只有 locations 或 items，不是 {kind!r}", "kind")
    book = Workbook()
    sheet = book.active
    sheet.title = "库点" if kind == "locations" else "物资"
    columns = EXPLAIN[kind]
    sheet.append([chinese for chinese, *_ in columns])
    choices = {
        "级别": list(LEVEL_WORDS.values()),
        "类别": ["宣传品", "药具"],
        "单位": list(BASE_UNITS),
        "有效期管理": ["是", "否"],
    }
    for index, (chinese, *_rest) in enumerate(columns):
        letter = chr(ord("A") + index)
        sheet.column_dimensions[letter].width = 16
        if chinese in choices:
            validation = DataValidation(
                type="list",
                formula1='"' + ",".join(choices[chinese]) + '"',
                allow_blank=chinese == "有效期管理",
                showErrorMessage=True,
                errorTitle=f"{chinese}不对",
                error=f"请从下拉列表中选：{'、'.join(choices[chinese])}",
            )
            validation.add(f"{letter}2:{letter}100000")
            sheet.add_data_validation(validation)
    help_sheet = book.create_sheet("说明")
    help_sheet.append(["列名", "英文列名", "是否必填", "说明"])
    for row in columns:
        help_sheet.append(list(row))
    help_sheet.column_dimensions["D"].width = 80
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
