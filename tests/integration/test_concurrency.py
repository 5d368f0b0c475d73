"""Concurrent writers: on PostgreSQL stock rows are locked in key order and conflicts retried;
on SQLite writers queue on BEGIN IMMEDIATE. Either way no balance goes below zero."""

from __future__ import annotations

import threading

import pytest

from ledger import commands as c
from ledger.db import balance_queries
from ledger.db.unit_of_work import Database
from ledger.rules import Code, LedgerError
from ledger.services.audit import verify_ledger
from tests.bound import Ledger
from tests.builder import CITY_TEXT, ledger_from_text
from tests.conftest import TODAY, migrated_sqlite_engine, postgres_ledger

THREADS = 8


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def racing_ledger(request, tmp_path):
    if request.param == "sqlite":
        engine = migrated_sqlite_engine(tmp_path)
        yield Ledger(Database(engine), clock=lambda: TODAY)
        engine.dispose()
        return
    with postgres_ledger(pool_size=THREADS + 2, max_overflow=0) as ledger:
        yield ledger


def race(calls):
    """Start every call at once; return each one's result or LedgerError."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except LedgerError as error:
            results[index] = error
        except Exception as error:  # anything else is a failure the test reports
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def on_hand(ledger, location, item, virtual=False):
    with ledger.database.read() as connection:
        return sum(
            line.on_hand
            for line in balance_queries.balances(
                connection, location, item, include_virtual=virtual
            )
        )


def test_racing_writers_never_take_the_last_units_twice(racing_ledger):
    ledger_from_text(
        racing_ledger,
        CITY_TEXT + "receipt 510100 NH2014 2014-01 10\nreceipt 510100 BYT B1 10 expires 2027-01-01",
    )
    # Each writer wants 3 of the last 10, in a different mix of kinds and of key orders.
    calls = []
    for index in range(THREADS):
        lines = (c.LineSpec("NH2014", 3, "2014-01"), c.LineSpec("BYT", 3, "B1"))
        if index % 2:
            lines = tuple(reversed(lines))
        if index % 3 == 0:
            command = c.Distribute("510100", lines)
        else:
            command = c.Issue("510100", "510121" if index % 2 else "510181", lines)
        calls.append(lambda command=command: racing_ledger.execute(command))
    results = race(calls)
    succeeded = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, LedgerError)]
    assert len(succeeded) == 3, results
    assert len(refused) == THREADS - 3
    assert {error.code for error in refused} <= {Code.exceeds_on_hand, Code.exceeds_available}
    assert on_hand(racing_ledger, "510100", "NH2014") == 1
    # Totals are conserved: what left the city is in transit or distributed.
    moved = on_hand(racing_ledger, "in-transit", "NH2014", True) + on_hand(
        racing_ledger, "distributed", "NH2014", True
    )
    assert moved == 9
    numbers = sorted(tx.number for tx in succeeded)
    assert len(set(numbers)) == 3
    report = verify_ledger(racing_ledger.database)
    assert report.ok, report.findings


def test_racing_reversals_reverse_exactly_once(racing_ledger):
    ledger_from_text(racing_ledger, CITY_TEXT + "receipt 510100 NH2014 2014-01 1000")
    original = racing_ledger.distribute(c.Distribute("510100", (c.LineSpec("NH2014", 100),)))
    results = race(
        [lambda: racing_ledger.reverse(c.Reverse(original.number)) for _ in range(THREADS)]
    )
    reversals = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(reversals) == 1, results
    assert all(
        isinstance(r, LedgerError) and r.code is Code.reversal_already_exists for r in refused
    ), refused
    assert on_hand(racing_ledger, "510100", "NH2014") == 1000
    report = verify_ledger(racing_ledger.database)
    assert report.ok, report.findings


def test_concurrent_duplicates_of_one_idempotency_key_post_once(racing_ledger):
    ledger_from_text(racing_ledger, CITY_TEXT + "receipt 510100 NH2014 2014-01 1000")
    command = c.Distribute("510100", (c.LineSpec("NH2014", 10),), idempotency_key="same-key")
    results = race([lambda: racing_ledger.execute(command) for _ in range(THREADS)])
    assert all(not isinstance(r, Exception) for r in results), results
    assert len({r.number for r in results}) == 1
    assert on_hand(racing_ledger, "510100", "NH2014") == 990
