"""The movement forms' reads (ledger/services/pickers.py) on SQLite and PostgreSQL: batches in
the order a pick takes them with the expired marked, what each item has available, a
location's latest vouchers newest first, and whether a voucher was reversed."""

from __future__ import annotations

import datetime as dt

from ledger import commands as c
from ledger.services import pickers
from tests.builder import CITY_TEXT, ledger_from_text
from tests.conftest import TODAY

STOCK = """
receipt 510121 BYT B-LATE 300 expires 2028-01-31 on 2026-01-05
receipt 510121 BYT B-OLD 30 expires 2026-03-31 on 2026-01-06
receipt 510121 BYT B-SOON 60 expires 2026-09-30 on 2026-01-07
receipt 510121 NH2014 2014-01 1000 on 2026-01-08
receipt 510181 NH2014 2014-01 500 on 2026-01-09
"""


def test_batches_come_in_fefo_order_with_the_expired_marked(ledger):
    ledger_from_text(ledger, CITY_TEXT + STOCK)
    ledger.execute(c.Reserve("R-1", "510121", "BYT", 12, batch_number="B-SOON"))
    choices = pickers.batch_choices(ledger.database, "510121", "BYT", TODAY)
    assert [(b.number, b.expired) for b in choices] == [
        ("B-OLD", True),
        ("B-SOON", False),
        ("B-LATE", False),
    ]
    soon = choices[1]
    assert (soon.on_hand, soon.available, soon.expires_on) == (60, 48, dt.date(2026, 9, 30))
    # usable through its expiry day
    on_the_day = pickers.batch_choices(ledger.database, "510121", "BYT", dt.date(2026, 3, 31))
    assert on_the_day[0].expired is False
    assert pickers.batch_choices(ledger.database, "510121-ZJ", "BYT", TODAY) == []
    assert pickers.available_by_item(ledger.database, "510121") == {"BYT": 378, "NH2014": 1000}


def test_latest_vouchers_newest_first_and_reversals(ledger):
    ledger_from_text(ledger, CITY_TEXT + STOCK)
    shipped = ledger.issue(
        c.Issue("510121", "510121-ZJ", (c.LineSpec("NH2014", 100),), memo="下发")
    )
    undone = ledger.reverse(c.Reverse(shipped.number))
    latest = pickers.recent_vouchers(ledger.database, "510121", 3)
    assert [t.number for t in latest] == [undone.number, shipped.number, "RK-2026-000004"]
    assert [t.number for t in pickers.recent_vouchers(ledger.database, "510121-ZJ", 10)] == [
        undone.number,
        shipped.number,
    ]  # addressed to it
    assert [t.number for t in pickers.recent_vouchers(ledger.database, "510181", 10)] == [
        "RK-2026-000005"
    ]
    assert pickers.reversal_of(ledger.database, shipped.number) == undone.number
    assert pickers.reversal_of(ledger.database, "RK-2026-000001") is None
    assert [item.code for item in pickers.all_items(ledger.database)] == ["BYT", "GT2014", "NH2014"]
    assert [b.number for b in pickers.known_batches(ledger.database, "BYT")] == [
        "B-LATE",
        "B-OLD",
        "B-SOON",
    ]
    assert [p.code for p in pickers.places(ledger.database, "/510100/510121/")] == [
        "510121",
        "510121-ZJ",
        "510121-ZJ-PS",
    ]
