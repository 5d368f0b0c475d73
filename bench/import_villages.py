"""Time `ledger import locations` of a generated 3,000-village tree (20 区县 × 10 乡镇 × 15 村
under 510100 成都市, 3,220 rows), on SQLite and, when reachable, PostgreSQL.

    .venv/bin/python -m bench.import_villages [--pg URL]

Prints the seconds of the first import (everything added) and of the second (nothing changed).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import tempfile
import time
from pathlib import Path

COUNTIES, TOWNSHIPS, VILLAGES = 20, 10, 15


def village_tree(path: Path, root: str = "510100") -> int:
    """Write the tree as a UTF-8 CSV with BOM and Chinese headers; returns the number of rows."""
    rows = [("编码", "名称", "上级编码", "级别", "人口")]
    for c in range(1, COUNTIES + 1):
        county = f"5101{c:02d}"
        rows.append((county, f"第{c}区县", root, "区县", ""))
        for s in range(1, TOWNSHIPS + 1):
            town = f"{county}{s:03d}"
            rows.append((town, f"第{c}区县第{s}镇", county, "乡镇", ""))
            for v in range(1, VILLAGES + 1):
                rows.append((f"{town}{v:03d}", f"第{s}镇第{v}村", town, "村", str(800 + v)))
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows(rows)
    return len(rows) - 1


def measure(url: str, folder: Path) -> tuple[float, float]:
    from ledger.db.unit_of_work import Database
    from ledger.services.imports import import_file
    from ledger.services.setup import start_ledger

    database = Database.from_url(url)
    try:
        start_ledger(database, "510100", "成都市", "管理员", clock=lambda: dt.date(2026, 11, 26))
        path = folder / "villages.csv"
        village_tree(path)
        started = time.perf_counter()
        first = import_file(database, "locations", path)
        middle = time.perf_counter()
        second = import_file(database, "locations", path)
        ended = time.perf_counter()
        assert len(first.added) == COUNTIES * TOWNSHIPS * (VILLAGES + 1) + COUNTIES
        assert not second.added and not second.updated
        return middle - started, ended - middle
    finally:
        database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="an empty PostgreSQL database's URL")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        first, second = measure(f"sqlite:///{folder}/bench.db", Path(folder))
        print(
            f"sqlite: 3,220 rows imported in {first:.2f} s; again (nothing changed) {second:.2f} s"
        )
        if arguments.pg:
            first, second = measure(arguments.pg, Path(folder))
            print(f"postgresql: imported in {first:.2f} s; again {second:.2f} s")


if __name__ == "__main__":
    main()
