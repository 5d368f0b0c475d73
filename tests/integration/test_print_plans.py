"""印制计划 on each database engine: a plan over a city's villages from the populations as
imported, saved and read back unchanged, and handed to the allocation plans when the print run
arrives — city to counties, then a county to its townships, confirmed — each place shipped
exactly its plan, the ledger verified clean."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from sqlalchemy import select

from ledger import commands as c
from ledger.db import tables as t
from ledger.db.balance_queries import balances
from ledger.db.import_rows import set_populations
from ledger.print_plan import Basis, Target
from ledger.rules import Code, LedgerError
from ledger.services.allocation import issue_plan
from ledger.services.audit import verify_ledger
from ledger.services.print_plans import (
    Terms,
    allocation_from_print_plan,
    get_print_plan,
    make_print_plan,
)
from ledger.services.report_print_plan import print_plan_report
from tests.builder import CITY_TEXT, ledger_from_text

AREA = """
item NH2015 2015年年画 printed 张 捆=500
location 510121-ZJ-XH 新华村 village 510121-ZJ
location 510121-ZJ-TJ 团结村 village 510121-ZJ
location 510121-HK 淮口镇 township 510121
location 510121-HK-HG 红光村 village 510121-HK
location 510181-QCS 青城山镇 township 510181
location 510181-QCS-HP 和平村 village 510181-QCS
location 510181-QCS-CA 长安村 village 510181-QCS
"""

# 人口 of each village (团结村: 0, nobody lives there any more); townships and counties
# have figures too, which a plan down to the villages does not use.
POPULATIONS = {
    "510121-ZJ-PS": 2_620,
    "510121-ZJ-XH": 1_311,
    "510121-ZJ-TJ": 0,
    "510121-HK-HG": 30_000,
    "510181-QCS-HP": 9_170,
    "510181-QCS-CA": 262,
    "510121": 800_000,
}
VILLAGES = {
    "510121": {"510121-ZJ": ["510121-ZJ-PS", "510121-ZJ-XH", "510121-ZJ-TJ"]},
    "510181": {"510181-QCS": ["510181-QCS-HP", "510181-QCS-CA"]},
}
VILLAGES["510121"]["510121-HK"] = ["510121-HK-HG"]


@pytest.fixture
def city(ledger):
    ledger_from_text(ledger, CITY_TEXT + AREA)
    ledger.database.write(lambda store: set_populations(store, POPULATIONS))
    return ledger


def expected_quantities(spare: int) -> dict[str, int]:
    """Each place's 张, worked out apart from the plan: households ⌈population ÷ 2.62⌉, one
    sheet each, rounded up to 捆 of 500; each township, county and the city keeps ⌈spare% of
    its villages' sheets⌉ in 捆."""

    def bundles(sheets) -> int:
        return math.ceil(Fraction(sheets, 500)) * 500

    out = {}
    for county, townships in VILLAGES.items():
        for township, villages in townships.items():
            for village in villages:
                out[village] = bundles(math.ceil(Fraction(POPULATIONS[village] * 100, 262)))
            out[township] = bundles(math.ceil(sum(out[v] for v in villages) * spare / 100))
        below = [out[v] for ts in townships.values() for v in ts]
        out[county] = bundles(math.ceil(sum(below) * spare / 100))
    every_village = [out[v] for ts in VILLAGES.values() for vs in ts.values() for v in vs]
    out["510100"] = bundles(math.ceil(sum(every_village) * spare / 100))
    return out


TERMS = Terms("510100", "NH2015", "village", Target(Basis.household, 1), spare_percent=5)


def test_a_plan_over_the_villages_matches_an_independent_computation(city):
    made = make_print_plan(city.database, TERMS, today=city.clock())
    quantities = {line.location_code: line.quantity for line in made.plan.lines}
    expected = expected_quantities(5)
    assert quantities == expected
    # 红光村: 30000 ÷ 2.62 = 11450.4 → 11451 户 → 23 捆; 团结村 (0 人) nothing
    assert quantities["510121-HK-HG"] == 11_500 and quantities["510121-ZJ-TJ"] == 0
    assert made.plan.total == sum(expected.values()) == made.plan.to_print
    assert made.number is None and made.pack_name == "捆"
    assert [line.location_code for line in made.plan.lines][:3] == ["510100", "510121", "510121-HK"]


def test_a_saved_plan_reads_back_as_made_even_after_the_populations_change(city):
    made = make_print_plan(
        city.database, TERMS._replace(title="2015年年画"), True, None, city.clock()
    )
    assert made.number == "YZ-2026-000001"
    city.database.write(lambda store: set_populations(store, {"510121-HK-HG": 1}))
    again = get_print_plan(city.database, made.number)
    assert again.plan == made.plan and again.terms == made.terms and again.title == "2015年年画"
    logged = city.database.lookup(
        lambda store: list(
            store.connection.execute(
                select(t.operations_log.c.action, t.operations_log.c.object_key).where(
                    t.operations_log.c.object_type == "print_plan"
                )
            )
        )
    )
    assert [tuple(row) for row in logged] == [("print_plan.save", made.number)]
    second = make_print_plan(city.database, TERMS, True, None, city.clock())
    assert second.number == "YZ-2026-000002" and second.plan.total < made.plan.total
    with pytest.raises(LedgerError) as refused:
        get_print_plan(city.database, "YZ-2026-000099")
    assert refused.value.code is Code.unknown_print_plan


def test_stock_at_the_office_comes_off_what_to_print(city):
    city.receive(c.Receive("510100", (c.ReceiptLine("NH2015", "2015-00", 1_234),), None))
    made = make_print_plan(city.database, TERMS, True, None, city.clock())
    assert made.plan.on_hand == 1_234
    assert get_print_plan(city.database, made.number).terms.deduct_stock is True
    assert made.plan.to_print == math.ceil(Fraction(made.plan.total - 1_234, 500)) * 500
    whole = make_print_plan(
        city.database, TERMS._replace(deduct_stock=False), True, None, city.clock()
    )
    assert whole.plan.on_hand == 0 and whole.plan.to_print == whole.plan.total
    again = get_print_plan(city.database, whole.number)  # read back as made: not deducted
    assert again.terms.deduct_stock is False and again.plan == whole.plan
    labels = [row[1] for row in print_plan_report(again).totals]
    assert "本单位现有库存（未扣减）" in labels and "减：本单位现有库存" not in labels


def _shipped(shipments) -> dict[str, int]:
    return {
        tx.counterparty_code: sum(
            p.quantity for p in tx.postings if p.location_code == "in-transit"
        )
        for tx in shipments
    }


def test_the_print_run_arrives_and_the_plan_ships_down_exactly(city):
    made = make_print_plan(city.database, TERMS, True, None, city.clock())
    lines = {line.location_code: line for line in made.plan.lines}
    city.receive(
        c.Receive("510100", (c.ReceiptLine("NH2015", "2015-01", made.plan.to_print),), None)
    )
    to_counties = allocation_from_print_plan(
        city.database, made.number, "510100", None, city.clock()
    )
    assert to_counties.unallocated == 0
    shipments = issue_plan(city.database, to_counties, "510100", "NH2015", today=city.clock())
    assert _shipped(shipments) == {
        "510121": lines["510121"].subtree,
        "510181": lines["510181"].subtree,
    }
    for shipment in shipments:
        city.confirm(c.Confirm(shipment.number))
    to_townships = allocation_from_print_plan(
        city.database, made.number, "510121", None, city.clock()
    )
    shipments = issue_plan(city.database, to_townships, "510121", "NH2015", today=city.clock())
    assert _shipped(shipments) == {
        "510121-ZJ": lines["510121-ZJ"].subtree,
        "510121-HK": lines["510121-HK"].subtree,
    }
    for shipment in shipments:
        city.confirm(c.Confirm(shipment.number))
    to_villages = allocation_from_print_plan(
        city.database, made.number, "510121-ZJ", None, city.clock()
    )
    shipments = issue_plan(city.database, to_villages, "510121-ZJ", "NH2015", today=city.clock())
    # 团结村 plans 0 and gets no issue
    assert _shipped(shipments) == {
        "510121-ZJ-PS": lines["510121-ZJ-PS"].quantity,
        "510121-ZJ-XH": lines["510121-ZJ-XH"].quantity,
    }
    # each level keeps exactly its spare
    held = city.database.lookup(
        lambda store: {
            code: sum(
                b.on_hand
                for b in balances(store.connection, location_code=code, item_code="NH2015")
            )
            for code in ("510100", "510121", "510121-ZJ")
        }
    )
    assert held == {code: lines[code].quantity for code in held}
    assert verify_ledger(city.database).ok


def test_a_short_print_run_is_split_by_the_plan_in_whole_bundles(city):
    made = make_print_plan(city.database, TERMS, True, None, city.clock())
    city.receive(c.Receive("510100", (c.ReceiptLine("NH2015", "2015-01", 10_000),), None))
    split = allocation_from_print_plan(city.database, made.number, "510100", None, city.clock())
    assert split.allocated == 10_000 and all(line.quantity % 500 == 0 for line in split.lines)
    asked = allocation_from_print_plan(city.database, made.number, "510100", 5_000, city.clock())
    assert asked.allocated == 5_000


def test_a_source_outside_the_plan_is_refused(city):
    made = make_print_plan(city.database, TERMS, True, None, city.clock())
    for source in ("510121-ZJ-PS", "510113"):
        with pytest.raises(LedgerError) as refused:
            allocation_from_print_plan(city.database, made.number, source, None, city.clock())
        assert refused.value.code in (Code.print_plan_source_outside, Code.unknown_location)


def test_bad_input_is_refused_with_its_code(city):
    cases = [
        (TERMS._replace(item_code="BYT"), Code.print_plan_target_invalid, "item_code"),
        (TERMS._replace(item_code="XX"), Code.unknown_item, "item_code"),
        (TERMS._replace(office_code="in-transit"), Code.location_must_be_physical, "office_code"),
        (TERMS._replace(pack="箱"), Code.unknown_pack, "pack"),
        (TERMS._replace(level="city"), Code.print_plan_target_invalid, "level"),
        (TERMS._replace(office_code="510181-QCS-CA"), Code.print_plan_target_invalid, "level"),
    ]
    for terms, code, field in cases:
        with pytest.raises(LedgerError) as refused:
            make_print_plan(city.database, terms, today=city.clock())
        assert (refused.value.code, refused.value.field) == (code, field), terms
    city.database.write(lambda store: set_populations(store, {"510181-QCS-CA": None}))
    with pytest.raises(LedgerError) as refused:
        make_print_plan(city.database, TERMS, today=city.clock())
    assert refused.value.code is Code.print_plan_population_missing
    assert "长安村(510181-QCS-CA)" in str(refused.value)
