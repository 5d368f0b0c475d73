"""The 库存 tree's sums (ledger/db/stock_tree_queries.py, read through
ledger.services.stock_tree) on SQLite and PostgreSQL, against the balances service's lines
added up here along the tree: the demo city at every level, now and at the end of past days,
of one item or all; two roots for a global admin; sibling codes one the prefix of the other;
stock gone to zero; figures following new postings."""

from __future__ import annotations

import datetime as dt

from ledger import commands as c
from ledger.services import lookups
from ledger.services.balances import balance_lines
from ledger.services.demo import load_demo
from ledger.services.stock_tree import StockTree, stock_tree
from tests.builder import CITY_TEXT, ledger_from_text
from tests.conftest import TODAY

D = dt.date


def expected_tree(database, top: str | None, item: str | None, as_of: dt.date | None):
    """What the tree must show, from the balances service's lines: for the top and each place
    right under it (code, name, level, path, places right under it, own stock per item, its
    subtree's stock per item), zero figures left out."""
    places = lookups.locations(database, None, None, False, 100_000, 0)
    own: dict[str, dict[str, int]] = {}
    total: dict[str, dict[str, int]] = {}
    path_of = {place.code: place.path for place in places}
    for line in balance_lines(database, item_code=item, as_of=as_of):
        mine = own.setdefault(line.location_code, {})
        mine[line.item_code] = mine.get(line.item_code, 0) + line.on_hand
        for code in path_of[line.location_code].strip("/").split("/"):
            sums = total.setdefault(code, {})
            sums[line.item_code] = sums.get(line.item_code, 0) + line.on_hand

    def node(place):
        under = sum(1 for other in places if other.parent_code == place.code)
        return (
            place.code,
            place.name,
            place.level,
            place.path,
            under,
            {k: v for k, v in sorted(own.get(place.code, {}).items()) if v},
            {k: v for k, v in sorted(total.get(place.code, {}).items()) if v},
        )

    shown_top = next((node(place) for place in places if place.code == top), None)
    children = [node(place) for place in places if place.parent_code == top]
    return shown_top, children


def shown(tree: StockTree):
    top = tuple(tree.top) if tree.top is not None else None
    return top, [tuple(child) for child in tree.children]


def check(database, top: str | None, item: str | None = None, as_of: dt.date | None = None):
    entry = lookups.location(database, top) if top is not None else None
    tree = stock_tree(database, entry, entry.path if entry is not None else None, item, as_of)
    wanted = expected_tree(database, top, item, as_of)
    assert shown(tree) == wanted, (top, item, as_of)
    nodes = ([wanted[0]] if wanted[0] else []) + wanted[1]
    assert sorted(tree.items) == sorted({code for node in nodes for code in node[6]})
    assert all(tree.items[code].code == code for code in tree.items)
    return tree


def test_the_demo_tree_at_every_level_on_both_engines(database):
    load_demo(database, TODAY)
    days = (None, D(2026, 4, 15), D(2026, 3, 1))  # now, between postings, before any
    for top in (None, "510100", "510121", "510121-ZJ", "510121-ZJ-PS"):
        for item in (None, "NH2014"):
            for day in days:
                check(database, top, item, day)
    county = check(database, "510121")
    assert county.top is not None and county.top.total and county.children
    assert any(node.total != node.own for node in county.children)  # a roll-up
    assert check(database, "510121", as_of=D(2026, 3, 1)).top.total == {}  # type: ignore[union-attr]


def test_two_roots_prefix_codes_zeros_and_new_postings(ledger):
    ledger_from_text(
        ledger,
        CITY_TEXT
        + """
location 5101211 金堂县二 county 510100
location 510200 自贡市 city
location 510201 自流井区 county 510200
receipt 510100 NH2014 2014-01 10000 on 2026-05-01
receipt 510200 NH2014 2014-01 400 on 2026-05-01
receipt 510100 GT2014 2014-01 80 on 2026-05-02
""",
    )
    database = ledger.database
    ledger.issue(c.Issue("510100", "510121", (c.LineSpec("NH2014", 1000),), D(2026, 5, 3)))
    ledger.confirm(c.Confirm("CK-2026-000001", occurred_on=D(2026, 5, 4)))
    ledger.issue(c.Issue("510100", "5101211", (c.LineSpec("NH2014", 7),), D(2026, 5, 4)))
    ledger.confirm(c.Confirm("CK-2026-000002", occurred_on=D(2026, 5, 5)))
    ledger.issue(c.Issue("510121", "510121-ZJ", (c.LineSpec("NH2014", 300),), D(2026, 5, 5)))
    ledger.confirm(c.Confirm("CK-2026-000003", occurred_on=D(2026, 5, 6)))
    ledger.distribute(c.Distribute("510121-ZJ", (c.LineSpec("NH2014", 300),), D(2026, 5, 7)))
    ledger.issue(c.Issue("510200", "510201", (c.LineSpec("NH2014", 40),), D(2026, 5, 8)))
    for day in (None, D(2026, 5, 4), D(2026, 5, 6), D(2026, 4, 30)):
        for top in (None, "510100", "510121", "510121-ZJ", "510200"):
            check(database, top, None, day)
            check(database, top, "GT2014", day)
    city = check(database, "510100")
    by_code = {node.code: node for node in city.children}
    assert by_code["510121"].total == {"NH2014": 700}  # 赵家镇's 300 handed out: zero
    assert by_code["5101211"].total == {"NH2014": 7}  # not counted under 510121
    assert by_code["510181"].total == {} and by_code["510121"].children == 1
    assert city.top is not None and city.top.total == {"GT2014": 80, "NH2014": 10000 - 300}
    roots = check(database, None)
    assert [node.code for node in roots.children] == ["510100", "510200"]
    assert roots.children[1].total == {"NH2014": 360}  # 40 in transit, not in the tree
    ledger.distribute(c.Distribute("5101211", (c.LineSpec("NH2014", 2),), D(2026, 5, 9)))
    after = check(database, "510100")
    assert {node.code: node.total for node in after.children}["5101211"] == {"NH2014": 5}
