"""A small office for the use-case tests, set up through the use cases themselves on any
`ledger.services.ports.Database` (the fake, or a real one in the contract test).

成都市 (a city) with 金堂县 (a county), its town 赵家镇 and 都江堰市 (another county); 绵阳市 is a
second city. Items: 年画 (printed, 捆 = 500 张), 挂图 (printed, 套 = 4 张) and 避孕套
(contraceptive, expiry-tracked, 盒 = 3 只, 箱 = 720 只).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ledger import commands as c
from ledger.model import Item, ItemKind, Location, LocationLevel, Pack
from ledger.rules import Code, LedgerError
from ledger.services import ports
from ledger.services.ledger import execute

TODAY = dt.date(2026, 6, 30)
CITY, COUNTY, TOWN, OTHER_COUNTY, OTHER_CITY = "510100", "510121", "510121-ZJ", "510181", "510700"
EARLY, LATE = dt.date(2026, 8, 10), dt.date(2028, 1, 31)  # expiries of B-EARLY and B-LATE

LOCATIONS = (
    Location(CITY, "成都市", LocationLevel.city),
    Location(COUNTY, "金堂县", LocationLevel.county, CITY),
    Location(TOWN, "赵家镇", LocationLevel.township, COUNTY),
    Location(OTHER_COUNTY, "都江堰市", LocationLevel.county, CITY),
    Location(OTHER_CITY, "绵阳市", LocationLevel.city),
)
ITEMS = (
    Item("NH2014", "年画", ItemKind.printed, "年画", "张", (Pack("捆", 500),)),
    Item("GT2014", "挂图", ItemKind.printed, "挂图", "张", (Pack("套", 4),)),
    Item(
        "BYT",
        "避孕套",
        ItemKind.contraceptive,
        "避孕套",
        "只",
        (Pack("盒", 3), Pack("箱", 720)),
        expiry_tracked=True,
    ),
)


def set_up(database: ports.Database, today: dt.date = TODAY) -> None:
    for location in LOCATIONS:
        execute(database, c.AddLocation(location), None, today)
    for item in ITEMS:
        execute(database, c.AddItem(item), None, today)


def receipt(
    location: str,
    item: str,
    batch: str,
    quantity: int,
    expires_on: dt.date | None = None,
    on: dt.date | None = None,
    **options: Any,
) -> c.Receive:
    line = c.ReceiptLine(item, batch, quantity, expires_on=expires_on)
    return c.Receive(location, (line,), on, **options)


def stock_up(database: ports.Database, today: dt.date = TODAY) -> None:
    """At the city: 年画 2014-01 ×1000, 2014-02 ×600; 避孕套 B-EARLY ×300, B-LATE ×500."""
    for command in (
        receipt(CITY, "NH2014", "2014-01", 1000),
        receipt(CITY, "NH2014", "2014-02", 600),
        receipt(CITY, "BYT", "B-LATE", 500, LATE),
        receipt(CITY, "BYT", "B-EARLY", 300, EARLY),
    ):
        execute(database, command, None, today)


def line(item: str, quantity: int, batch: str | None = None, unit: str | None = None):
    return (c.LineSpec(item, quantity, batch, unit),)


def run(database: ports.Database, command: Any, today: dt.date = TODAY, actor: int | None = None):
    return execute(database, command, actor, today)


def refuse(database: Any, command: Any, code: Code, today: dt.date = TODAY) -> LedgerError:
    """Run a command on a fake that must refuse it with `code`, and check that it changed
    nothing: the same balances, journal and reservations, and no commit."""
    before = database.balances(), database.transactions(), database.reservations()
    commits = database.commits
    try:
        execute(database, command, None, today)
    except LedgerError as error:
        assert error.code is code, (error.code, error.message)
        after = database.balances(), database.transactions(), database.reservations()
        assert after == before, "a refused command left something behind"
        assert database.commits == commits
        return error
    raise AssertionError(f"{command} went through; expected {code}")
