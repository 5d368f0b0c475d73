"""库存定额 per city: three cities share one database (docs/roots.md). A level's norm set for one
city is followed by that city's places of the level only; a level's norm set for every city by
the places of the cities that have none of their own; a place's own norm wins over both. The
suggestions, the stock alerts and the demand plan all read the norm of the place's own city.

Each township below received 300 只 in April and handed out 120 in April and 60 in May: over
the three whole months before June (March empty with nothing come in: a stock-out month, left
out) it used 180 in 2 months, an AMC of 90, and holds 120. So the maximum stock is 90 × the
norm's maximum months, and the suggestion that maximum less 120, in whole 盒 of 3."""

from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction

import pytest
from sqlalchemy import select

from ledger import commands as c
from ledger.db import tables as t
from ledger.norms import NormSource
from ledger.rules import Code, LedgerError
from ledger.services import norms, suggestions
from ledger.services.demand_plan import demand_plan
from tests.bound import Ledger
from tests.builder import ledger_from_text
from tests.conftest import TODAY

STORY = """
location 510100 成都市 city
location 510121 金堂县 county 510100
location 510121-ZJ 赵家镇 township 510121
location 510121-BG 白果镇 township 510121
location 500100 渝中样例市 city
location 500101 样例一区 county 500100
location 500101-DY 样例镇 township 500101
location 400100 样例三市 city
location 400101 样例三区 county 400100
location 400101-SX 三溪镇 township 400101
item BYT 避孕套 contraceptive 只 盒=3 箱=720 expiry
receipt 510121 BYT B1 3000 expires 2028-01-01 on 2026-02-01
receipt 500101 BYT B2 3000 expires 2028-01-01 on 2026-02-01
receipt 400101 BYT B3 3000 expires 2028-01-01 on 2026-02-01
"""
TOWNSHIPS = {"510121-ZJ": "510121", "510121-BG": "510121", "500101-DY": "500101"}
TOWNSHIPS["400101-SX"] = "400101"
AMC = 90  # 只 a month at each township (180 over April and May)
ON_HAND = 120


def _story(ledger: Ledger) -> None:
    ledger_from_text(ledger, STORY)
    for township, county in TOWNSHIPS.items():
        day = dt.date(2026, 4, 2)
        sent = ledger.issue(c.Issue(county, township, (c.LineSpec("BYT", 300),), day))
        ledger.confirm(c.Confirm(sent.number, occurred_on=day))
        for given, on in ((120, dt.date(2026, 4, 10)), (60, dt.date(2026, 5, 10))):
            ledger.distribute(c.Distribute(township, (c.LineSpec("BYT", given),), on))


def _set_norms(database) -> None:
    """Every city's township 2–4; 成都市's 3–6; 渝中样例市's 1–2 (and 5–7 for its counties, and
    a later 4–5 for its townships); 赵家镇's own 4–8 for every item, and a later 5–10 for BYT."""
    later = TODAY + dt.timedelta(days=10)
    norms.set_norm(database, 2, 4, level="township", today=TODAY)
    norms.set_norm(database, 3, 6, level="township", city_code="510100", today=TODAY)
    norms.set_norm(database, 1, 2, level="township", city_code="500100", today=TODAY)
    norms.set_norm(database, 5, 7, level="county", city_code="500100", today=TODAY)
    norms.set_norm(
        database, 4, 5, level="township", city_code="500100", valid_from=later, today=TODAY
    )
    norms.set_norm(database, 4, 8, location_code="510121-ZJ", today=TODAY)
    norms.set_norm(
        database, 5, 10, location_code="510121-ZJ", item_code="BYT", valid_from=later, today=TODAY
    )
    norms.set_norm(database, 6, 9, level="township", today=TODAY)  # every city's again: newest


# place → (min, max, source) today; the all-cities township norm is 6–9 (set last, wins 2–4)
EXPECTED = {
    "510121-ZJ": (4, 8, NormSource.location),
    "510121-BG": (3, 6, NormSource.city_level),
    "500101-DY": (1, 2, NormSource.city_level),
    "400101-SX": (6, 9, NormSource.level),
    "510121": (2, 4, NormSource.default),  # 渝中样例市's county norm is not 成都市's
    "500101": (5, 7, NormSource.city_level),
    "400101": (2, 4, NormSource.default),
}


def test_each_place_follows_its_own_then_its_citys_then_every_citys_level_norm(ledger):
    _story(ledger)
    database = ledger.database
    _set_norms(database)

    def norm(place: str, day: dt.date = TODAY):
        return tuple(database.lookup(lambda s: norms.norm_of(s, place, "BYT", day)))

    assert {place: norm(place) for place in EXPECTED} == EXPECTED
    later = TODAY + dt.timedelta(days=10)
    assert norm("500101-DY", later) == (4, 5, NormSource.city_level)
    assert norm("510121-ZJ", later) == (5, 10, NormSource.location_item)
    assert norm("510121-BG", later) == (3, 6, NormSource.city_level)
    assert norm("500101-DY", TODAY - dt.timedelta(days=1)) == (1, 3, NormSource.default)


def test_the_suggestions_alerts_and_demand_plan_use_the_places_city(ledger):
    _story(ledger)
    database = ledger.database
    _set_norms(database)
    for township in TOWNSHIPS:
        low, high, source = EXPECTED[township]
        (line,) = database.lookup(
            lambda s, township=township: suggestions.suggested_request(s, township, TODAY, 3)
        )
        s = line.suggestion
        assert (s.norm.min_months, s.norm.max_months, s.norm.source) == (low, high, source)
        assert (s.used.total, s.used.months, s.on_hand) == (180, 2, ON_HAND), township
        assert (s.minimum, s.maximum) == (AMC * low, AMC * high), township
        assert s.suggested == -(-(AMC * high - ON_HAND) // 3) * 3, township
    # 样例镇 holds 120, within its city's 1–2 (90 to 180): no alert; under every city's 6–9
    # it would be 补货 (below 540). 赵家镇 (below 360) and 白果镇 (below 270) are.
    alerts = database.lookup(lambda s: suggestions.stock_alerts(s, "500100", TODAY, 3))
    assert [p.location.code for p in alerts if p.location.level == "township"] == []
    alerts = database.lookup(lambda s: suggestions.stock_alerts(s, "510100", TODAY, 3))
    assert {p.location.code for p in alerts if p.location.level == "township"} == {
        "510121-ZJ",
        "510121-BG",
    }
    for city, township in (("510100", "510121-BG"), ("500100", "500101-DY"), ("400100", None)):
        plan = database.lookup(
            lambda s, city=city: demand_plan(s, city, 2027, TODAY, 3, Fraction(0), "township")
        )
        rows = {line.location.code: line for line in plan.lines if line.item.code == "BYT"}
        for code in [township] if township else ["400101-SX"]:
            assert rows[code].maximum == AMC * EXPECTED[code][1], (city, code)


def test_a_citys_level_norm_is_logged_with_its_city_and_listed_for_it_only(ledger):
    _story(ledger)
    database = ledger.database
    norms.set_norm(database, 2, 4, level="township", today=TODAY)
    norms.set_norm(database, 1, 2, level="township", city_code="500100", today=TODAY)
    log, loc = t.operations_log.c, t.locations.c
    with database.read() as connection:
        logged = connection.execute(
            select(log.object_key, loc.code, log.after)
            .outerjoin(t.locations, loc.id == log.root_id)
            .where(log.action == "stock_norm.set")
            .order_by(log.id)
        ).all()
    assert [(key, root) for key, root, _ in logged] == [
        ("township", None),
        ("500100 township", "500100"),
    ]
    afters = [json.loads(after) if isinstance(after, str) else after for _, _, after in logged]
    assert [after["city_code"] for after in afters] == [None, "500100"]
    assert afters[1] == {
        "city_code": "500100",
        "min_months": 1,
        "max_months": 2,
        "valid_from": TODAY.isoformat(),
    }
    cities = [(n.level, n.city_code) for n in norms.norms_set(database)]
    assert cities == [("township", None), ("township", "500100")]
    assert [n.city_code for n in norms.norms_set(database, "510121")] == [None]
    assert [n.city_code for n in norms.norms_set(database, "500101-DY")] == [None, "500100"]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"level": "township", "city_code": "510121"}, "city_code"),  # a county, not a city
        ({"level": "township", "city_code": "distributed"}, "city_code"),  # virtual
        ({"location_code": "510121-ZJ", "city_code": "510100"}, "city_code"),
    ],
)
def test_a_city_that_is_no_city_is_refused(ledger, arguments, field):
    ledger_from_text(ledger, STORY)
    with pytest.raises(LedgerError) as refused:
        norms.set_norm(ledger.database, 1, 2, today=TODAY, **arguments)
    assert (refused.value.code, refused.value.field) == (Code.norm_scope_invalid, field)
    assert norms.norms_set(ledger.database) == []
