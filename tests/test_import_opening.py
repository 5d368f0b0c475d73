# ruff: noqa: F811  (the `place` fixture is imported from test_cli_init)
"""`ledger import opening-balances FILE --as-of DAY`: one opening voucher per location, all in one
database transaction, checked whole first, idempotent, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from ledger.db import balance_queries
from ledger.db import tables as t
from ledger.limits import opening_lines_per_transaction_max
from ledger.services import reports
from tests.test_cli_init import Place, place  # noqa: F401  (the fixture)
from tests.test_import import ITEMS_CSV, LOCATIONS_CSV, count, started, write

AS_OF = "2026-01-01"
OPENING_CSV = (
    "库点编码,物资编码,批号,有效期至,数量,单位,生产日期\n"
    "510100,NH2014,2014-01,,3,捆,\n"  # a pack converted: 1,500 张
    "510100,BYT,B1,2027-06-30,40,盒,2025-06-30\n"  # 400 只
    "510100,BYT,OLD,2025/3/1,9,,\n"  # expired on the shelf: recorded as it is
    "510121,NH2014,2014-01,,1200,,\n"
    "510121,GT2014,2014-A,,5,套,\n"  # a set of 4 张
    "510121101,BYT,B1,,30,\n"  # the batch's dates given on an earlier row
)


def office(place: Place, tmp_path) -> str:
    url = started(place)
    for kind, text in (("locations", LOCATIONS_CSV), ("items", ITEMS_CSV)):
        done = invoke_ok("import", kind, str(write(tmp_path / f"{kind}.csv", text)), url=url)
        assert "added" in done.out
    return url


def invoke_ok(*arguments: str, url: str):
    from tests.test_backup import invoke

    done = invoke(*arguments, url=url)
    assert done.status == 0, done.out + done.err
    return done


def import_opening(url: str, path, as_of: str = AS_OF):
    from tests.test_backup import invoke

    return invoke("import", "opening-balances", str(path), "--as-of", as_of, url=url)


def on_hand(place: Place, location: str, item: str) -> dict[str, int]:
    database = place.database()
    try:
        with database.read() as connection:
            lines = balance_queries.balances(connection, location, item)
        return {line.batch_number: line.on_hand for line in lines if line.location_code == location}
    finally:
        database.dispose()


def test_a_clean_file_posts_one_opening_per_location(place: Place, tmp_path):
    url = office(place, tmp_path)
    done = import_opening(url, write(tmp_path / "期初.csv", OPENING_CSV))
    assert done.status == 0, done.err
    assert "3 openings posted (6 lines)" in done.out
    assert "QC-2026-000001 510100 成都市: 3 lines, 1,500 张 + 409 只" in done.out
    assert "QC-2026-000002 510121 金堂县: 2 lines, 1,220 张" in done.out
    assert "QC-2026-000003 510121101 赵家镇: 1 lines, 30 只" in done.out
    assert on_hand(place, "510100", "NH2014") == {"2014-01": 1500}
    assert on_hand(place, "510100", "BYT") == {"B1": 400, "OLD": 9}
    assert on_hand(place, "510121", "GT2014") == {"2014-A": 20}
    assert on_hand(place, "510121101", "BYT") == {"B1": 30}

    database = place.database()
    try:
        with database.read() as connection:
            tx = t.transactions.c
            rows = connection.execute(
                select(tx.number, tx.kind, tx.occurred_on, tx.maker_id, tx.memo).order_by(tx.id)
            ).all()
            openings = [r for r in rows if r.kind == "opening"]
            assert [r.number for r in openings] == [f"QC-2026-00000{n}" for n in (1, 2, 3)]
            assert {r.occurred_on for r in openings} == {dt.date(2026, 1, 1)}
            assert {r.maker_id for r in openings} == {None}  # 命令行
            assert {r.memo for r in openings} == {"期初建账：导入 期初.csv"}
            batch = connection.execute(
                select(t.batches.c.produced_on, t.batches.c.expires_on).where(
                    t.batches.c.number == "B1"
                )
            ).one()
            assert tuple(batch) == (dt.date(2025, 6, 30), dt.date(2027, 6, 30))
            log = t.operations_log.c
            entry = connection.execute(
                select(log.actor, log.object_key, log.after).where(
                    log.action == "import.opening-balances"
                )
            ).one()
            assert entry.actor == "命令行" and entry.object_key == "期初.csv"
            assert "QC-2026-000003" in entry.after

        def summary(store):
            return reports.period_summary(
                store, "510100", dt.date(2026, 1, 1), dt.date(2026, 1, 31), rollup=False
            )

        rows = {(r["location_code"], r["item_code"]): r for r in database.lookup(summary).records()}
        assert rows["510100", "BYT"]["opened"] == 409  # 期初建账 column
        assert rows["510121", "NH2014"]["opened"] == 1200
        assert rows["510121", "NH2014"]["opening"] == 0
        assert rows["510121", "NH2014"]["closing"] == 1200
    finally:
        database.dispose()
    verified = invoke_ok("verify", url=url)
    assert "OK" in verified.out


def test_the_same_file_twice_changes_nothing_and_a_different_one_is_refused_by_row(
    place: Place, tmp_path
):
    url = office(place, tmp_path)
    path = write(tmp_path / "期初.csv", OPENING_CSV)
    assert import_opening(url, path).status == 0
    before = place.snapshot()
    again = import_opening(url, path)
    assert again.status == 0, again.err
    assert "0 openings posted (0 lines), 3 locations already opened as in the file" in again.out
    assert "nothing changed" in again.out and "没有任何改动" in again.out
    assert place.snapshot() == before

    changed = (
        OPENING_CSV.replace("510121,NH2014,2014-01,,1200,,", "510121,NH2014,2014-01,,1300,,")
        .replace("510121101,BYT,B1,,30,\n", "")  # 赵家镇's one line gone: nothing for it
        .replace("510100,BYT,OLD,2025/3/1,9,,\n", "")  # 成都市 without one of its lines
        + "510121,NH2014,2014-09,,5,,\n"
    )
    done = import_opening(url, write(tmp_path / "改过.csv", changed))
    assert done.status == 2
    assert "error: import_invalid: 文件有 3 处问题" in done.err
    assert (
        "第 2 行 库点编码：510100 的期初建账单 QC-2026-000001 有 BYT 批号 OLD 9 只，文件中没有；"
        "如需更正，先红冲 QC-2026-000001 再导入"
    ) in done.err
    assert (
        "第 4 行 数量：510121 已有期初建账单 QC-2026-000002，其中 NH2014 批号 2014-01 为 "
        "1200 张，本行为 1300 张"
    ) in done.err
    assert "第 6 行 数量：510121 已有期初建账单 QC-2026-000002，其中没有 NH2014 批号 2014-09" in (
        done.err
    )
    assert place.snapshot() == before
    # Another day for the same lines is a different opening too.
    moved = import_opening(url, path, "2026-02-01")
    assert moved.status == 2 and "建账日期 2026-01-01，与本次 2026-02-01 不同" in moved.err
    assert place.snapshot() == before


def test_every_problem_is_listed_at_once_and_nothing_is_written(place: Place, tmp_path):
    url = office(place, tmp_path)
    assert import_opening(url, write(tmp_path / "a.csv", "库点编码,物资编码,批号,有效期至,数量\n"
                                     "510121,BYT,B1,2027-06-30,10\n")).status == 0  # fmt: skip
    before = place.snapshot()
    bad = (
        "库点编码,物资编码,批号,有效期至,数量,单位\n"
        "999999,NH2014,2014-01,,1,\n"  # 2 unknown location
        "in-transit,NH2014,2014-01,,1,\n"  # 3 a virtual location
        "510100,XX,2014-01,,1,\n"  # 4 unknown item
        "510100,NH2014,2014-01,,1,盒\n"  # 5 a unit the item does not have
        "510100,NH2014,2014-02,,-5,\n"  # 6 negative
        "510100,NH2014,2014-03,,0,\n"  # 7 zero
        "510100,NH2014,2014-04,,2.5,\n"  # 8 a fraction
        "510100,NH2014,2014-05,,十,\n"  # 9 text
        "510100,BYT,NEW,,3,\n"  # 10 expiry missing on a new batch of an expiry-tracked item
        "510100,GT2014,2014-A,2027-01-01,3,\n"  # 11 expiry on an item without one
        "510100,BYT,B2,2027-02-30,3,\n"  # 12 not a date
        "510100,BYT,B1,2028-01-01,3,\n"  # 13 a batch recorded with another expiry
        "510121101,NH2014,2014-06,,1,\n"  # 14 fine on its own …
        "510121101,NH2014,2014-06,,2,\n"  # 15 … but the same location, item and batch again
        "510121101,BYT,B3,2027-01-01,1,\n"  # 16 a new batch …
        "510121101002,BYT,B3,2027-03-01,1,\n"  # 17 … given other dates on a later row
        "510100,BYT,NEW2,,-1,\n"  # 18 two problems in one row: both are listed
    )
    done = import_opening(url, write(tmp_path / "bad.csv", bad), "2099-01-01")  # and the future
    assert done.status == 2
    assert "error: import_invalid: 文件有 17 处问题（涉及 15 行，共 17 行），一行也没有导入" in (
        done.err
    )
    for expected in (
        "整个文件 建账日期：建账日期 2099-01-01 晚于今天",
        "第 2 行 库点编码：账本中没有编码为 999999 的库点",
        "第 3 行 库点编码：in-transit 在途 是虚拟库点，期初只能记在实际库点",
        "第 4 行 物资编码：账本中没有编码为 'XX' 的物资",
        "第 5 行 单位：2014年单张年画 没有单位 '盒'，可用：张、捆、箱",
        "第 6 行 数量：数量不能为负数：-5",
        "第 7 行 数量：数量必须大于零",
        "第 8 行 数量：数量必须是整数，不能是小数：2.5",
        "第 9 行 数量：数量应是正整数，不是 '十'",
        "第 10 行 有效期至：避孕套 管理有效期：新批号 NEW 必须填有效期至",
        "第 11 行 有效期至：2014年挂图 不管理有效期，有效期至应空着",
        "第 12 行 有效期至：有效期至 '2027-02-30' 不是日期",
        "第 13 行 有效期至：避孕套 批号 B1 已登记：生产日期 —，有效期至 2027-06-30，与本行不一致",
        "第 15 行 批号：510121101 的 NH2014 批号 2014-06 与第 14 行重复",
        "第 17 行 有效期至：避孕套 批号 B3 的日期与第 16 行不一致",
        "第 18 行 数量：数量不能为负数：-1",
        "第 18 行 有效期至：避孕套 管理有效期：新批号 NEW2 必须填有效期至",
        "第 16 行 库点编码：510121101 已有期初建账单",
    ):
        if expected.startswith("第 16 行"):
            assert expected not in done.err  # 赵家镇 has no opening yet
            continue
        assert expected in done.err, (expected, done.err)
    assert place.snapshot() == before


def test_an_opening_in_a_closed_period_is_refused(place: Place, tmp_path):
    url = office(place, tmp_path)
    invoke_ok("close-period", "2026-01-31", url=url)
    before = place.snapshot()
    done = import_opening(url, write(tmp_path / "期初.csv", OPENING_CSV))
    assert done.status == 2
    assert (
        "第 2 行 库点编码：成都市 2026-01-31 及以前已月结，建账日期 2026-01-01 须晚于" in done.err
    )
    assert "第 5 行 库点编码：成都市 2026-01-31 及以前已月结" in done.err  # 金堂县's first row
    assert place.snapshot() == before
    done = import_opening(url, tmp_path / "期初.csv", "2026-02-01")
    assert done.status == 0, done.err


def test_a_warehouse_with_more_lines_than_a_voucher_holds_gets_one_opening(place: Place, tmp_path):
    url = office(place, tmp_path)
    book = Workbook()
    sheet = book.active
    sheet.append(["location_code", "item_code", "batch_number", "expires_on", "quantity", "unit"])
    for n in range(250):  # more than the 200 lines of any movement's voucher
        sheet.append(
            ["510100", "BYT", f"B{n:03d}", dt.datetime(2027, 1, 1) + dt.timedelta(n), 2, "盒"]
        )
    book.save(tmp_path / "city.xlsx")
    done = import_opening(url, tmp_path / "city.xlsx")
    assert done.status == 0, done.err
    assert "QC-2026-000001 510100 成都市: 250 lines, 5,000 只" in done.out
    assert count(place, t.postings) == 500
    assert "importing opening-balances" not in done.err  # a short file: no progress bar

    lines = opening_lines_per_transaction_max + 1
    big = "库点编码,物资编码,批号,数量\n" + "".join(f"510121,NH2014,P{n},1\n" for n in range(lines))
    before = place.snapshot()
    done = import_opening(url, write(tmp_path / "big.csv", big))
    assert done.status == 2
    assert (
        f"第 {lines + 1} 行 库点编码：510121 的期初有 {lines} 行，一张期初建账单最多 "
        f"{opening_lines_per_transaction_max} 行"
    ) in done.err
    assert "importing opening-balances" in done.err  # a long file has a progress bar
    assert place.snapshot() == before


def test_the_opening_balance_template(tmp_path):
    from tests.test_backup import invoke

    url = f"sqlite:///{tmp_path / 'none.db'}"  # a template needs no ledger
    out = tmp_path / "期初模板.xlsx"
    done = invoke("import", "template", "opening-balances", "--out", str(out), url=url)
    assert done.status == 0, done.err
    sheet, explained = load_workbook(out).worksheets
    headers = ["库点编码", "物资编码", "批号", "有效期至", "数量", "单位", "生产日期"]
    assert [c.value for c in sheet[1]] == headers and sheet.max_row == 1
    assert explained.title == "说明"
    assert [r[0] for r in explained.iter_rows(min_row=2, values_only=True)] == headers
    checks = {str(v.sqref)[0]: v.type for v in sheet.data_validations.dataValidation}
    assert checks == {"D": "date", "E": "whole", "G": "date"}


def test_an_opening_import_leaves_balances_an_independent_sum_confirms(place: Place, tmp_path):
    """The posted stock equals the file's quantities in base units, summed independently."""
    url = office(place, tmp_path)
    assert import_opening(url, write(tmp_path / "期初.csv", OPENING_CSV)).status == 0
    per_unit = {("NH2014", "捆"): 500, ("BYT", "盒"): 10, ("GT2014", "套"): 4}
    expected: dict[str, int] = {}
    for line in OPENING_CSV.splitlines()[1:]:
        location, item, _batch, _expiry, quantity, unit = line.split(",")[:6]
        key = f"{location}/{item}"
        expected[key] = expected.get(key, 0) + int(quantity) * per_unit.get((item, unit), 1)
    database = place.database()
    try:
        with database.read() as connection:
            b = t.balances.c
            rows = connection.execute(
                select(t.locations.c.code, t.items.c.code, func.sum(b.on_hand))
                .join(t.locations, t.locations.c.id == b.location_id)
                .join(t.items, t.items.c.id == b.item_id)
                .where(t.locations.c.physical.is_(True))
                .group_by(t.locations.c.code, t.items.c.code)
            ).all()
    finally:
        database.dispose()
    assert {f"{loc}/{item}": total for loc, item, total in rows if total} == expected


def test_template_code_and_batch_columns_are_text_so_excel_keeps_them():
    from io import BytesIO

    from ledger.services.import_templates import template

    sheet = load_workbook(BytesIO(template("opening-balances"))).worksheets[0]
    formats = {letter: sheet.column_dimensions[letter].number_format for letter in "ABCDE"}
    assert formats["A"] == formats["B"] == formats["C"] == "@"  # 库点编码, 物资编码, 批号
    assert formats["E"] != "@"  # 数量 is a number
