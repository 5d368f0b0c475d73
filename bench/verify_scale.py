"""Verification from genesis side by side on a copy of a bulk-loaded synthetic city (a SQLite file
written by `python -m scripts.synthetic_city --mode bulk`): the reference path (the Verifier fed
one transaction at a time) and the fast path (over columns), one run each, in one process; both
reports must be equal.

    python -m bench.verify_scale --city CITY.sqlite [--prepared COPY.sqlite] [--fast-only]

The copy is prepared as bench/test_scale.py prepares its city before `verify` from genesis:
migrated to the current schema, January to November closed a month at a time, the late December
distributions (1% more postings), December closed. --prepared keeps the prepared copy at that
path, or reuses it when it exists. The city file itself is never written.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.services.audit import verify_ledger


def prepare(city: Path, copy: Path) -> None:
    from bench.test_scale import _close, _late_december

    source, target = sqlite3.connect(city), sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    database = Database(make_engine(f"sqlite:///{copy}"))
    try:
        database.upgrade()
        for month in range(1, 12):
            _close(database, month)
        _late_december(database)
        _close(database, 12)
    finally:
        database.dispose()


def timed(database: Database, fast: bool):
    load = os.getloadavg()[0]
    started = time.perf_counter()
    report = verify_ledger(database, fast=fast)
    seconds = time.perf_counter() - started
    path = "fast" if fast else "reference"
    print(
        f"verify from genesis, {path}: {seconds:.2f} s over {report.postings_checked:,} postings "
        f"({report.transactions_checked:,} transactions), ok={report.ok}, load {load:.2f}"
    )
    return report, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", type=Path, required=True)
    parser.add_argument("--prepared", type=Path)
    parser.add_argument("--fast-only", action="store_true")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        copy = arguments.prepared or Path(directory) / "city.sqlite"
        if not copy.exists():
            started = time.perf_counter()
            prepare(arguments.city, copy)
            print(f"prepared {copy.name} in {time.perf_counter() - started:.1f} s")
        database = Database(make_engine(f"sqlite:///{copy}"))
        database.upgrade()  # a prepared copy kept from an earlier schema
        try:
            fast, fast_seconds = timed(database, True)
            if not arguments.fast_only:
                reference, seconds = timed(database, False)
                assert fast == reference, "the fast and the reference reports differ"
                print(f"reference ÷ fast: {seconds / fast_seconds:.1f}×")
        finally:
            database.dispose()


if __name__ == "__main__":
    main()
