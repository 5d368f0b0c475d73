"""Posting throughput through the use cases: one movement per database transaction, and
batches of 1,000 per database transaction. Each movement is an issue of one batch from the city
to one of 100 counties (2 postings: city −, in-transit +). Results are checked, not just timed.

Run: .venv/bin/python -m pytest bench/test_posting.py --benchmark-only
"""

from __future__ import annotations

from bench.conftest import COUNTIES, STOCK
from ledger import commands as c
from ledger.db import balance_queries
from ledger.services.audit import verify_ledger

SINGLE = 500
BATCH = 1_000
BATCHES = 10


def issues(count: int, offset: int = 0) -> list[c.Issue]:
    return [
        c.Issue(
            "510100",
            f"C{(offset + i) % COUNTIES:03d}",
            (c.LineSpec("NH2014", 1 + (i % 7), "2014-01"),),
        )
        for i in range(count)
    ]


def city_on_hand(ledger) -> int:
    with ledger.database.read() as connection:
        return sum(
            line.on_hand for line in balance_queries.balances(connection, "510100", "NH2014")
        )


def report(benchmark, postings: int) -> None:
    seconds = benchmark.stats.stats.mean
    benchmark.extra_info["postings"] = postings
    benchmark.extra_info["postings_per_second"] = round(postings / seconds)


def test_post_one_movement_per_database_transaction(benchmark, bench_ledger):
    commands = issues(SINGLE)
    rounds = 3

    def post_all():
        for command in commands:
            bench_ledger.execute(command)

    benchmark.pedantic(post_all, rounds=rounds, iterations=1)
    report(benchmark, 2 * SINGLE)
    moved = rounds * sum(command.lines[0].quantity for command in commands)
    assert city_on_hand(bench_ledger) == STOCK - moved


def test_post_batches_of_1000_per_database_transaction(benchmark, bench_ledger):
    batches = [issues(BATCH, offset=b) for b in range(BATCHES)]
    rounds = 3

    def post_all():
        for batch in batches:
            bench_ledger.execute_many(batch)

    benchmark.pedantic(post_all, rounds=rounds, iterations=1)
    report(benchmark, 2 * BATCH * BATCHES)
    moved = rounds * sum(command.lines[0].quantity for batch in batches for command in batch)
    assert city_on_hand(bench_ledger) == STOCK - moved
    verification = verify_ledger(bench_ledger.database)
    assert verification.ok and verification.transactions_checked == 1 + rounds * BATCH * BATCHES
