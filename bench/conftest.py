"""Benchmark fixtures: a ledger with stock to move, on SQLite (file, WAL) and PostgreSQL; the
synthetic city of 1 million postings on SQLite."""

from __future__ import annotations

import datetime as dt
import os
import shutil

import pytest

from ledger import commands as c
from ledger.db.engine import make_engine, upgrade
from ledger.db.unit_of_work import Database
from ledger.model import Item, ItemKind, Location, LocationLevel, Pack
from scripts.synthetic_city import load_bulk
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


@pytest.fixture(scope="module")
def city_1m(tmp_path_factory):
    """(database, the city's code): a copy of the shared 1M city when LEDGER_BENCH_CITY_1M names
    one (upgraded to the head on the copy), else the synthetic city bulk-loaded here."""
    shared = os.environ.get("LEDGER_BENCH_CITY_1M", "")
    path = tmp_path_factory.mktemp("city-1m") / "city.db"
    database = Database(make_engine(f"sqlite:///{path}"))
    if shared and os.path.exists(shared):
        shutil.copyfile(shared, path)
        database.upgrade()
    else:
        database.upgrade()
        load_bulk(database, 1_000_000)
    root = database.lookup(
        lambda s: s.connection.exec_driver_sql(
            "SELECT code FROM locations WHERE level = 'city'"
        ).scalar_one()
    )
    yield database, root
    database.dispose()
