"""Benchmark fixtures: a ledger with stock to move, on SQLite (file, WAL) and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger import commands as c
from ledger.db.engine import upgrade
from ledger.db.unit_of_work import Database
from ledger.model import Item, ItemKind, Location, LocationLevel, Pack
from tests.bound import Ledger
from tests.conftest import PostgresSchema, sqlite_engine

TODAY = dt.date(2026, 6, 30)
COUNTIES = 100
STOCK = 50_000_000  # 100,000 labelled 捆 of 500: the most one batch may be cut into


def stocked_ledger(engine) -> Ledger:
    upgrade(engine)
    ledger = Ledger(Database(engine), clock=lambda: TODAY)
    ledger.add_location(Location("510100", "成都市", LocationLevel.city))
    ledger.execute_many(
        [
            c.AddLocation(Location(f"C{i:03d}", f"县{i}", LocationLevel.county, "510100"))
            for i in range(COUNTIES)
        ]
    )
    ledger.add_item(Item("NH2014", "年画", ItemKind.printed, "年画", "张", (Pack("捆", 500),)))
    ledger.receive(c.Receive("510100", (c.ReceiptLine("NH2014", "2014-01", STOCK),)))
    return ledger


@pytest.fixture(params=["sqlite", "postgresql"])
def bench_ledger(request, tmp_path):
    if request.param == "sqlite":
        engine = sqlite_engine(tmp_path)
        yield stocked_ledger(engine)
        engine.dispose()
        return
    schema = PostgresSchema()
    engine = schema.engine()
    try:
        yield stocked_ledger(engine)
    finally:
        engine.dispose()
        schema.drop()
