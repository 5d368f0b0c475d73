"""印制计划 (print-run plan) for a new 年画 or 挂图: how many copies each place of an office's
area should get to reach a coverage target (进村入户), in whole packs, and how many to print.

The offices state their targets per household, per person or per place (seeds: 慰问独生子女家庭户
单张年画 one sheet a household, 宣传品进村入户达100%, 户户有品; a 挂图 set of 4 张 on every
village's notice board; 健康教育覆盖辖区人口的60%以上). So a `Target` is `copies` base units for
every `per` units of a basis (户 households, 人 persons, 个 places at the target level), for
`coverage_percent` of them:

- households of a place = ⌈population ÷ household size⌉ (a part household is a household);
  persons = population; places = 1 (0 where the population is recorded as 0: nobody lives
  there);
- need = ⌈units × coverage% × copies ÷ per⌉ base units, then rounded **up** to whole packs at
  each place (a 挂图 set is never split, a village never gets part of a 捆);
- each place above the target level (the office included) may keep a spare (机动) of
  `spare_percent` of the target quantity of its subtree, rounded up to whole packs;
- total = every place's quantity; to print = total − the stock on hand at the office (what
  will ship with the print run), rounded up to whole packs, never negative.

Pure: no I/O. Where the places come from and where a plan is kept is ledger/services/
print_plans.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import StrEnum
from fractions import Fraction
from typing import NamedTuple

from ledger.allocation import Share
from ledger.limits import print_copies_max, print_plan_places_max
from ledger.rules import Code, LedgerError


class Basis(StrEnum):
    """What a coverage target counts: households (户), persons (人) or places (个)."""

    household = "household"
    person = "person"
    place = "place"


BASIS_NAMES = {Basis.household: "户", Basis.person: "人", Basis.place: "个"}
BASIS_COLUMNS = {Basis.household: "户数", Basis.person: "人数", Basis.place: "库点数"}

# 人/户: the average size of a family household in the 2020 census (第七次全国人口普查 2.62).
# An office with its own figure gives it (two decimals at most).
HOUSEHOLD_SIZE_DEFAULT = Fraction(262, 100)
HOUSEHOLD_SIZE_MAX = Fraction(10)

# The tree's levels from the top; a plan's target level lies below its office's.
LEVELS = ("city", "county", "township", "village")


class Target(NamedTuple):
    """The coverage target: `copies` base units for every `per` units of `basis`, for
    `coverage_percent` (1–100) of them. 年画 one a household: (household, 1); 挂图 one set of
    4 张 a village: (place, 4); 叠页 one for every 3 persons: (person, 1, 3)."""

    basis: Basis
    copies: int
    per: int = 1
    coverage_percent: int = 100


class Place(NamedTuple):
    """A place of the office's area: parent_code None for the office itself; population
    None when none is recorded."""

    code: str
    name: str
    parent_code: str | None
    level: str
    population: int | None


class PrintLine(NamedTuple):
    """One place of the plan. target: a place at the target level (else one above it that
    keeps a spare). units: its households, persons or 1 (targets; 0 above). need: base units
    before rounding to packs (the spare asked, above). packs, quantity: what the place itself
    gets, in whole packs and base units. subtree: quantity of the place and all below it."""

    location_code: str
    location_name: str
    parent_code: str | None
    level: str
    target: bool
    population: int | None
    units: int
    need: int
    packs: int
    quantity: int
    subtree: int


class PrintPlan(NamedTuple):
    """lines: every place, the office first, in tree order. total: base units for the whole
    area (the office's subtree). on_hand: the office's stock set against it. to_print:
    total − on_hand, rounded up to whole packs, never negative."""

    lines: tuple[PrintLine, ...]
    pack_base_units: int
    total: int
    on_hand: int
    to_print: int


def _refuse(message: str, field: str) -> LedgerError:
    return LedgerError(Code.print_plan_target_invalid, message, field)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_target(target: Target, spare_percent: int, household_size: Fraction) -> None:
    """Refuse a target, spare or household size a plan cannot use (print_plan_target_invalid)."""
    if target.basis not in BASIS_NAMES:
        raise _refuse(f"覆盖基数只能是 household、person 或 place：{target.basis}", "basis")
    for value, field, low, high in (
        (target.copies, "copies", 1, print_copies_max),
        (target.per, "per", 1, 1_000_000),
        (target.coverage_percent, "coverage_percent", 1, 100),
        (spare_percent, "spare_percent", 0, 100),
    ):
        if not _whole(value) or not low <= value <= high:
            raise _refuse(f"{field} 须为 {low} 到 {high} 之间的整数：{value}", field)
    if not 1 <= household_size <= HOUSEHOLD_SIZE_MAX or (household_size * 100).denominator != 1:
        raise _refuse(
            f"户均人数须在 1 到 {HOUSEHOLD_SIZE_MAX} 之间，最多两位小数：{household_size}",
            "household_size",
        )


def basis_of(text: str) -> Basis:
    """The basis named `text` (household, person, place), else print_plan_target_invalid."""
    try:
        return Basis(text)
    except ValueError:
        raise _refuse(f"覆盖基数只能是 household、person 或 place：{text}", "basis") from None


def household_size_of(value: str | float) -> Fraction:
    """Persons per household from a decimal such as 2.62 (at most two places), as text or as a
    number (a JSON number: read by its shortest decimal form, so 2.62 is 2.62 exactly and
    2.625 keeps its third place and is refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = str(value).strip()
    else:  # 3 → "3", 2.62 → "2.62", 1e-07 → "1e-07" (refused)
        text = repr(float(value)).removesuffix(".0")
    if isinstance(value, bool) or not re.fullmatch(r"[0-9]{1,2}(\.[0-9]{1,2})?", text):
        raise _refuse(f"户均人数须为数字，最多两位小数，如 2.62：{text}", "household_size")
    return Fraction(text)


def units_of(population: int | None, basis: Basis, household_size: Fraction) -> int:
    """Households (⌈population ÷ size⌉), persons, or 1 place (0 where nobody lives)."""
    if basis is Basis.place:
        return 0 if population == 0 else 1
    people = population or 0
    if basis is Basis.person:
        return people
    return -(-people // household_size)


def need_of(units: int, target: Target) -> int:
    """⌈units × coverage% × copies ÷ per⌉ base units."""
    return -(-units * target.coverage_percent * target.copies // (100 * target.per))


def packs_for(quantity: int, pack_base_units: int) -> int:
    """Whole packs that hold at least `quantity` base units."""
    return -(-quantity // pack_base_units)


def _check_places(places: Sequence[Place], level: str, target: Target) -> None:
    if not places or places[0].parent_code is not None:
        raise _refuse("计划须从本单位开始 (the office comes first)", "office_code")
    office = places[0]
    if level not in LEVELS or office.level not in LEVELS:
        raise _refuse(f"目标级别只能是 county、township 或 village：{level}", "level")
    if LEVELS.index(level) <= LEVELS.index(office.level):
        raise _refuse(
            f"目标级别 {level} 须低于本单位 {office.name}（{office.level}）(level below the office)",
            "level",
        )
    if len(places) > print_plan_places_max:
        raise LedgerError(
            Code.too_many_lines,
            f"一个印制计划最多 {print_plan_places_max} 个库点 (at most {print_plan_places_max})",
            "office_code",
        )
    targets = [p for p in places if p.level == level]
    if not targets:
        raise LedgerError(
            Code.print_plan_empty, f"{office.name} 之下没有 {level} 级库点 (no places)", "level"
        )
    if target.basis is not Basis.place:
        missing = [p for p in targets if p.population is None]
        if missing:
            shown = "、".join(f"{p.name}({p.code})" for p in missing[:10])
            raise LedgerError(
                Code.print_plan_population_missing,
                f"{shown}{' 等' if len(missing) > 10 else ''} 共 {len(missing)} 个库点没有人口数："
                "请先在库点导入中填写人口，或按库点（place）计算 (no population recorded)",
                "office_code",
            )


def plan_print(
    places: Sequence[Place],
    level: str,
    target: Target,
    pack_base_units: int,
    spare_percent: int = 0,
    household_size: Fraction = HOUSEHOLD_SIZE_DEFAULT,
    on_hand: int = 0,
) -> PrintPlan:
    """The plan over `places` (the office first, then the places below it down to `level`,
    each after its parent): what each place at `level` needs, in whole packs of
    `pack_base_units`; the spares above; the total; what to print after `on_hand`."""
    check_target(target, spare_percent, household_size)
    if not _whole(pack_base_units) or pack_base_units <= 0:
        raise LedgerError(Code.quantity_must_be_positive, "包装数量必须大于零", "pack")
    _check_places(places, level, target)
    target_below = {place.code: 0 for place in places}  # target quantity of each subtree
    own: dict[str, tuple[int, int, int]] = {}  # code → (units, need, packs)
    for place in reversed(places):
        if place.level == level:
            units = units_of(place.population, target.basis, household_size)
            need = need_of(units, target)
            packs = packs_for(need, pack_base_units)
            own[place.code] = (units, need, packs)
            target_below[place.code] = packs * pack_base_units
        else:
            need = -(-target_below[place.code] * spare_percent // 100)
            own[place.code] = (0, need, packs_for(need, pack_base_units))
        if place.parent_code is not None:
            if place.parent_code not in target_below:
                raise _refuse(f"{place.name} 的上级不在计划中 (parent not in plan)", "places")
            target_below[place.parent_code] += target_below[place.code]
    subtree = {place.code: 0 for place in places}
    for place in reversed(places):
        subtree[place.code] += own[place.code][2] * pack_base_units
        if place.parent_code is not None:
            subtree[place.parent_code] += subtree[place.code]
    lines = tuple(
        PrintLine(
            place.code,
            place.name,
            place.parent_code,
            place.level,
            place.level == level,
            place.population,
            own[place.code][0],
            own[place.code][1],
            own[place.code][2],
            own[place.code][2] * pack_base_units,
            subtree[place.code],
        )
        for place in places
    )
    total = subtree[places[0].code]
    if total == 0:
        raise LedgerError(
            Code.print_plan_empty,
            "按此目标各库点都不需要（人口均为 0）：没有可印的数量 (nothing to print)",
            "office_code",
        )
    short = max(total - max(on_hand, 0), 0)
    to_print = packs_for(short, pack_base_units) * pack_base_units
    return PrintPlan(lines, pack_base_units, total, max(on_hand, 0), to_print)


class Shipping(NamedTuple):
    """One place of a plan below the office as shipped under the plan: planned (its subtree's
    quantity: what it gets from the place above it, its own and what it passes on), shipped
    (issued to it under the plan, reversed issues not counted) and due (planned − shipped,
    never negative)."""

    location_code: str
    planned: int
    shipped: int
    due: int


def shipping(lines: Sequence[PrintLine], shipped: Mapping[str, int]) -> tuple[Shipping, ...]:
    """Every place of the plan below the office, in tree order, with what has been shipped to
    it under the plan (`shipped`: base units by place code) and what is still due."""
    out = []
    for line in lines:
        if line.parent_code is not None:
            sent = shipped.get(line.location_code, 0)
            out.append(
                Shipping(line.location_code, line.subtree, sent, max(line.subtree - sent, 0))
            )
    return tuple(out)


def allocation_shares(
    lines: Sequence[PrintLine], source_code: str, shipped: Mapping[str, int] | None = None
) -> tuple[Share, ...]:
    """The shares of an allocation plan from `source_code` when the print run arrives: each
    place of the plan right below the source, weighted by what is still due to it (its
    subtree's quantity — what it gets and passes on, spares included — less what has been
    shipped to it under the plan, never negative). With the plan's pack and quantity = the
    weights' sum, the largest remainder gives every place exactly what is due; the source keeps
    its own spare. Nothing due to any of them: print_plan_fully_shipped."""
    codes = {line.location_code for line in lines}
    if source_code not in codes:
        raise LedgerError(
            Code.print_plan_source_outside,
            f"{source_code} 不在这个印制计划里：发出单位须是计划的本单位或其下、目标级别以上的库点",
            "source_code",
        )
    below = [line for line in lines if line.parent_code == source_code]
    if not below:
        raise LedgerError(
            Code.print_plan_source_outside,
            f"{source_code} 是计划的目标库点，下面没有分配对象 (a target place has nothing below)",
            "source_code",
        )
    sent = shipped or {}
    shares = tuple(
        Share(line.location_code, max(line.subtree - sent.get(line.location_code, 0), 0))
        for line in below
    )
    if not any(share.weight for share in shares):
        if any(line.subtree for line in below):
            raise LedgerError(
                Code.print_plan_fully_shipped,
                f"按这个印制计划从 {source_code} 应发的已全部发出，没有待发数量"
                "（红冲的出库单不算已发）(fully shipped)",
                "print_plan",
            )
        raise LedgerError(
            Code.print_plan_empty,
            f"按这个印制计划 {source_code} 以下各库点都不需要（人口均为 0）(nothing planned)",
            "source_code",
        )
    return shares
