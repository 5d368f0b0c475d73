"""库点 from a spreadsheet: `ledger import locations FILE` (see docs/import.md).

Each new location is added through `add_location` (version 1 and a `location.add` log entry),
parents before their children; a changed name or parent of a stored one is a new version
through `ledger.services.reference` (`location.change`); a changed 人口 (population) is written
on the location and logged (`location.population`): a planning figure, the default weight of a
share in an allocation plan, not versioned content. A row as stored is left alone.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from ledger import commands as c
from ledger.db import import_rows, oplog
from ledger.db.store import LedgerStore
from ledger.limits import name_length_max, population_max
from ledger.model import Location, LocationLevel
from ledger.rules import check_text
from ledger.services.additions import PARENT_LEVEL
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
)
from ledger.services.ledger import run_command
from ledger.services.reference_corrections import change_location
from ledger.services.reference_models import LocationChange

LOCATION_COLUMNS: ColumnSpec = {
    "code": ("编码", "code", ("库点编码", "行政区划代码"), True),
    "name": ("名称", "name", ("库点名称",), True),
    "parent_code": ("上级编码", "parent_code", ("上级", "parent"), False),
    "level": ("级别", "level", ("层级",), True),
    "population": ("人口", "population", ("人口数",), False),
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

# ---- locations --------------------------------------------------------------------------------


class StoredLocations(NamedTuple):
    """The ledger's physical locations: as Location, with their paths and populations."""

    locations: dict[str, Location]
    paths: dict[str, str]
    populations: dict[str, int | None]


def _stored_locations(store: LedgerStore) -> StoredLocations:
    rows = import_rows.physical_locations(store)
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
        ok = check(problems, number, "编码", check_code, code, "编码")
        ok &= check(problems, number, "名称", check_text, name, "名称", name_length_max)
        level = LEVELS.get(row["level"].strip().lower())
        if level is None:
            problems.append(
                Problem(number, "级别", f"不认识的级别 {row['level']!r}：应为 市、区县、乡镇 或 村")
            )
            ok = False
        population = row.get("population", "").strip().replace(",", "")
        if population and not (population.isdecimal() and int(population) <= population_max):
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
            assert level is not None  # a row without a known level is not ok
            first_row[code] = number
            wanted[code] = (number, Location(code, name, level, parent_code))
            if population.isdecimal():
                populations[code] = int(population)
    for code, (number, location) in wanted.items():
        problem = _tree_problem(number, location, stored.get(code), wanted, stored)
        if problem is not None:
            problems.append(problem)
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


def _tree_problem(
    number: int,
    location: Location,
    known: Location | None,
    wanted: dict[str, tuple[int, Location]],
    stored: dict[str, Location],
) -> Problem | None:
    """Where a row's location sits in the tree: its level unchanged if stored, a city at the
    root (and already in the ledger), anything else under a parent of the level above that is
    in the ledger or in the file."""
    code = location.code
    expected = PARENT_LEVEL[location.level]
    if known is not None and known.level is not location.level:
        return Problem(
            number,
            "级别",
            f"库点 {code} 已是{LEVEL_WORDS.get(known.level, known.level.value)}，"
            f"不能改成{LEVEL_WORDS[location.level]}",
        )
    if expected is None:
        if location.parent_code is not None:
            return Problem(number, "上级编码", "市是最上级库点，不能有上级编码")
        if known is None:
            return Problem(
                number,
                "编码",
                f"市 {code} 不在账本中，导入不建新的市：请全局管理员先用 POST /api/v1/locations "
                "建立（level 为 city，不填 parent_code），再导入它下面的库点 (a new city is "
                "added by a global admin, not by an import)",
            )
        return None
    if location.parent_code is None:
        return Problem(number, "上级编码", f"{LEVEL_WORDS[location.level]}必须填写上级编码")
    parent = wanted.get(location.parent_code)
    parent_location = parent[1] if parent else stored.get(location.parent_code)
    if parent_location is None:
        return Problem(
            number,
            "上级编码",
            f"上级编码 {location.parent_code} 既不在账本中，也不在本文件中",
        )
    if parent_location.level is not expected:
        return Problem(
            number,
            "级别",
            f"级别顺序不对：{LEVEL_WORDS[location.level]}的上级应是{LEVEL_WORDS[expected]}，"
            f"{location.parent_code} {parent_location.name} 是"
            f"{LEVEL_WORDS.get(parent_location.level, parent_location.level.value)}",
        )
    return None


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


# ---- writing ----------------------------------------------------------------------------------


def import_locations(
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
        at_row(number, run_command, store, c.AddLocation(location), today)
        added.append(location.code)
        if progress:
            progress(1)
    for number, old, location in plan.changed:
        # A city's parent_code is None, as stored: the change keeps it (the API's body cannot
        # say null, so the type does not name it).
        change = LocationChange(reason, name=location.name, parent_code=location.parent_code)  # type: ignore[arg-type]
        at_row(number, change_location, store, location.code, change, actor, today)
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
    import_rows.set_populations(store, values)
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
