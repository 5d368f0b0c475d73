"""The fast verifier (over columns) reports exactly what the reference `Verifier` reports: random
ledgers of two cities, with period closes, tampered in every way `verify` knows — postings,
transactions, the chain, stored and running balances, closes and what they kept, the chain
head, batches — and verified both ways, whole and per city, on SQLite and PostgreSQL. Every
report must be equal, field by field, and the fast path must have run (not fallen back)."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from ledger import commands as c
from ledger.db.guards import drop_guards
from ledger.db.unit_of_work import Database
from ledger.rules import LedgerError
from ledger.services import audit
from ledger.services.audit import close_period, verify_ledger
from tests.bound import Ledger
from tests.builder import ledger_from_text
from tests.conftest import ENGINE_KINDS, migrated_engine

SETUP = """
location 510100 成都市 city
location 510121 金堂县 county 510100
location 510121-ZJ 赵家镇 township 510121
location 500100 渝中样例市 city
location 500101 样例一区 county 500100
item NH2014 年画 printed 张 捆=500
item BYT 避孕套 contraceptive 只 盒=3 expiry
"""
CITIES = {"510100": ("510121", "510121-ZJ"), "500100": ("500101",)}
BATCHES = (("NH2014", "2014-01"), ("BYT", "B1"), ("BYT", "B2"))
EXPIRES = {"B1": dt.date(2026, 3, 20), "B2": dt.date(2027, 1, 31)}
START = dt.date(2026, 1, 5)
MEMOS = ("改过", 'a "quoted" memo', "back\\slash", "tab\there", "", "line\nbreak")


def random_ledger(ledger: Ledger, seed: int) -> None:
    """Receipts, issues, confirmations, distributions, write-offs, adjustments and reversals
    in both cities over three months, each month closed in each city after it ends."""
    rng = random.Random(seed)
    today = START
    ledger.clock = lambda: today
    ledger_from_text(ledger, SETUP)
    made: list[str] = []
    shipments: list[str] = []
    closed = 0
    for step in range(rng.randint(20, 45)):
        today = START + dt.timedelta(days=2 * step)
        while closed < 3 and today > dt.date(2026, closed + 2, 1):
            end = dt.date(2026, closed + 2, 1) - dt.timedelta(days=1)
            for city in CITIES:
                ledger.database.write(
                    lambda store, e=end, r=city, t=today: close_period(store, e, None, t, r)
                )
            closed += 1
        command = _command(rng, shipments, made)
        with contextlib.suppress(LedgerError):  # refused: nothing written
            result = ledger.execute(command)
            made.append(result.number)
            if isinstance(command, c.Issue):
                shipments.append(result.number)


def _command(rng: random.Random, shipments: list[str], made: list[str]):
    city = rng.choice(list(CITIES))
    place = rng.choice((city, *CITIES[city]))
    item, batch = rng.choice(BATCHES)
    line = c.LineSpec(item, rng.randint(1, 80), batch)
    roll = rng.random()
    if roll < 0.25:
        receipt = c.ReceiptLine(item, batch, rng.randint(100, 900), expires_on=EXPIRES.get(batch))
        return c.Receive(city, (receipt,), memo=rng.choice(MEMOS))
    if roll < 0.45:
        return c.Issue(city, rng.choice(CITIES[city]), (line, c.LineSpec("NH2014", 3, "2014-01")))
    if roll < 0.55 and shipments:
        return c.Confirm(rng.choice(shipments))
    if roll < 0.7:
        return c.Distribute(place, (line,))
    if roll < 0.78:
        return c.WriteOff(place, (line,), "damaged")
    if roll < 0.88:
        return c.Adjust(
            place, (c.AdjustLine(item, batch, rng.choice((-1, 1)) * rng.randint(1, 30)),)
        )
    if made:
        return c.Reverse(rng.choice(made))
    return c.Distribute(place, (line,))


# ---- tampering ------------------------------------------------------------------------------


def _ids(connection, query: str) -> list:
    return [row[0] for row in connection.execute(text(query))]


def _one(rng, connection, query: str):
    found = _ids(connection, query)
    return rng.choice(found) if found else None


def _change(table: str, setting: str, key: str = "id"):
    def tamper(rng, connection) -> None:
        target = _one(rng, connection, f"SELECT {key} FROM {table}")
        if target is not None:
            connection.execute(
                text(f"UPDATE {table} SET {setting} WHERE {key} = :t"),
                {"t": target, "d": rng.choice((-7, -1, 1, 30)), "m": rng.choice(MEMOS)},
            )

    return tamper


def _delete(table: str, key: str = "id"):
    def tamper(rng, connection) -> None:
        target = _one(rng, connection, f"SELECT {key} FROM {table}")
        if target is not None:
            connection.execute(text(f"DELETE FROM {table} WHERE {key} = :t"), {"t": target})

    return tamper


def _delete_transaction(rng, connection, last: bool = False) -> None:
    ids = _ids(connection, "SELECT id FROM transactions ORDER BY id")
    target = ids[-1] if last else rng.choice(ids)
    connection.execute(text("DELETE FROM postings WHERE transaction_id = :t"), {"t": target})
    connection.execute(text("DELETE FROM transactions WHERE id = :t"), {"t": target})


def _insert_posting(rng, connection) -> None:
    target = _one(rng, connection, "SELECT id FROM postings")
    connection.execute(
        text(
            "INSERT INTO postings (transaction_id, location_id, item_id, batch_id, quantity, "
            "balance_after, occurred_on) SELECT transaction_id, location_id, item_id, batch_id, "
            "quantity + 1, balance_after, occurred_on FROM postings WHERE id = :t"
        ),
        {"t": target},
    )


def _move_posting(rng, connection) -> None:
    target = _one(rng, connection, "SELECT id FROM postings")
    place = _one(rng, connection, "SELECT id FROM locations")
    connection.execute(
        text("UPDATE postings SET location_id = :l WHERE id = :t"), {"t": target, "l": place}
    )


TAMPERS = {
    "posting quantity": _change("postings", "quantity = quantity + :d"),
    "running balance": _change("postings", "balance_after = balance_after + :d"),
    "posting date": _change("postings", "occurred_on = '2026-02-28'"),
    "posting deleted": _delete("postings"),
    "posting added": _insert_posting,
    "posting moved": _move_posting,
    "transaction deleted": _delete_transaction,
    "last transaction deleted": lambda rng, connection: _delete_transaction(rng, connection, True),
    "memo": _change("transactions", "memo = :m"),
    "hash": _change("transactions", "hash = '" + "ab" * 32 + "'"),
    "previous hash": _change("transactions", "previous_hash = '" + "0" * 64 + "'"),
    "chain version": _change("transactions", "chain_version = 1 + (chain_version % 3)"),
    "maker": _change("transactions", "maker_id = 999"),
    "kind": _change("transactions", "kind = 'distribution'"),
    "transaction date": _change("transactions", "occurred_on = '2026-03-31'"),
    "stored balance": _change("balances", "on_hand = on_hand + :d", "batch_id"),
    "reserved": _change("balances", "reserved = reserved + 1", "location_id"),
    "balance deleted": _delete("balances", "location_id"),
    "closing balance": _change("closing_balances", "on_hand = on_hand + :d", "location_id"),
    "close digest": _change("period_closes", "hash = '" + "cd" * 32 + "'"),
    "close sequence": _change("period_closes", "sequence = sequence + 1"),
    "close movement": _change("close_movements", "quantity = quantity + 1", "location_id"),
    "close item movement": _delete("close_item_movements", "location_id"),
    "chain head": _change("chain_head", "sequence = sequence - 1", "sequence"),
    "batch expiry": _change("batches", "expires_on = '2026-01-06'"),
}


def tamper(database: Database, rng: random.Random, names: list[str]) -> None:
    for name in names:
        try:
            with database.engine.begin() as connection:
                drop_guards(connection)
                TAMPERS[name](rng, connection)
        except Exception:  # a constraint the tampering ran into: nothing changed
            continue
    database.catalog.clear()  # as a freshly started process would read it


# ---- both verifiers -------------------------------------------------------------------------


@pytest.fixture
def fast_runs(monkeypatch):
    """How many verifications the fast pass completed (it falls back on what it cannot take)."""
    runs = []
    original = audit.FastPass.run

    def run(self, pending):
        remaining = original(self, pending)
        runs.append(1)
        return remaining

    monkeypatch.setattr(audit.FastPass, "run", run)
    return runs


def assert_same_reports(database: Database, fast_runs: list) -> None:
    for root in (None, "500100"):
        before = len(fast_runs)
        fast = verify_ledger(database, fast=True, root_code=root)
        assert len(fast_runs) == before + 1, "the fast pass fell back to the reference"
        reference = verify_ledger(database, fast=False, root_code=root)
        assert fast == reference


@contextlib.contextmanager
def random_database(kind: str, seed: int):
    with (
        tempfile.TemporaryDirectory() as directory,
        migrated_engine(kind, Path(directory)) as engine,
    ):
        database = Database(engine)
        random_ledger(Ledger(database), seed)
        yield database


@pytest.mark.parametrize("kind", ENGINE_KINDS)
@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_each_tampering_is_reported_alike(kind, name, fast_runs):
    with random_database(kind, 7) as database:
        tamper(database, random.Random(name), [name])
        assert_same_reports(database, fast_runs)


def test_an_untouched_random_ledger_verifies_clean_both_ways(fast_runs, engine):
    database = Database(engine)
    random_ledger(Ledger(database), 11)
    assert verify_ledger(database, fast=True).ok
    assert_same_reports(database, fast_runs)


@pytest.mark.parametrize("kind", ENGINE_KINDS)
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    names=st.lists(st.sampled_from(sorted(TAMPERS)), max_size=4),
    choice=st.integers(0, 10_000),
)
def test_random_tampered_ledgers_are_reported_alike(kind, seed, names, choice, fast_runs):
    with random_database(kind, seed) as database:
        tamper(database, random.Random(choice), names)
        assert_same_reports(database, fast_runs)
