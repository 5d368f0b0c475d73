"""ledger/demand.py: the growth as typed, the year's demand, population shares, what to request
and the packs it comes to — against the arithmetic written out."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from ledger import demand as d
from ledger.rules import Code, LedgerError


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("5", 5), ("+10", 10), ("-2.5", Fraction(-5, 2)), (" 100 ", 100), ("-50", -50)],
)
def test_a_growth_is_a_percent_with_one_decimal_at_most(text, value):
    assert d.parse_growth(text) == value


@pytest.mark.parametrize("text", ["100.1", "-51", "1.25", "abc", "", "inf", "NaN", "1e1", "五"])
def test_any_other_growth_is_refused(text):
    with pytest.raises(LedgerError) as refused:
        d.parse_growth(text)
    assert refused.value.code == Code.demand_growth_invalid


def test_the_growth_as_the_header_shows_it():
    assert [d.growth_text(Fraction(g)) for g in (5, 0, Fraction(-5, 2))] == ["+5%", "0%", "-2.5%"]


def test_a_plan_is_for_this_year_or_the_next_and_looks_back_from_its_first_day():
    today = dt.date(2026, 11, 27)
    d.check_year(2026, today)
    d.check_year(2027, today)
    for year in (2025, 2028, 0, True):
        with pytest.raises(LedgerError) as refused:
            d.check_year(year, today)
        assert refused.value.code == Code.demand_year_invalid
    assert d.base_day(2027, today) == today
    assert d.base_day(2026, today) == dt.date(2026, 1, 1)


def test_the_years_demand_is_rounded_up_and_never_negative():
    assert d.planned_demand(Fraction(373, 4), Fraction(0)) == 1119
    assert d.planned_demand(Fraction(373, 4), Fraction(5)) == 1175  # 1174.95
    assert d.planned_demand(Fraction(1, 3), Fraction(-50)) == 2  # 4 × 0.5
    assert d.planned_demand(Fraction(0), Fraction(100)) == 0


def test_a_population_share_is_rounded_up_and_nothing_without_people():
    assert d.population_share(423, 50_000, 80_000) == 265  # 264.375
    assert d.population_share(423, None, 80_000) == 0
    assert d.population_share(423, 50_000, 0) == 0
    assert d.population_share(0, 50_000, 80_000) == 0


def test_what_to_request_comes_in_whole_packs_and_never_below_zero():
    assert d.to_request(1119, 280, 47, 100, 3) == 1254  # 1,252 up to 418 盒 of 3
    assert d.to_request(10, 0, 40, 0, 3) == 0
    assert d.to_request(7, 0, 0, 0, None) == 7
    assert d.to_request(1119, 280, 47, 100, 3, 60) == 1194  # 1,192 with 60 on order: 398 盒
    assert d.to_request(10, 0, 0, 0, 3, -5) == 15  # 5 of its stock asked of it: it needs them
    assert d.in_packs(1254, 3, "盒") == "418盒"
    assert d.in_packs(1500, 500, "捆") == "3捆"
    assert d.in_packs(7, None, None) == "" and d.in_packs(0, 3, "盒") == ""
