"""Limits on what one command can make, on SQLite and PostgreSQL: a quantity in packs is
bounded after conversion to base units, labelled packs are counted before any is built, dates
lie in the ledger's window, location levels follow 市 → 区县 → 乡镇 → 村 and a location's code
path fits its column, and a derived idempotency key longer than the column is stored as a
digest."""

from __future__ import annotations

import datetime as dt
import time
import tracemalloc

import pytest
from sqlalchemy import func, select

from ledger import commands as c
from ledger.db import tables as t
from ledger.limits import (
    date_max,
    date_min,
    idempotency_key_length_max,
    location_path_length_max,
    packs_per_batch_max,
    quantity_per_line_max,
)
from ledger.model import Location, LocationLevel
from ledger.rules import Code, LedgerError
from ledger.services.ledger import storable_key
from tests.builder import ledger_from_text

CITY = """
location 510100 成都市 city
location 510121 金堂县 county 510100
location 510121-ZJ 赵家镇 township 510121
location 510121-ZJ-PS 平水村 village 510121-ZJ
item NH2014 年画 printed 张 捆=500
item BYT 避孕套 contraceptive 只 盒=3 箱=720 expiry
item DY 叠页 printed 张
"""


@pytest.fixture
def city(ledger):
    ledger_from_text(ledger, CITY)
    return ledger


def stored(ledger) -> tuple:
    with ledger.database.read() as connection:
        return tuple(
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (t.transactions, t.postings, t.batches, t.packs, t.locations)
        )


def refused(code: Code, work) -> LedgerError:
    with pytest.raises(LedgerError) as caught:
        work()
    assert caught.value.code == code, caught.value
    return caught.value


def receipt(quantity: int, unit: str | None = None, item: str = "BYT", **dates) -> c.Receive:
    expires = dates.pop("expires_on", dt.date(2028, 1, 31) if item == "BYT" else None)
    line = c.ReceiptLine(item, "B1", quantity, unit, expires_on=expires, **dates)
    return c.Receive("510100", (line,))


def test_two_billion_cases_are_refused_before_any_pack_is_built(city):
    before = stored(city)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        error = refused(Code.quantity_too_large, lambda: city.receive(receipt(2_000_000_000, "箱")))
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "1440000000000" in error.message and error.field == "lines[0].quantity"
    assert elapsed < 1 and peak < 5_000_000
    assert stored(city) == before


def test_a_receipt_that_would_cut_millions_of_packs_is_refused_before_cutting(city):
    """2,000,000,000 只 is within the per-line maximum but makes 2,777,778 箱: one list entry
    and one row per pack before the fix; now the count is computed and refused."""
    before = stored(city)
    tracemalloc.start()
    try:
        error = refused(Code.too_many_packs, lambda: city.receive(receipt(quantity_per_line_max)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "2777778" in error.message
    assert peak < 5_000_000
    assert stored(city) == before


def test_the_largest_allowed_quantity_of_an_item_without_packs_is_accepted(city):
    voucher = city.receive(receipt(quantity_per_line_max, item="DY"))
    assert voucher.postings[-1].quantity == quantity_per_line_max


def test_the_pack_limit_itself_is_accepted_exactly(city):
    voucher = city.receive(receipt(packs_per_batch_max * 500, item="NH2014"))
    assert voucher.number.startswith("RK-")
    with city.database.read() as connection:
        assert connection.execute(select(func.count()).select_from(t.packs)).scalar_one() == (
            packs_per_batch_max
        )
    refused(Code.too_many_packs, lambda: city.receive(receipt(1, "捆", item="NH2014")))


OUTSIDE = [
    {"occurred_on": dt.date(1, 1, 1)},
    {"occurred_on": date_min - dt.timedelta(days=1)},
    {"expires_on": dt.date(9999, 12, 31)},
    {"produced_on": dt.date(1999, 12, 31)},
    {"expires_on": date_max + dt.timedelta(days=1)},
]


def test_dates_outside_the_ledger_are_refused(city):
    before = stored(city)
    for dates in OUTSIDE:
        dates = dict(dates)
        occurred_on = dates.pop("occurred_on", None)
        command = receipt(30, **dates)
        if occurred_on is not None:
            command = c.Receive(command.location_code, command.lines, occurred_on)
        error = refused(Code.date_out_of_range, lambda command=command: city.receive(command))
        assert "2000-01-01" in error.message and "2099-12-31" in error.message
    assert stored(city) == before


def test_the_edges_of_the_date_window_are_accepted(city):
    line = c.ReceiptLine("BYT", "B-EDGE", 30, expires_on=date_max, produced_on=date_min)
    assert city.receive(c.Receive("510100", (line,))).number


# ---- location levels -----------------------------------------------------------------------------


LEVELS = [
    (Location("510122", "青白江区", LocationLevel.county, "510100"), True),
    (Location("510121-GX", "官仓街道", LocationLevel.township, "510121"), True),
    (Location("510121-ZJ-XH", "新合村", LocationLevel.village, "510121-ZJ"), True),
    (Location("510200", "自贡市", LocationLevel.city), True),
    (Location("510121-V", "某村", LocationLevel.village, "510121"), False),
    (Location("510100-V", "某村", LocationLevel.village, "510100"), False),
    (Location("510100-T", "某镇", LocationLevel.township, "510100"), False),
    (Location("510121-ZJ-T", "某镇", LocationLevel.township, "510121-ZJ"), False),
    (Location("510121-C", "某县", LocationLevel.county, "510121"), False),
    (Location("510121-ZJ-PS-V", "某村", LocationLevel.village, "510121-ZJ-PS"), False),
    (Location("510300", "某市", LocationLevel.city, "510100"), False),
]


def test_location_levels(city):
    for location, accepted in LEVELS:
        if accepted:
            assert city.add_location(location) == location
            continue
        before = stored(city)
        error = refused(Code.location_level, lambda location=location: city.add_location(location))
        assert error.field == "parent_code", location
        assert stored(city) == before


def test_a_location_path_that_would_overflow_its_column_is_refused(city):
    """Levels keep paths short (4 codes of at most 40 characters); a chain of townships kept
    from before the levels were enforced could still grow past the column."""
    parent = "510121"
    code_length = 39

    def add_unchecked(code: str, parent_code: str) -> str:
        location = Location(code, "旧镇", LocationLevel.township, parent_code)
        return city.database.write(lambda store: store.add_location(location)).path

    path = "/510100/510121/"
    index = 0
    while len(path) + code_length + 1 <= location_path_length_max:
        code = f"{index:02d}".ljust(code_length, "T")
        path = add_unchecked(code, parent)
        parent, index = code, index + 1
    village = "V" * code_length
    assert len(path) + len(village) + 1 > location_path_length_max
    before = stored(city)
    error = refused(
        Code.location_path_too_long,
        lambda: city.add_location(Location(village, "某村", LocationLevel.village, parent)),
    )
    assert str(location_path_length_max) in error.message
    assert stored(city) == before


# ---- idempotency keys --------------------------------------------------------------------------


def test_a_derived_key_longer_than_the_column_is_stored_as_its_digest(city):
    key = "http:12:" + "k" * idempotency_key_length_max
    assert storable_key(key).startswith("sha256:") and len(storable_key(key)) == 71
    assert storable_key("k" * idempotency_key_length_max) == "k" * idempotency_key_length_max
    command = c.Receive("510100", (c.ReceiptLine("DY", "D1", 5),), idempotency_key=key)
    first = city.receive(command)
    assert city.receive(command).number == first.number
    with city.database.read() as connection:
        keys = connection.execute(select(t.idempotency_keys.c.key)).scalars().all()
    assert storable_key(key) in keys


def test_a_voucher_cuts_at_most_its_limit_of_packs_over_all_its_batches(city, monkeypatch):
    """Each batch within its own limit, but 200 lines of them would cut 200 times as many."""
    monkeypatch.setattr("ledger.db.packs.packs_per_transaction_max", 10)
    before = stored(city)
    lines = tuple(
        c.ReceiptLine("BYT", f"B{index}", 6, "箱", expires_on=dt.date(2028, 1, 31))
        for index in range(2)
    )
    error = refused(Code.too_many_packs, lambda: city.receive(c.Receive("510100", lines)))
    assert "12" in error.message and error.field == "lines"
    assert stored(city) == before
    assert city.receive(c.Receive("510100", lines[:1])).number
