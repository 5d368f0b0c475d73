"""A real office's first day, from nothing, on SQLite and PostgreSQL: `ledger init`, the
3,000-village tree and 50 items imported from XLSX, 500 opening-balance lines (期初建账), a few
movements through the API by the admin and by a user it made there (a county clerk who also
approves), a backup, a restore into a second database — and on the restored copy the balances,
the 收发存汇总表's 期初 columns and `verify`."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

from litestar.testing import TestClient
from openpyxl import Workbook

from api.app import create_app
from bench.import_villages import COUNTIES, TOWNSHIPS, VILLAGES, village_tree
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.services import reports
from ledger.services.audit import verify_ledger
from ledger.settings import office_today
from tests.test_backup import invoke, stored_balances, urls  # noqa: F401  (the fixture)

PRINTED, CONTRACEPTIVES = 40, 10
CITY, COUNTY = "510100", "510101"


def xlsx(path: Path, rows: list[list]) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def tree_xlsx(folder: Path) -> Path:
    """The bench's generated tree (20 区县 × 10 乡镇 × 15 村 under 成都市), as an XLSX."""
    village_tree(folder / "tree.csv")
    with (folder / "tree.csv").open(encoding="utf-8-sig", newline="") as source:
        return xlsx(folder / "库点.xlsx", list(csv.reader(source)))


def items_xlsx(folder: Path) -> Path:
    rows: list[list] = [["编码", "名称", "类别", "品种", "单位", "包装", "有效期管理"]]
    for n in range(1, PRINTED + 1):
        rows.append([f"NH{n:02d}", f"第{n}号宣传年画", "宣传品", "年画", "张", "捆=500", "否"])
    for n in range(1, CONTRACEPTIVES + 1):
        rows.append(
            [f"BY{n:02d}", f"第{n}号避孕套", "药具", "避孕套", "只", "盒=10; 箱=1000", "是"]
        )
    return xlsx(folder / "物资.xlsx", rows)


def item_codes() -> list[str]:
    return [f"NH{n:02d}" for n in range(1, PRINTED + 1)] + [
        f"BY{n:02d}" for n in range(1, CONTRACEPTIVES + 1)
    ]


def opening_lines() -> list[tuple[str, str, str, dt.date | None, int, str]]:
    """500 lines: every item in two batches at the city's warehouse (100 lines), and 20 lines
    at each of the 20 counties (400): (location, item, batch, expiry, quantity, unit)."""
    lines = []
    for index, item in enumerate(item_codes()):
        expiry = dt.date(2028, 6, 30) if item.startswith("BY") else None
        for batch in ("A", "B"):
            unit = "盒" if item.startswith("BY") else "捆"
            lines.append((CITY, item, f"2025-{batch}", expiry, 3 + index, unit))
    for c in range(1, COUNTIES + 1):
        for index, item in enumerate(item_codes()[c % 30 : c % 30 + 20]):
            expiry = dt.date(2028, 6, 30) if item.startswith("BY") else None
            lines.append((f"5101{c:02d}", item, "2025-A", expiry, 40 + index + c, ""))
    assert len(lines) == 500
    return lines


def base_units(item: str, quantity: int, unit: str) -> int:
    return quantity * {"捆": 500, "盒": 10, "": 1}[unit]


def opening_xlsx(folder: Path) -> Path:
    rows: list[list] = [["库点编码", "物资编码", "批号", "有效期至", "数量", "单位"]]
    for location, item, batch, expiry, quantity, unit in opening_lines():
        rows.append([location, item, batch, expiry, quantity, unit or None])
    return xlsx(folder / "期初.xlsx", rows)


def token_of(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("token (shown once): ")]
    assert len(lines) == 1, output
    return lines[0].removeprefix("token (shown once): ")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_office_starts_from_nothing_and_its_backup_restores(urls, tmp_path):  # noqa: F811
    source_url, target_url = urls
    today = office_today()
    as_of = today - dt.timedelta(days=40)

    made = invoke(
        "init", "--root-code", CITY, "--root-name", "成都市", "--admin", "市宣传中心管理员",
        url=source_url,
    )  # fmt: skip
    assert made.status == 0, made.err
    admin = token_of(made.out)

    done = invoke("import", "locations", str(tree_xlsx(tmp_path)), url=source_url)
    assert done.status == 0, done.err
    villages = COUNTIES * TOWNSHIPS * VILLAGES
    assert f"{villages + COUNTIES * (TOWNSHIPS + 1)} added" in done.out
    done = invoke("import", "items", str(items_xlsx(tmp_path)), url=source_url)
    assert done.status == 0, done.err
    assert "50 added" in done.out
    opening = str(opening_xlsx(tmp_path))
    done = invoke("import", "opening-balances", opening, "--as-of", str(as_of), url=source_url)
    assert done.status == 0, done.err
    again = invoke("import", "opening-balances", opening, "--as-of", str(as_of), url=source_url)
    assert again.status == 0, again.err  # the same file twice: nothing the second time
    assert "nothing changed" in again.out and "21 locations already opened" in again.out

    expected: Counter = Counter()  # (location, item) → base units, from the file
    for location, item, _, _, quantity, unit in opening_lines():
        expected[(location, item)] += base_units(item, quantity, unit)

    source = Database(make_engine(source_url))
    try:
        with TestClient(app=create_app(source)) as client:
            # The admin makes the county's clerk, who also approves, over the API.
            made_user = client.post(
                "/api/v1/users",
                json={"label": "县仓库保管员兼审核", "roles": ["clerk", "approver"],
                      "location_code": COUNTY},
                headers=bearer(admin),
            )  # fmt: skip
            assert made_user.status_code == 201, made_user.text
            county = made_user.json()["token"]
            shipped = client.post(
                "/api/v1/transactions/issues",
                json={"source_code": CITY, "destination_code": COUNTY,
                      "lines": [{"item_code": "NH01", "quantity": 2, "unit": "捆"}]},
                headers=bearer(admin),
            )  # fmt: skip
            assert shipped.status_code == 201, shipped.text
            confirmed = client.post(
                "/api/v1/transactions/confirmations",
                json={"shipment_number": shipped.json()["number"]},
                headers=bearer(county),
            )
            assert confirmed.status_code == 201, confirmed.text
            handed = client.post(
                "/api/v1/transactions/distributions",
                json={"location_code": COUNTY, "memo": "5.29 宣传活动",
                      "lines": [{"item_code": "NH01", "quantity": 300}]},
                headers=bearer(county),
            )  # fmt: skip
            assert handed.status_code == 201, handed.text
            assert client.get("/api/v1/me", headers=bearer(county)).json()["location_code"] == (
                COUNTY
            )
        expected[(CITY, "NH01")] -= 1000
        expected[(COUNTY, "NH01")] += 1000 - 300
        source_balances = stored_balances(source)
    finally:
        source.dispose()

    backed = invoke("backup", "--out", str(tmp_path / "office.backup"), url=source_url)
    assert backed.status == 0, backed.err
    assert "verify: OK" in backed.out
    restored = invoke("restore", str(tmp_path / "office.backup"), url=target_url)
    assert restored.status == 0, restored.err
    assert restored.checkpoint() == backed.checkpoint()

    copy = Database(make_engine(target_url))
    try:
        report = verify_ledger(copy)
        assert report.ok and report.findings == ()
        assert stored_balances(copy) == source_balances

        def summary(date_from: dt.date) -> dict[tuple[str, str], dict]:
            made = copy.lookup(
                lambda store: reports.period_summary(store, CITY, date_from, today, rollup=False)
            )
            return {(r["location_code"], r["item_code"]): r for r in made.records()}

        # A period from the as-of day: the opening stock is its 收入·期初建账 column.
        from_start = summary(as_of)
        opened = {key: row["opened"] for key, row in from_start.items() if row["opened"]}
        assert opened == {
            key: sum(
                base_units(item, quantity, unit)
                for location, item, _, _, quantity, unit in opening_lines()
                if (location, item) == key
            )
            for key in {(line[0], line[1]) for line in opening_lines()}
        }
        assert all(row["opening"] == 0 for row in from_start.values())
        # A period after it: the same stock, moved on by the API's movements, is 期初结存.
        later = summary(as_of + dt.timedelta(days=1))
        assert {key: row["opening"] for key, row in later.items() if row["opening"]} == opened
        closing = {key: row["closing"] for key, row in later.items() if row["closing"]}
        assert closing == {key: quantity for key, quantity in expected.items() if quantity}
    finally:
        copy.dispose()
