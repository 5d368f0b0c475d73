"""Time `ledger import opening-balances` of 10,000 lines over the generated 3,000-village tree of
bench/import_villages.py and 50 items, on SQLite and, when reachable, PostgreSQL.

    .venv/bin/python -m bench.import_opening [--pg URL] [--runs 3]

The lines sit where an office keeps stock: 1,000 at the city's warehouse (50 items × 20
batches), 4,000 at the 20 区县 warehouses (200 each), 4,800 at the 200 乡镇 stations (24 each)
and 200 at villages (one each): 421 opening vouchers. Each run starts a fresh ledger (`ledger
init`'s use case, the tree and the items imported), then times the import of the .xlsx file —
reading it, checking it whole and posting it in one database transaction — and the second
import of the same file (nothing changes). Prints the median of the runs, the file sizes (the
API takes files up to 20 MiB), and checks the balances against the file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from bench.import_villages import COUNTIES, TOWNSHIPS, VILLAGES, village_tree

ROOT = "510100"
PRINTED, CONTRACEPTIVES = 30, 20
BATCHES_AT_CITY = 20
AS_OF = dt.date(2026, 1, 1)
TODAY = dt.date(2026, 11, 26)


def item_codes() -> list[str]:
    return [f"NH{n:02d}" for n in range(1, PRINTED + 1)] + [
        f"BY{n:02d}" for n in range(1, CONTRACEPTIVES + 1)
    ]


def items_file(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["编码", "名称", "类别", "品种", "单位", "包装", "有效期管理"])
    for n in range(1, PRINTED + 1):
        sheet.append([f"NH{n:02d}", f"第{n}号宣传画", "宣传品", "年画", "张", "捆=500", "否"])
    for n in range(1, CONTRACEPTIVES + 1):
        sheet.append([f"BY{n:02d}", f"第{n}号避孕套", "药具", "避孕套", "只", "盒=10", "是"])
    book.save(path)
    return path


def opening_lines() -> list[tuple[str, str, str, dt.date | None, int]]:
    """(location, item, batch, expiry, quantity in base units): 10,000 lines."""
    items = item_codes()

    def line(location: str, item: str, batch: int, quantity: int):
        expiry = dt.date(2027, 1, 1) + dt.timedelta(days=30 * batch) if item[:2] == "BY" else None
        return (location, item, f"2025-{batch:02d}", expiry, quantity)

    lines = [
        line(ROOT, item, batch, 1000 + 10 * batch)
        for item in items
        for batch in range(1, BATCHES_AT_CITY + 1)
    ]
    for c in range(1, COUNTIES + 1):
        county = f"5101{c:02d}"
        lines += [line(county, item, b, 200 + c) for item in items for b in range(1, 5)]
        for s in range(1, TOWNSHIPS + 1):
            town = f"{county}{s:03d}"
            start = (c * TOWNSHIPS + s) % len(items)
            lines += [
                line(town, items[(start + k) % len(items)], 1 + k % 2, 30 + s) for k in range(24)
            ]
            village = f"{town}001"
            lines.append(line(village, items[start], 1, 5))
    assert len(lines) == 10_000, len(lines)
    return lines


def opening_file(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["库点编码", "物资编码", "批号", "有效期至", "数量", "单位"])
    for location, item, batch, expiry, quantity in opening_lines():
        sheet.append([location, item, batch, expiry, quantity, None])
    book.save(path)
    return path


def measure(url: str, folder: Path) -> tuple[float, float]:
    from ledger.db import tables as t
    from ledger.db.unit_of_work import Database
    from ledger.services.imports import import_file
    from ledger.services.setup import start_ledger

    database = Database.from_url(url)
    clock = lambda: TODAY  # noqa: E731
    try:
        start_ledger(database, ROOT, "成都市", "管理员", clock=clock)
        import_file(database, "locations", folder / "villages.csv", clock=clock)
        import_file(database, "items", folder / "items.xlsx", clock=clock)
        path = folder / "opening.xlsx"
        started = time.perf_counter()
        first = import_file(database, "opening-balances", path, clock=clock, as_of=AS_OF)
        middle = time.perf_counter()
        second = import_file(database, "opening-balances", path, clock=clock, as_of=AS_OF)
        ended = time.perf_counter()
        assert sum(p.lines for p in first.posted) == 10_000
        assert not second.posted and second.unchanged == 10_000
        expected = Counter()
        for location, item, _, _, quantity in opening_lines():
            expected[location, item] += quantity
        from sqlalchemy import func, select

        with database.read() as connection:
            b, loc, it = t.balances.c, t.locations.c, t.items.c
            rows = connection.execute(
                select(loc.code, it.code, func.sum(b.on_hand))
                .join(t.locations, loc.id == b.location_id)
                .join(t.items, it.id == b.item_id)
                .where(loc.physical.is_(True))
                .group_by(loc.code, it.code)
            ).all()
        assert {(r[0], r[1]): r[2] for r in rows if r[2]} == dict(expected)
        return middle - started, ended - middle
    finally:
        database.dispose()


def postgres_url(server: str, schema: str) -> str:
    separator = "&" if "?" in server else "?"
    return f"{server}{separator}options=-csearch_path%3D{schema}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="a PostgreSQL server's URL (a schema is made per run)")
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        village_tree(folder / "villages.csv")
        items_file(folder / "items.xlsx")
        opening_file(folder / "opening.xlsx")
        village_tree_xlsx = folder / "villages.xlsx"
        _csv_to_xlsx(folder / "villages.csv", village_tree_xlsx)
        print(
            f"files: opening.xlsx {(folder / 'opening.xlsx').stat().st_size / 1e6:.2f} MB "
            f"(10,000 lines), villages.xlsx {village_tree_xlsx.stat().st_size / 1e6:.2f} MB and "
            f"villages.csv {(folder / 'villages.csv').stat().st_size / 1e6:.2f} MB "
            f"({COUNTIES * TOWNSHIPS * (VILLAGES + 1) + COUNTIES} rows)"
        )
        engines = [("sqlite", lambda run: f"sqlite:///{folder}/bench-{run}.db", None)]
        if arguments.pg:
            engines.append(("postgresql", None, arguments.pg))
        for engine, sqlite_url, server in engines:
            firsts, seconds = [], []
            for run in range(arguments.runs):
                if server is None:
                    first, second = measure(sqlite_url(run), folder)
                else:
                    first, second = _on_postgres(server, folder)
                firsts.append(first)
                seconds.append(second)
            print(
                f"{engine}: 10,000 lines ({len({line[0] for line in opening_lines()})} vouchers) "
                "imported in "
                f"{statistics.median(firsts):.2f} s (median of {arguments.runs}: "
                f"{', '.join(f'{s:.2f}' for s in firsts)}); again, nothing changed: "
                f"{statistics.median(seconds):.2f} s"
            )


def _on_postgres(server: str, folder: Path) -> tuple[float, float]:
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        return measure(postgres_url(server, schema), folder)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _csv_to_xlsx(source: Path, target: Path) -> None:
    import csv

    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    with source.open(encoding="utf-8-sig") as rows:
        for row in csv.reader(rows):
            sheet.append(row)
    book.save(target)


if __name__ == "__main__":
    main()
