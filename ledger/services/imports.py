"""Master data from spreadsheets: `ledger import locations|items|opening-balances FILE` and
`POST /api/v1/imports/{kind}` (see docs/import.md).

A file (.xlsx, or .csv in UTF-8 with or without a BOM; headers in Chinese or English) is read
and checked whole before anything is written: every problem is collected with its row number
and a Chinese message, and then nothing is imported. A clean file is written in one database
transaction through the ledger's own use cases (`add_location` / `add_item`: version 1 and an
operations-log entry each; a changed name or parent of an existing location, or a changed
name, category, unit or packs of an existing item, through `ledger.services.reference`: a new
version and a log entry; a changed 人口 of a location: a log entry, population being a planning
figure outside the versioned content). A row identical to what is stored is skipped, so the
same file imported twice changes nothing the second time. Opening balances: see
`ledger.services.import_opening`.

An import that changed something also leaves one `import.<kind>` entry in the operations log
(per city it touched) naming the file and what it did.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import msgspec
from sqlalchemy import bindparam, select, update

from ledger import commands as c
from ledger.db import oplog
from ledger.db import tables as t
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database
from ledger.model import Item, ItemKind, Location, LocationLevel, Pack
from ledger.rules import Code, LedgerError, category_length_max, check_text, name_length_max
from ledger.services.import_common import (
    ColumnSpec,
    Imported,
    ImportInvalid,
    OutsideScope,
    Problem,
    Progress,
    Rows,
    check,
    read_table,
    records,
    root_paths,
    stored_items,
    table_of,
)
from ledger.services.import_templates import BASE_UNITS, PACK_UNITS, template
from ledger.services.ledger import PARENT_LEVEL, check_code, run_command
from ledger.services.reference import ItemChange, LocationChange, change_item, change_location
from ledger.settings import office_today

__all__ = ["ImportInvalid", "Imported", "OutsideScope", "Problem", "import_file", "template"]

KINDS = ("locations", "items", "opening-balances")

LOCATION_COLUMNS: ColumnSpec = {
    "code": ("编码", "code", ("库点编码", "行政区划代码"), True),
    "name": ("名称", "name", ("库点名称",), True),
    "parent_code": ("上级编码", "parent_code", ("上级", "parent"), False),
    "level": ("级别", "level", ("层级",), True),
    "population": ("人口", "population", ("人口数",), False),
}
ITEM_COLUMNS: ColumnSpec = {
    "code": ("编码", "code", ("物资编码",), True),
    "name": ("名称", "name", ("物资名称",), True),
    "kind": ("类别", "category", ("kind", "大类"), True),
    "variety": ("品种", "variety", ("分类", "subcategory"), False),
    "unit": ("单位", "unit", ("基本单位", "base_unit"), True),
    "packs": ("包装", "packs", (), False),
    "tracks_expiry": ("有效期管理", "tracks_expiry", ("expiry_tracked",), False),
}

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
YES = {"是", "yes", "y", "true", "1", "需要"}
NO = {"否", "no", "n", "false", "0", "不需要", ""}
PACK_ENTRY = re.compile(r"^\s*([^=＝\s]+)\s*[=＝]\s*([0-9]+)\s*$")
packs_max = 10
population_max = 2_000_000_000

# ---- locations --------------------------------------------------------------------------------


class StoredLocations(NamedTuple):
    """The ledger's physical locations: as Location, with their paths and populations."""

    locations: dict[str, Location]
    paths: dict[str, str]
    populations: dict[str, int | None]


def _stored_locations(store: LedgerStore) -> StoredLocations:
    loc = t.locations.c
    parent = t.locations.alias("parent")
    rows = store.connection.execute(
        select(
            loc.code,
            loc.name,
            loc.level,
            parent.c.code.label("parent_code"),
            loc.path,
            loc.population,
        )
        .select_from(t.locations.outerjoin(parent, parent.c.id == loc.parent_id))
        .where(loc.physical.is_(True))
    ).all()
    return StoredLocations(
        {r.code: Location(r.code, r.name, LocationLevel(r.level), r.parent_code) for r in rows},
        {r.code: r.path for r in rows},
        {r.code: r.population for r in rows},
    )


class LocationPlan(NamedTuple):
    """What a locations file asks for: its problems, the new locations (parents first), the
    changed names or parents (row, stored, wanted), the changed populations of stored
    locations (row, code, before, after), the populations of new ones, and every row's
    location."""

    problems: list[Problem]
    new: list[tuple[int, Location]]
    changed: list[tuple[int, Location, Location]]
    population_changes: list[tuple[int, str, int | None, int]]
    new_populations: dict[str, int]
    wanted: dict[str, tuple[int, Location]]


def plan_locations(rows: Rows, held: StoredLocations) -> LocationPlan:
    """Check every row against the file and the ledger."""
    stored = held.locations
    problems: list[Problem] = []
    wanted: dict[str, tuple[int, Location]] = {}
    populations: dict[str, int] = {}
    first_row: dict[str, int] = {}
    for number, row in rows:
        code, name = row["code"], row.get("name", "")
        parent_code = row.get("parent_code", "") or None
        ok = check(problems, number, "编码", check_code, code, "code")
        ok &= check(problems, number, "名称", check_text, name, "name", name_length_max)
        level = LEVELS.get(row["level"].strip().lower())
        if level is None:
            problems.append(
                Problem(number, "级别", f"不认识的级别 {row['level']!r}：应为 市、区县、乡镇 或 村")
            )
            ok = False
        population = row.get("population", "").strip().replace(",", "")
        if population and not (population.isdigit() and int(population) <= population_max):
            problems.append(
                Problem(
                    number,
                    "人口",
                    f"人口应为 0 到 {population_max} 之间的整数，不是 {row['population']!r}",
                )
            )
        if ok and code in first_row:
            problems.append(Problem(number, "编码", f"编码 {code} 与第 {first_row[code]} 行重复"))
            continue
        if ok:
            first_row[code] = number
            wanted[code] = (number, Location(code, name, level, parent_code))
            if population.isdigit():
                populations[code] = int(population)
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
    population_changes = [
        (wanted[code][0], code, held.populations[code], population)
        for code, population in populations.items()
        if code in stored and held.populations[code] != population
    ]
    new_populations = {code: p for code, p in populations.items() if code not in stored}
    return LocationPlan(problems, new, changed, population_changes, new_populations, wanted)


def locations_outside(plan: LocationPlan, known: StoredLocations, scope: str) -> list[int]:
    """The rows of a locations file that reach outside the subtree `scope` ('/510100/'): a
    stored location elsewhere, or a new or moved one whose parent (through the file) is."""
    paths: dict[str, str | None] = {}

    def path_of(code: str, seen: frozenset[str] = frozenset()) -> str | None:
        if code in paths:
            return paths[code]
        wanted = plan.wanted.get(code)
        if wanted is None or code in seen:
            found = known.paths.get(code)
        elif wanted[1].parent_code is None:
            found = known.paths.get(code, f"/{code}/")
        else:
            parent = path_of(wanted[1].parent_code, seen | {code})
            found = None if parent is None else f"{parent}{code}/"
        paths[code] = found
        return found

    outside = []
    for code, (number, _location) in plan.wanted.items():
        stored = known.paths.get(code)
        path = path_of(code)
        if (stored is not None and not stored.startswith(scope)) or (
            path is not None and not path.startswith(scope)
        ):
            outside.append(number)
    return outside


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


def plan_items(
    rows: Rows, stored: dict[str, Item]
) -> tuple[list[Problem], list[tuple[int, Item]], list[tuple[int, Item, Item]]]:
    problems: list[Problem] = []
    first_row: dict[str, int] = {}
    new, changed = [], []
    for number, row in rows:
        code, name, unit = row["code"], row.get("name", ""), row["unit"]
        before = len(problems)
        check(problems, number, "编码", check_code, code, "code")
        check(problems, number, "名称", check_text, name, "name", name_length_max)
        kind = ITEM_KINDS.get(row["kind"].strip().lower())
        if kind is None:
            problems.append(
                Problem(number, "类别", f"不认识的类别 {row['kind']!r}：应为 宣传品 或 药具")
            )
        category = row.get("variety", "") or (KIND_WORDS[kind] if kind else "")
        if category or kind:  # an unknown 类别 with no 品种 is reported once, above
            check(problems, number, "品种", check_text, category, "category", category_length_max)
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
    progress: Progress | None = None,
    length: Progress | None = None,
    actor: int | None = None,
    as_of: dt.date | None = None,
) -> Imported:
    """Check the file at `path` whole, then write it in one database transaction (or raise
    ImportInvalid). See `import_data`."""
    check_kind(kind)
    return import_data(
        database,
        kind,
        path.name,
        read_table(path),
        clock=clock,
        progress=progress,
        length=length,
        actor=actor,
        as_of=as_of,
    )


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise LedgerError(Code.invalid_usage, f"只能导入 {'、'.join(KINDS)}，不是 {kind!r}", "kind")


def import_upload(
    database: Database,
    kind: str,
    name: str,
    data: bytes,
    actor: int | None,
    scope: str | None,
    clock: Callable[[], dt.date] = office_today,
    as_of: dt.date | None = None,
) -> Imported:
    """A file sent over the API (its name gives the format), as user `actor` whose reach is
    the subtree `scope` (None: everywhere)."""
    check_kind(kind)
    return import_data(
        database,
        kind,
        name,
        table_of(name, data),
        clock=clock,
        actor=actor,
        as_of=as_of,
        scope=scope,
    )


def import_data(
    database: Database,
    kind: str,
    name: str,
    table: list[list[str]],
    *,
    clock: Callable[[], dt.date] = office_today,
    progress: Progress | None = None,
    length: Progress | None = None,
    actor: int | None = None,
    as_of: dt.date | None = None,
    scope: str | None = None,
) -> Imported:
    """Check the rows of file `name` whole, then write them in one database transaction (or
    raise ImportInvalid, or OutsideScope when a row reaches outside `scope`).

    `length(n)` is told how many rows will be written; `progress(k)` is called as k more are."""
    if kind == "opening-balances":
        from ledger.services.import_opening import OPENING_COLUMNS, import_openings

        if as_of is None:
            raise LedgerError(
                Code.invalid_usage, "期初余额需要建账日期 --as-of (as_of is required)", "as_of"
            )
        rows = records(OPENING_COLUMNS, table)
        return import_openings(database, name, rows, as_of, clock(), actor, scope, progress, length)
    rows = records(LOCATION_COLUMNS if kind == "locations" else ITEM_COLUMNS, table)
    today = clock()

    def work(store: LedgerStore) -> Imported:
        store = store.acting(actor, today)
        if kind == "locations":
            done = _import_locations(store, name, rows, actor, today, scope, progress, length)
        else:
            done = _import_items(store, name, rows, actor, today, scope, progress, length)
        if done.changed:
            log_import(store, done, name, scope, [])
        return done

    return database.write(work)


def _import_locations(
    store: LedgerStore,
    name: str,
    rows: Rows,
    actor: int | None,
    today: dt.date,
    scope: str | None,
    progress: Progress | None,
    length: Progress | None,
) -> Imported:
    known = _stored_locations(store)
    plan = plan_locations(rows, known)
    if scope is not None:
        outside = locations_outside(plan, known, scope)
        if outside:
            raise OutsideScope(outside, "的库点不在您所在市的账内 (rows outside your city)")
    if plan.problems:
        raise ImportInvalid(sorted(plan.problems), len(rows))
    if length is not None:
        length(len(plan.new) + len(plan.changed) + len(plan.population_changes))
    reason = f"导入 {name}"
    added, updated = [], {}
    for number, location in plan.new:
        _at_row(number, run_command, store, c.AddLocation(location), today)
        added.append(location.code)
        if progress:
            progress(1)
    for number, old, location in plan.changed:
        change = LocationChange(reason, name=location.name, parent_code=location.parent_code)
        _at_row(number, change_location, store, location.code, change, actor, today)
        updated[location.code] = [
            f"{label} {a or '—'} → {b or '—'}"
            for label, a, b in (
                ("名称", old.name, location.name),
                ("上级", old.parent_code, location.parent_code),
            )
            if a != b
        ]
        if progress:
            progress(1)
    _set_populations(store, plan, actor)
    for _number, code, before, after in plan.population_changes:
        updated.setdefault(code, []).append(
            f"人口 {before if before is not None else '—'} → {after}"
        )
    if progress and plan.population_changes:
        progress(len(plan.population_changes))
    unchanged = len(rows) - len(added) - len(updated)
    return Imported(
        "locations",
        len(rows),
        added,
        [f"{code} {'；'.join(what)}" for code, what in updated.items()],
        unchanged,
    )


def _set_populations(store: LedgerStore, plan: LocationPlan, actor: int | None) -> None:
    """人口: written on the location (new ones with their row; a stored one's change logged as
    `location.population`). Not versioned: a planning figure, not what the ledger's history is
    read with."""
    values = dict(plan.new_populations)
    values.update({code: after for _, code, _, after in plan.population_changes})
    if not values:
        return
    store.flush()
    loc = t.locations.c
    store.connection.execute(
        update(t.locations)
        .where(loc.code == bindparam("location_code"))
        .values(population=bindparam("value")),
        [{"location_code": code, "value": value} for code, value in values.items()],
    )
    for _number, code, before, after in plan.population_changes:
        oplog.record(
            store,
            "location.population",
            "location",
            code,
            user_id=actor,
            before={"population": before},
            after={"population": after},
            location_path=store.location(code).path,
        )


def _import_items(
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
        _at_row(number, run_command, store, c.AddItem(item), today)
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
        _at_row(number, change_item, store, item.code, change, actor, today)
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
    roots = root_paths(paths) or ([scope] if scope else [None])
    for root in roots:
        oplog.record(
            store,
            f"import.{done.kind}",
            "import",
            name[:200],
            user_id=store.maker_id,
            after=msgspec.to_builtins(summary),
            location_path=root,
        )


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
