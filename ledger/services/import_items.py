"""物资 from a spreadsheet: `ledger import items FILE` (see docs/import.md).

Each new item is added through `add_item` (version 1 and an `item.add` log entry); a changed
name, 品种, unit or packs of a stored one is a new version through `ledger.services.reference`
(`item.change`); its 类别 and 有效期管理 never change. Items are shared by every city: a city's
admin adds items over the API but changes none (a global admin does).
"""

from __future__ import annotations

import datetime as dt
import re

from ledger import commands as c
from ledger.db.store import LedgerStore
from ledger.limits import (
    category_length_max,
    name_length_max,
    packs_per_item_max,
    quantity_per_line_max,
)
from ledger.model import Item, ItemKind, Pack
from ledger.rules import check_text
from ledger.services.checks import check_code
from ledger.services.import_common import (
    ColumnSpec,
    Imported,
    ImportInvalid,
    OutsideScope,
    Problem,
    Progress,
    Rows,
    at_row,
    check,
    stored_items,
)
from ledger.services.import_templates import BASE_UNITS, PACK_UNITS
from ledger.services.ledger import run_command
from ledger.services.reference_corrections import change_item
from ledger.services.reference_models import ItemChange

ITEM_COLUMNS: ColumnSpec = {
    "code": ("编码", "code", ("物资编码",), True),
    "name": ("名称", "name", ("物资名称",), True),
    "kind": ("类别", "category", ("kind", "大类"), True),
    "variety": ("品种", "variety", ("分类", "subcategory"), False),
    "unit": ("单位", "unit", ("基本单位", "base_unit"), True),
    "packs": ("包装", "packs", (), False),
    "tracks_expiry": ("有效期管理", "tracks_expiry", ("expiry_tracked",), False),
}
ITEM_KINDS = {
    "宣传品": ItemKind.printed,
    "printed": ItemKind.printed,
    "药具": ItemKind.contraceptive,
    "计生药具": ItemKind.contraceptive,
    "contraceptive": ItemKind.contraceptive,
}
KIND_WORDS = {ItemKind.printed: "宣传品", ItemKind.contraceptive: "药具"}
YES = {"是", "yes", "y", "true", "1", "需要"}
NO = {"否", "no", "n", "false", "0", "不需要", ""}
PACK_ENTRY = re.compile(r"^\s*([^=＝\s]+)\s*[=＝]\s*([0-9]+)\s*$")

# ---- items ------------------------------------------------------------------------------------


def parse_packs(text: str, unit: str) -> tuple[tuple[Pack, ...], list[str]]:
    """`捆=500; 箱=10000` → packs, or the reasons it cannot be read."""
    packs: list[Pack] = []
    errors: list[str] = []
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
        elif not 2 <= units <= quantity_per_line_max:
            errors.append(
                f"包装 {name} 的数量应是 2 到 {quantity_per_line_max} 之间的整数，不是 {units}"
            )
        else:
            packs.append(Pack(name, units))
    if len(packs) > packs_per_item_max:
        errors.append(f"包装最多 {packs_per_item_max} 种")
    return tuple(packs), errors


def plan_items(
    rows: Rows, stored: dict[str, Item]
) -> tuple[list[Problem], list[tuple[int, Item]], list[tuple[int, Item, Item]]]:
    problems: list[Problem] = []
    first_row: dict[str, int] = {}
    new, changed = [], []
    for number, row in rows:
        code, name, unit = row["code"], row.get("name", ""), row["unit"]
        before = len(problems)
        check(problems, number, "编码", check_code, code, "编码")
        check(problems, number, "名称", check_text, name, "名称", name_length_max)
        kind = ITEM_KINDS.get(row["kind"].strip().lower())
        if kind is None:
            problems.append(
                Problem(number, "类别", f"不认识的类别 {row['kind']!r}：应为 宣传品 或 药具")
            )
        category = row.get("variety", "") or (KIND_WORDS[kind] if kind else "")
        if category or kind:  # an unknown 类别 with no 品种 is reported once, above
            check(problems, number, "品种", check_text, category, "品种", category_length_max)
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
        assert kind is not None  # an unknown kind is a problem of the row
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


# ---- writing ----------------------------------------------------------------------------------


def import_items(
    store: LedgerStore,
    name: str,
    rows: Rows,
    actor: int | None,
    today: dt.date,
    scope: str | None,
    progress: Progress | None,
    length: Progress | None,
) -> Imported:
    problems, new, changed = plan_items(rows, stored_items(store))
    if scope is not None and changed:
        raise OutsideScope(
            [number for number, _, _ in changed],
            "改动已有物资：物资为各市共用，只有全局管理员能修改 "
            "(items are shared by every city: a global admin changes them)",
        )
    if problems:
        raise ImportInvalid(sorted(problems), len(rows))
    if length is not None:
        length(len(new) + len(changed))
    added, updated = [], []
    for number, item in new:
        at_row(number, run_command, store, c.AddItem(item), today)
        added.append(item.code)
        if progress:
            progress(1)
    for number, old, item in changed:
        change = ItemChange(
            f"导入 {name}",
            name=item.name,
            category=item.category,
            base_unit=item.base_unit,
            packs=item.packs,
        )
        at_row(number, change_item, store, item.code, change, actor, today)
        what = [
            f"{label} {a} → {b}"
            for label, a, b in (
                ("名称", old.name, item.name),
                ("品种", old.category, item.category),
                ("单位", old.base_unit, item.base_unit),
                ("包装", _packs_text(old.packs), _packs_text(item.packs)),
            )
            if a != b
        ]
        updated.append(f"{item.code} {'；'.join(what)}")
        if progress:
            progress(1)
    return Imported("items", len(rows), added, updated, len(rows) - len(added) - len(updated))


def _packs_text(packs: tuple[Pack, ...]) -> str:
    return "; ".join(f"{p.name}={p.base_units}" for p in packs) or "—"
