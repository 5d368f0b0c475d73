"""The list the 盘点 page shows (ledger.services.stocktake_list), on SQLite and PostgreSQL: the
counts opened under a subtree, newest first, by status, with their scope."""

from __future__ import annotations

import datetime as dt

from ledger.services.stocktake_list import stocktakes_under
from ledger.services.stocktake_models import OpenStocktake
from tests.bound import Stocktakes
from tests.builder import ledger_from_text
from tests.conftest import TODAY

CITY = """
location 510100 成都市 city
location 510121 金堂县 county 510100
location 510121-ZJ 赵家镇 township 510121
location 510181 都江堰市 county 510100
item NH2014 年画 printed 张 捆=500
receipt 510100 NH2014 2014-01 10000 on 2026-05-01
"""


def test_counts_are_listed_under_a_subtree_newest_first(ledger):
    ledger_from_text(ledger, CITY)
    counts = Stocktakes(ledger)
    county = counts.open(OpenStocktake("510121", include_subtree=True, memo="全县"))
    township = counts.open(
        OpenStocktake("510121-ZJ", item_codes=("NH2014",), blind=True, cut_off=TODAY)
    )
    other = counts.open(OpenStocktake("510181", location_codes=()))
    counts.close(other.number)
    everything = stocktakes_under(ledger.database, None)
    assert [s.number for s in everything] == [other.number, township.number, county.number]
    under_county = stocktakes_under(ledger.database, "/510100/510121/")
    assert [s.number for s in under_county] == [township.number, county.number]
    first = under_county[1]
    assert (first.location_code, first.location_name, first.status) == (
        "510121",
        "金堂县",
        "counting",
    )
    assert first.include_subtree and not first.blind and first.memo == "全县"
    assert first.cut_off == TODAY and isinstance(first.cut_off, dt.date)
    assert first.created_at.tzinfo is not None and first.closed_at is None
    second = under_county[0]
    assert second.blind and second.item_codes == ("NH2014",) and not second.include_subtree
    closed = stocktakes_under(ledger.database, None, "closed")
    assert [s.number for s in closed] == [other.number] and closed[0].closed_at is not None
    assert stocktakes_under(ledger.database, "/510100/510121/", "closed") == []
    assert [s.number for s in stocktakes_under(ledger.database, None, None, 1, 1)] == [
        township.number
    ]
