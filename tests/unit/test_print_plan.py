"""印制计划 (print-run plan): each place's copies from its population and the coverage target,
whole packs per place, spares above, the total and what to print — against figures worked out
by hand and an independent computation."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from ledger.allocation import Share, allocate
from ledger.print_plan import (
    Basis,
    Place,
    Target,
    allocation_shares,
    plan_print,
    shipping,
)
from ledger.rules import Code, LedgerError

# A county office, two townships, five villages (population as an office would import it).
COUNTY = (
    Place("C", "金堂县", None, "county", 800_000),
    Place("ZJ", "赵家镇", "C", "township", None),
    Place("ZJ-PS", "平水村", "ZJ", "village", 2_620),
    Place("ZJ-XH", "新华村", "ZJ", "village", 1_000),
    Place("ZJ-TJ", "团结村", "ZJ", "village", 0),
    Place("HK", "淮口镇", "C", "township", 5),
    Place("HK-HG", "红光村", "HK", "village", 3_931),
    Place("HK-GM", "光明村", "HK", "village", 1),
)

NIANHUA = Target(Basis.household, 1)  # 单张年画 one sheet a household, 入户 100%


def by_code(plan):
    return {line.location_code: line for line in plan.lines}


def test_one_nianhua_a_household_rounds_each_village_up_to_whole_bundles():
    plan = plan_print(COUNTY, "village", NIANHUA, 500)
    lines = by_code(plan)
    # households = ⌈population ÷ 2.62⌉: 2620 → 1000; 1000 → 382 (381.67); 3931 → 1501
    # (1500.38); 1 → 1; 0 → 0. Sheets one a household, then whole 捆 of 500 each.
    assert [lines[c].units for c in ("ZJ-PS", "ZJ-XH", "ZJ-TJ", "HK-HG", "HK-GM")] == [
        1000,
        382,
        0,
        1501,
        1,
    ]
    assert [lines[c].packs for c in ("ZJ-PS", "ZJ-XH", "ZJ-TJ", "HK-HG", "HK-GM")] == [
        2,
        1,
        0,
        4,
        1,
    ]
    assert lines["ZJ"].subtree == 1500 and lines["HK"].subtree == 2500
    assert plan.total == 4000 == plan.to_print and plan.on_hand == 0
    assert [lines[c].quantity for c in ("C", "ZJ", "HK")] == [0, 0, 0]  # no spare asked


def test_a_zero_population_village_gets_nothing_under_every_basis():
    for target in (NIANHUA, Target(Basis.person, 1, 3), Target(Basis.place, 4)):
        lines = by_code(plan_print(COUNTY, "village", target, 4))
        assert (lines["ZJ-TJ"].units, lines["ZJ-TJ"].quantity) == (0, 0)


def test_a_guatu_set_a_village_is_never_split():
    # 挂图 一套4张 on each village's notice board, 张 counted, packed in 套 of 4
    plan = plan_print(COUNTY, "village", Target(Basis.place, 4), 4)
    quantities = [line.quantity for line in plan.lines if line.target]
    assert quantities == [4, 4, 0, 4, 4]
    # two sets a village, at 90% coverage: ⌈0.9 × 8⌉ = 8 张, 2 sets
    plan = plan_print(COUNTY, "village", Target(Basis.place, 8, 1, 90), 4)
    assert [line.packs for line in plan.lines if line.target] == [2, 2, 0, 2, 2]
    # one 张 too few for a set is still a whole set
    plan = plan_print(COUNTY, "village", Target(Basis.place, 5), 4)
    assert [line.quantity for line in plan.lines if line.target] == [8, 8, 0, 8, 8]


def test_persons_per_copy_and_coverage_percent():
    # 叠页 one for every 3 persons, 60% of the people (健康教育覆盖辖区人口的60%以上)
    plan = plan_print(COUNTY, "village", Target(Basis.person, 1, 3, 60), 1)
    lines = by_code(plan)
    assert lines["ZJ-PS"].need == 524  # 2620 × 0.6 ÷ 3 = 524
    assert lines["ZJ-XH"].need == 200  # 1000 × 0.6 ÷ 3 = 200
    assert lines["HK-HG"].need == 787  # 3931 × 0.6 ÷ 3 = 786.2 → 787
    assert lines["HK-GM"].need == 1  # 0.2 → 1
    assert plan.total == 524 + 200 + 787 + 1


def test_spares_are_kept_at_each_level_above_the_target():
    plan = plan_print(COUNTY, "village", NIANHUA, 500, spare_percent=10)
    lines = by_code(plan)
    # 赵家镇: villages 1500 → spare 150 → 1 捆; 淮口镇: 2500 → 250 → 1 捆;
    # the county: its villages' 4000 → 400 → 1 捆
    assert [lines[c].quantity for c in ("ZJ", "HK", "C")] == [500, 500, 500]
    assert lines["ZJ"].subtree == 2000 and lines["HK"].subtree == 3000
    assert plan.total == 4000 + 1500


def test_stock_at_the_office_comes_off_what_to_print_in_whole_packs():
    plan = plan_print(COUNTY, "village", NIANHUA, 500, on_hand=1_234)
    assert plan.total == 4000 and plan.on_hand == 1_234
    assert plan.to_print == 3000  # 2766 short → 6 捆
    assert plan_print(COUNTY, "village", NIANHUA, 500, on_hand=9_999).to_print == 0


def test_a_household_size_of_the_office_own():
    plan = plan_print(COUNTY, "village", NIANHUA, 1, household_size=Fraction("3.1"))
    assert by_code(plan)["HK-HG"].units == 1269  # 3931 ÷ 3.1 = 1268.06 → 1269


def test_townships_as_the_target_level():
    plan = plan_print(COUNTY[:2] + COUNTY[5:6], "township", Target(Basis.place, 4), 4)
    assert [line.quantity for line in plan.lines] == [0, 4, 4]


def _independent(places, level, target, pack, spare, size):
    """Each place's base units, worked out with math.ceil over exact fractions."""
    got = {}
    for place in places:
        if place.level != level:
            continue
        people = place.population or 0
        units = {
            Basis.household: math.ceil(Fraction(people) / size),
            Basis.person: people,
            Basis.place: 0 if place.population == 0 else 1,
        }[target.basis]
        need = math.ceil(
            Fraction(units * target.coverage_percent * target.copies, 100 * target.per)
        )
        got[place.code] = math.ceil(Fraction(need, pack)) * pack
    children: dict[str, list[str]] = {}
    for place in places:
        if place.parent_code:
            children.setdefault(place.parent_code, []).append(place.code)

    def targets_under(code):
        if code in got:
            return got[code]
        return sum(targets_under(child) for child in children.get(code, []))

    for place in places:
        if place.level != level:
            kept = math.ceil(Fraction(targets_under(place.code) * spare, 100))
            got[place.code] = math.ceil(Fraction(kept, pack)) * pack
    return got


def _random_area(rng):
    places = [Place("O", "市", None, "city", None)]
    for c in range(rng.randint(1, 4)):
        places.append(Place(f"C{c}", f"县{c}", "O", "county", None))
        for t in range(rng.randint(0, 3)):
            places.append(Place(f"C{c}T{t}", f"镇{t}", f"C{c}", "township", None))
            for v in range(rng.randint(0, 4)):
                population = rng.choice([0, 1, 2, rng.randint(0, 20_000)])
                places.append(Place(f"C{c}T{t}V{v}", f"村{v}", f"C{c}T{t}", "village", population))
    return places


def test_random_areas_agree_with_an_independent_computation():
    rng = random.Random(19)
    checked = 0
    for _ in range(300):
        places = _random_area(rng)
        target = Target(
            rng.choice(list(Basis)), rng.randint(1, 8), rng.randint(1, 5), rng.randint(1, 100)
        )
        pack, spare = rng.choice([1, 4, 50, 500]), rng.choice([0, 5, 10, 33])
        size = Fraction(rng.randint(100, 500), 100)
        try:
            plan = plan_print(places, "village", target, pack, spare, size)
        except LedgerError as refused:
            assert refused.code is Code.print_plan_empty
            continue
        expected = _independent(places, "village", target, pack, spare, size)
        assert {line.location_code: line.quantity for line in plan.lines} == expected
        assert plan.total == sum(expected.values()) == plan.to_print
        # handing the plan to the allocation: each county gets exactly its subtree
        shares = allocation_shares(plan.lines, "O")
        quantity = sum(share.weight or 0 for share in shares)
        if quantity:
            split = allocate(quantity, shares, pack)
            assert [line.quantity for line in split.lines] == [s.weight for s in shares]
            assert split.unallocated == 0
        checked += 1
    assert checked > 150


def test_the_allocation_shares_from_a_township_are_its_villages():
    plan = plan_print(COUNTY, "village", NIANHUA, 500, spare_percent=10)
    assert allocation_shares(plan.lines, "C") == (("ZJ", 2000), ("HK", 3000))
    assert allocation_shares(plan.lines, "ZJ") == (("ZJ-PS", 1000), ("ZJ-XH", 500), ("ZJ-TJ", 0))
    for source in ("ZJ-PS", "510100"):
        with pytest.raises(LedgerError) as refused:
            allocation_shares(plan.lines, source)
        assert refused.value.code is Code.print_plan_source_outside


@pytest.mark.parametrize(
    ("target", "spare", "size", "field"),
    [
        (Target(Basis.household, 0), 0, Fraction(262, 100), "copies"),
        (Target(Basis.household, 1, 0), 0, Fraction(262, 100), "per"),
        (Target(Basis.household, 1, 1, 101), 0, Fraction(262, 100), "coverage_percent"),
        (Target(Basis.household, 1, 1, 0), 0, Fraction(262, 100), "coverage_percent"),
        (Target(Basis.household, 1), -1, Fraction(262, 100), "spare_percent"),
        (Target(Basis.household, 1), 0, Fraction(1, 2), "household_size"),
        (Target(Basis.household, 1), 0, Fraction(2621, 1000), "household_size"),
        (Target("family", 1), 0, Fraction(262, 100), "basis"),  # type: ignore[arg-type]
    ],
)
def test_a_target_the_plan_cannot_use_is_refused_by_field(target, spare, size, field):
    with pytest.raises(LedgerError) as refused:
        plan_print(COUNTY, "village", target, 500, spare, size)
    assert refused.value.code is Code.print_plan_target_invalid
    assert refused.value.field == field


def test_a_level_not_below_the_office_is_refused():
    for level in ("county", "city", "hamlet"):
        with pytest.raises(LedgerError) as refused:
            plan_print(COUNTY, level, NIANHUA, 500)
        assert (refused.value.code, refused.value.field) == (
            Code.print_plan_target_invalid,
            "level",
        )


def test_villages_without_a_population_are_named_unless_counted_by_place():
    places = (*COUNTY, Place("HK-XX", "无名村", "HK", "village", None))
    with pytest.raises(LedgerError) as refused:
        plan_print(places, "village", NIANHUA, 500)
    assert refused.value.code is Code.print_plan_population_missing
    assert "无名村(HK-XX)" in str(refused.value)
    plan = plan_print(places, "village", Target(Basis.place, 4), 4)
    assert by_code(plan)["HK-XX"].quantity == 4


def test_nothing_to_print_is_refused():
    empty = (COUNTY[0], COUNTY[1], COUNTY[4])  # one village, population 0
    with pytest.raises(LedgerError) as refused:
        plan_print(empty, "village", NIANHUA, 500)
    assert refused.value.code is Code.print_plan_empty
    with pytest.raises(LedgerError) as refused:
        plan_print(COUNTY[:2], "village", NIANHUA, 500)
    assert refused.value.code is Code.print_plan_empty


def test_what_is_due_is_the_plan_less_what_has_been_shipped_never_negative():
    # 赵家镇: 平水村 1000 户 → 2 捆, 新华村 ⌈1000 ÷ 2.62⌉ = 382 户 → 1 捆, 10% of 1500 → 1 捆
    # spare: 2000 张; 淮口镇: 红光村 1501 户 → 4 捆, 光明村 1 → 1 捆, spare 1 捆: 3000 张
    plan = plan_print(COUNTY, "village", NIANHUA, 500, spare_percent=10)
    shipped = {"ZJ": 1_500, "HK": 3_500, "ZJ-PS": 1_000}
    shares = allocation_shares(plan.lines, "C", shipped)
    assert shares == (Share("ZJ", 500), Share("HK", 0))
    assert allocate(500, shares, 500).lines[0].quantity == 500
    places = {place.location_code: place for place in shipping(plan.lines, shipped)}
    assert "C" not in places and len(places) == len(COUNTY) - 1
    assert tuple(places["ZJ"][1:]) == (2_000, 1_500, 500)
    assert tuple(places["HK"][1:]) == (3_000, 3_500, 0)
    assert tuple(places["ZJ-PS"][1:]) == (1_000, 1_000, 0)
    assert tuple(places["ZJ-XH"][1:]) == (500, 0, 500)
    assert allocation_shares(plan.lines, "ZJ", shipped) == (
        Share("ZJ-PS", 0),
        Share("ZJ-XH", 500),
        Share("ZJ-TJ", 0),
    )


def test_nothing_due_is_refused_as_fully_shipped():
    plan = plan_print(COUNTY, "village", NIANHUA, 500, spare_percent=10)
    with pytest.raises(LedgerError) as refused:
        allocation_shares(plan.lines, "C", {"ZJ": 2_000, "HK": 3_000})
    assert refused.value.code is Code.print_plan_fully_shipped
    assert allocation_shares(plan.lines, "C", {"ZJ": 2_000}) == (Share("ZJ", 0), Share("HK", 3_000))
