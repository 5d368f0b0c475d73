"""The roll-ups of GET /balances (group_by): totals per location, item or batch equal a plain
sum over the lines, each key once, in the order it first appears."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from ledger.db.balance_queries import BalanceLine
from ledger.services.balances import grouped

PLACES = [("510121", "金堂县仓库"), ("510121101", "赵镇"), ("510100", "市仓")]
ITEMS = [("AV-2014", "年画", "张"), ("CD-01", "避孕套", "只")]
BATCHES = [("2014-01", dt.date(2016, 1, 31)), ("2014-02", None)]

lines = st.lists(
    st.builds(
        lambda place, item, batch, on_hand, reserved: BalanceLine(
            *place, item[0], item[1], *batch, item[2], on_hand, reserved, on_hand - reserved
        ),
        st.sampled_from(PLACES),
        st.sampled_from(ITEMS),
        st.sampled_from(BATCHES),
        st.integers(0, 10**9),
        st.integers(0, 10**6),
    ),
    max_size=30,
)


def sums(found: list[BalanceLine], key) -> dict:
    totals: dict = {}
    for line in found:
        on_hand, reserved = totals.get(key(line), (0, 0))
        totals[key(line)] = (on_hand + line.on_hand, reserved + line.reserved)
    return totals


@given(lines)
def test_accounts_are_the_lines_themselves(found):
    rows = grouped(found, "account")
    assert [(r.location_code, r.batch_number, r.on_hand) for r in rows] == [
        (line.location_code, line.batch_number, line.on_hand) for line in found
    ]


@given(lines, st.sampled_from(["location", "item", "batch"]))
def test_each_roll_up_sums_its_lines_once_per_key(found, group_by):
    key = {
        "location": lambda r: (r.location_code, r.item_code),
        "item": lambda r: r.item_code,
        "batch": lambda r: (r.item_code, r.batch_number),
    }[group_by]
    rows = grouped(found, group_by)
    expected = sums(found, key)
    assert [key(row) for row in rows] == list(expected)  # once each, in first-seen order
    for row in rows:
        assert (row.on_hand, row.reserved) == expected[key(row)]
        assert row.available == row.on_hand - row.reserved
        assert (row.location_code is None) == (group_by != "location")
        assert (row.batch_number is None) == (group_by != "batch")
