"""The 收发存汇总表 on a big ledger already built (a copy of the synthetic city, e.g. the one
bench/test_scale.py loads): bench/test_scale.py's `test_city_wide_period_summary_for_the_year`
(the year's city-wide summary, every place and its subtree rolled up, nothing closed) and other
ranges of days, timed, each checked: the year's city roll-up closes at what the city's tree
holds, and every range's lines add up (opening + in − out = closing).

It brings the database to the schema of the code it runs with first (for a ledger made before
the movement totals, migration 0012 sums them from the postings: timed too), so give it a copy.

    .venv/bin/python -m bench.summary_at_scale city-copy.sqlite [--rounds 3]

Prints one JSON object: the load before and after, the migration's seconds, and per range the
seconds of each round (wall clock, and the CPU time of this process: SQLite runs in it, so on
a machine shared with other work that is nearer what the report costs) and the report's lines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time

from ledger.db import balance_queries
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.services import reports

YEAR = 2025
RANGES = {
    "year": (dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)),
    "quarter": (dt.date(YEAR, 4, 1), dt.date(YEAR, 6, 30)),
    "month": (dt.date(YEAR, 7, 1), dt.date(YEAR, 7, 31)),
    "one day": (dt.date(YEAR, 8, 14), dt.date(YEAR, 8, 14)),
    "16 Jan - 14 Dec": (dt.date(YEAR, 1, 16), dt.date(YEAR, 12, 14)),
    "16 Feb - 15 Aug": (dt.date(YEAR, 2, 16), dt.date(YEAR, 8, 15)),
    "16 Jul - 15 Aug": (dt.date(YEAR, 7, 16), dt.date(YEAR, 8, 15)),
}


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _summary(database: Database, first: dt.date, last: dt.date, by_batch: bool = False):
    return database.lookup(
        lambda store: reports.period_summary(
            store, "510100", first, last, rollup=True, by_batch=by_batch
        )
    )


def _check(database: Database, name: str, report) -> None:
    records = report.records()
    assert records, name
    for record in records:
        assert record["opening"] + record["total_in"] - record["total_out"] == record["closing"]
    if name == "year":  # as bench/test_scale.py checks it
        with database.read() as connection:
            stored = balance_queries.balances(connection)
        for record in (r for r in records if r["location_code"] == "510100"):
            held = sum(b.on_hand for b in stored if b.item_code == record["item_code"])
            assert record["closing"] == held, record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", help="path of a SQLite copy of a synthetic city")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--by-batch", action="store_true")
    arguments = parser.parse_args()
    figures: dict = {"load_before": _load(), "ranges": {}}
    database = Database(make_engine(f"sqlite:///{arguments.database}"))
    started = time.perf_counter()
    database.upgrade()
    figures["upgrade_s"] = round(time.perf_counter() - started, 2)
    for name, (first, last) in RANGES.items():
        rounds, cpu = [], []
        for _ in range(arguments.rounds):
            started, used = time.perf_counter(), time.process_time()
            report = _summary(database, first, last, arguments.by_batch)
            rounds.append(round(time.perf_counter() - started, 3))
            cpu.append(round(time.process_time() - used, 3))
        _check(database, name, report)
        figures["ranges"][name] = {"seconds": rounds, "cpu_seconds": cpu, "lines": len(report.rows)}
    figures["load_after"] = _load()
    database.dispose()
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
