"""年度需求计划 (annual demand plan): the year's planned demand from the average monthly
consumption (ledger/norms.py), a growth setting, and population weights where a place has no
consumption of an item; what must be requested (or, for printed matter, printed). Pure: no I/O.
The service (ledger/services/demand_plan.py) reads the figures and calls these.

- **Planned demand** = ⌈AMC × 12 × (100 + growth %) / 100⌉ base units.
- Where a place had no consumption of an item in the window, its demand is its **population
  share** of the demand of the nearest place above it that had some: ⌈that demand × the
  place's 人口 ÷ the 人口 of the places planned beside it under that place⌉.
- **To request** = demand + maximum stock − on hand − in transit, rounded up to whole packs,
  never negative (`ledger.norms.round_up_to_packs`).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from fractions import Fraction

from ledger.limits import demand_growth_percent_max, demand_growth_percent_min
from ledger.norms import round_up_to_packs
from ledger.rules import Code, LedgerError

GROWTH_FORM = re.compile(r"[+-]?[0-9]{1,3}(\.[0-9])?")  # 5, -2.5, +10: no exponent, no 0x
LEVEL_RANKS = {"city": 0, "county": 1, "township": 2, "village": 3}


def parse_growth(value: str | int | float | Decimal | None, field: str = "growth") -> Fraction:
    """A growth in percent, from text such as "5", "-2.5" or "+10": a number with at most one
    decimal place, from demand_growth_percent_min to demand_growth_percent_max; anything else
    is refused (demand_growth_invalid)."""
    text = "0" if value is None else str(value).strip()
    well_formed = not isinstance(value, bool) and GROWTH_FORM.fullmatch(text)
    number = Decimal(text) if well_formed else None
    if number is None or not demand_growth_percent_min <= number <= demand_growth_percent_max:
        raise LedgerError(
            Code.demand_growth_invalid,
            f"增长率须为 {demand_growth_percent_min} 到 {demand_growth_percent_max} 之间的百分数"
            f"（至多一位小数），不是 {text} (growth percent out of range)",
            field,
        )
    return Fraction(number)


def growth_text(growth: Fraction) -> str:
    """The growth as the header shows it: +5%, -2.5%, 0%."""
    number = Decimal(growth.numerator) / Decimal(growth.denominator)
    text = f"{number.normalize():f}"
    return f"+{text}%" if growth > 0 else f"{text}%"


def check_year(year: int, today: dt.date) -> None:
    """A plan is drawn up for this year (late, in its first months) or the next one; an earlier
    or later year, or no year at all, is refused (demand_year_invalid)."""
    allowed = (today.year, today.year + 1)
    if isinstance(year, bool) or not isinstance(year, int) or year not in allowed:
        raise LedgerError(
            Code.demand_year_invalid,
            f"需求计划只能编制今年（{today.year}）或明年（{today.year + 1}）的，不是 {year} "
            "(plan year must be this year or next)",
            "year",
        )


def base_day(year: int, today: dt.date) -> dt.date:
    """The day the plan's figures look back from: 1 January of the plan year, or today when
    that has not come yet (the window's months are the whole months before it)."""
    return min(today, dt.date(year, 1, 1))


def planned_demand(amc: Fraction, growth: Fraction) -> int:
    """AMC × 12, adjusted by `growth` percent, rounded up to whole base units (never below 0)."""
    return max(-((-amc * 12 * (100 + growth)) // 100), 0)


def population_share(demand_above: int, population: int | None, populations: int) -> int:
    """A place's share of the demand of the place above it: ⌈demand × population ÷ the
    populations of the places sharing it⌉; 0 without a population."""
    if not population or populations <= 0 or demand_above <= 0:
        return 0
    return -(-demand_above * population // populations)


def to_request(
    demand: int,
    maximum: int,
    on_hand: int,
    in_transit: int,
    pack_size: int | None,
    on_order: int = 0,
) -> int:
    """Demand + maximum stock − on hand − in transit − on order (已申领未到: below 0 where
    stock already asked of a place will leave it), in whole packs, never negative."""
    return round_up_to_packs(demand + maximum - on_hand - in_transit - on_order, pack_size)


def in_packs(quantity: int, pack_size: int | None, pack_name: str | None) -> str:
    """A quantity as whole packs for the form (58套); empty without a pack."""
    if not pack_size or not pack_name or pack_size <= 1 or quantity <= 0:
        return ""
    whole, rest = divmod(quantity, pack_size)
    return "" if rest else f"{whole:,}{pack_name}"
