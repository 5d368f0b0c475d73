# ruff: noqa: F811  (the `place` fixture is imported from test_cli_init)
"""`ledger import locations|items FILE` and `ledger import template`: master data from .csv
(UTF-8, with or without BOM) or .xlsx, checked whole before anything is written, written through
the use cases (versions and operations log), idempotent, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from bench.import_villages import village_tree
from ledger.db import tables as t
from tests.test_backup import invoke
from tests.test_cli_init import INIT, Place, place  # noqa: F401  (the fixture)

LOCATIONS_CSV = (
    "编码,名称,上级编码,级别,人口\n"
    "510121101,赵家镇,510121,乡镇,\n"  # its parent comes later in the file
    "510121,金堂县,510100,区县,800000\n"
    "510121101001,平水村,510121101,村,1200\n"
    "510121101002,红花村,510121101,村,\n"
)
ITEMS_CSV = (
    "编码,名称,类别,品种,单位,包装,有效期管理\n"
    "NH2014,2014年单张年画,宣传品,年画,张,捆=500; 箱=10000,否\n"
    "GT2014,2014年挂图,宣传品,挂图,张,套=4,否\n"
    "BYT,避孕套,药具,避孕套,只,盒=10；箱=1000,是\n"
)


def started(place: Place) -> str:
    made = invoke(*INIT, url=place.url)
    assert made.status == 0, made.err
    return place.url


def write(path: Path, text: str, bom: bool = True) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def count(place: Place, table, *where) -> int:
    database = place.database()
    try:
        with database.read() as connection:
            query = select(func.count()).select_from(table)
            for condition in where:
                query = query.where(condition)
            return connection.execute(query).scalar_one()
    finally:
        database.dispose()


def test_csv_with_bom_and_chinese_headers(place: Place, tmp_path):
    url = started(place)
    versions_before = count(place, t.reference_versions)
    done = invoke("import", "locations", str(write(tmp_path / "库点.csv", LOCATIONS_CSV)), url=url)
    assert done.status == 0, done.err
    assert "4 added, 0 updated, 0 unchanged" in done.out
    done = invoke("import", "items", str(write(tmp_path / "物资.csv", ITEMS_CSV)), url=url)
    assert done.status == 0, done.err
    assert "3 added" in done.out

    database = place.database()
    try:
        with database.read() as connection:
            loc, parent = t.locations.c, t.locations.alias("p")
            rows = connection.execute(
                select(loc.code, loc.name, loc.level, parent.c.code, loc.path)
                .select_from(t.locations.join(parent, parent.c.id == loc.parent_id))
                .where(loc.code.like("510121%"))
                .order_by(loc.code)
            ).all()
            assert [tuple(r) for r in rows] == [
                ("510121", "金堂县", "county", "510100", "/510100/510121/"),
                ("510121101", "赵家镇", "township", "510121", "/510100/510121/510121101/"),
                (
                    "510121101001",
                    "平水村",
                    "village",
                    "510121101",
                    "/510100/510121/510121101/510121101001/",
                ),
                (
                    "510121101002",
                    "红花村",
                    "village",
                    "510121101",
                    "/510100/510121/510121101/510121101002/",
                ),
            ]
            items = {
                r.code: r
                for r in connection.execute(
                    select(
                        t.items.c.code,
                        t.items.c.kind,
                        t.items.c.category,
                        t.items.c.base_unit,
                        t.items.c.expiry_tracked,
                    )
                )
            }
            assert items["NH2014"][1:] == ("printed", "年画", "张", False)
            assert items["BYT"][1:] == ("contraceptive", "避孕套", "只", True)
            packs = connection.execute(
                select(t.item_packs.c.name, t.item_packs.c.base_units)
                .join(t.items, t.items.c.id == t.item_packs.c.item_id)
                .where(t.items.c.code == "BYT")
                .order_by(t.item_packs.c.position)
            ).all()
            assert [tuple(p) for p in packs] == [("盒", 10), ("箱", 1000)]
    finally:
        database.dispose()
    # Each row is a use case: version 1 and an operations-log entry.
    assert (
        count(place, t.operations_log, t.operations_log.c.action == "location.add") == 5
    )  # root too
    assert count(place, t.operations_log, t.operations_log.c.action == "item.add") == 3
    assert count(place, t.reference_versions) == versions_before + 4 + 3
    verified = invoke("verify", url=url)
    assert verified.status == 0, verified.out + verified.err


def test_xlsx_with_english_headers(place: Place, tmp_path):
    url = started(place)
    book = Workbook()
    sheet = book.active
    sheet.append(["code", "name", "parent_code", "level"])
    sheet.append([510121, "金堂县", 510100, "county"])  # numbers, as Excel keeps codes
    sheet.append([510121101, "赵家镇", 510121, "township"])
    sheet.append([None, None, None, None])  # an empty row is skipped
    sheet.append([510121101001, "平水村", 510121101, "village"])
    book.save(tmp_path / "locations.xlsx")
    done = invoke("import", "locations", str(tmp_path / "locations.xlsx"), url=url)
    assert done.status == 0, done.err
    assert "3 added" in done.out

    book = Workbook()
    sheet = book.active
    sheet.append(["code", "name", "category", "unit", "packs", "tracks_expiry"])
    sheet.append(["GT2014", "挂图", "printed", "张", "套=4", "no"])
    sheet.append(["BYT", "避孕套", "contraceptive", "只", "盒=10", "yes"])
    book.save(tmp_path / "items.xlsx")
    done = invoke("import", "items", str(tmp_path / "items.xlsx"), url=url)
    assert done.status == 0, done.err
    assert count(place, t.items) == 2
    # Without a 品种 column the category is the 类别's name.
    assert count(place, t.items, t.items.c.category == "宣传品", t.items.c.code == "GT2014") == 1
    assert count(place, t.items, t.items.c.expiry_tracked.is_(True)) == 1
    assert count(place, t.locations, t.locations.c.code == "510121101001") == 1


def test_every_problem_is_reported_and_nothing_is_written(place: Place, tmp_path):
    url = started(place)
    before = place.snapshot()
    bad = write(
        tmp_path / "bad.csv",
        "编码,名称,上级编码,级别\n"
        "510121,金堂县,510100,区县\n"  # fine on its own
        "510122,青白江区,999999,区县\n"  # unknown parent
        "510121,金堂县,510100,区县\n"  # duplicate code
        "510121101001,平水村,510121,村\n"  # a 村 under a 区县
        "510121102,淮口镇,510121,省\n"  # unknown level
        "510123,,510100,区县\n",  # no name
        bom=False,
    )
    done = invoke("import", "locations", str(bad), url=url)
    assert done.status == 2
    lines = done.err.strip().splitlines()
    first = next(line for line in lines if line.startswith("error: "))
    assert first.startswith("error: import_invalid: 文件有 5 处问题")
    listed = "\n".join(lines)
    assert "第 3 行 上级编码：上级编码 999999 既不在账本中，也不在本文件中" in listed
    assert "第 4 行 编码：编码 510121 与第 2 行重复" in listed
    assert "第 5 行 级别：级别顺序不对：村的上级应是乡镇" in listed
    assert "第 6 行 级别：不认识的级别 '省'" in listed
    assert "第 7 行 名称：" in listed
    assert place.snapshot() == before

    items = write(
        tmp_path / "bad-items.csv",
        "编码,名称,类别,单位,包装,有效期管理\n"
        "NH2014,年画,宣传品,张,捆=500,否\n"
        "X1,某物,食品,斤,捆=abc,也许\n"
        "X2,某物,药具,盒,盒=10,是\n",  # a pack named as the unit
    )
    done = invoke("import", "items", str(items), url=url)
    assert done.status == 2
    assert "error: import_invalid: 文件有 5 处问题（涉及 2 行" in done.err
    for expected in (
        "第 3 行 类别：不认识的类别 '食品'",
        "第 3 行 单位：不认识的单位 '斤'",
        "第 3 行 包装：包装 '捆=abc' 写法不对",
        "第 3 行 有效期管理：有效期管理应填 是 或 否",
        "第 4 行 包装：包装 盒 重复（或与单位 盒 相同）",
    ):
        assert expected in done.err, done.err
    assert place.snapshot() == before

    missing = write(tmp_path / "missing.csv", "编码,名称\n510121,金堂县\n")
    done = invoke("import", "locations", str(missing), url=url)
    assert (
        done.status == 2 and "error: import_file_unreadable: 缺少必需的列：级别/level" in done.err
    )
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("编码,名称,上级编码,级别\n".encode("gbk"))
    done = invoke("import", "locations", str(gbk), url=url)
    assert done.status == 2 and "error: import_file_unreadable:" in done.err and "UTF-8" in done.err
    assert place.snapshot() == before


def test_the_same_file_twice_changes_nothing_the_second_time(place: Place, tmp_path):
    url = started(place)
    locations = write(tmp_path / "库点.csv", LOCATIONS_CSV)
    items = write(tmp_path / "物资.csv", ITEMS_CSV, bom=False)
    assert invoke("import", "locations", str(locations), url=url).status == 0
    assert invoke("import", "items", str(items), url=url).status == 0
    before = place.snapshot()
    for kind, path, rows in (("locations", locations, 4), ("items", items, 3)):
        again = invoke("import", kind, str(path), url=url)
        assert again.status == 0, again.err
        assert f"0 added, 0 updated, {rows} unchanged" in again.out
        assert "nothing changed" in again.out and "没有任何改动" in again.out
    assert place.snapshot() == before


def test_a_renamed_or_moved_location_is_an_update_with_a_version(place: Place, tmp_path):
    url = started(place)
    assert (
        invoke("import", "locations", str(write(tmp_path / "a.csv", LOCATIONS_CSV)), url=url).status
        == 0
    )
    changed = LOCATIONS_CSV.replace("510121,金堂县,", "510121,金堂县（新）,") + (
        "510121102,淮口镇,510121,乡镇,\n"
    ).replace("", "")
    # 红花村 moves from 赵家镇 to the new 淮口镇 (which comes later in the file).
    changed = changed.replace(
        "510121101002,红花村,510121101,村", "510121101002,红花村,510121102,村"
    )
    done = invoke("import", "locations", str(write(tmp_path / "b.csv", changed)), url=url)
    assert done.status == 0, done.err
    assert "1 added, 2 updated, 2 unchanged" in done.out
    assert "updated 510121 名称 金堂县 → 金堂县（新）" in done.out
    assert "updated 510121101002 上级 510121101 → 510121102" in done.out
    versions = t.reference_versions.c
    assert count(place, t.reference_versions, versions.version == 2) == 2
    log = t.operations_log.c
    assert count(place, t.operations_log, log.action == "location.change") == 2
    database = place.database()
    try:
        with database.read() as connection:
            path = connection.execute(
                select(t.locations.c.path).where(t.locations.c.code == "510121101002")
            ).scalar_one()
            assert path == "/510100/510121/510121102/510121101002/"
    finally:
        database.dispose()
    verified = invoke("verify", url=url)
    assert verified.status == 0, verified.out + verified.err


def test_a_generated_3000_village_tree_imports_in_one_go(place: Place, tmp_path):
    url = started(place)
    rows = village_tree(tmp_path / "villages.csv")
    done = invoke("import", "locations", str(tmp_path / "villages.csv"), url=url)
    assert done.status == 0, done.err
    assert f"{rows} added" in done.out
    assert count(place, t.locations, t.locations.c.level == "village") == 3000
    assert "importing locations" in done.err  # the progress bar


def test_templates_have_headers_an_explanation_and_drop_down_lists(tmp_path):
    url = f"sqlite:///{tmp_path / 'none.db'}"  # a template needs no ledger
    for kind, headers, validated in (
        ("locations", ["编码", "名称", "上级编码", "级别", "人口"], {"D"}),
        ("items", ["编码", "名称", "类别", "品种", "单位", "包装", "有效期管理"], {"C", "E", "G"}),
    ):
        out = tmp_path / f"{kind}.xlsx"
        done = invoke("import", "template", kind, "--out", str(out), url=url)
        assert done.status == 0, done.err
        book = load_workbook(out)
        sheet, explained = book.worksheets
        assert [c.value for c in sheet[1]] == headers
        assert sheet.max_row == 1
        assert explained.title == "说明"
        assert [r[0] for r in explained.iter_rows(min_row=2, values_only=True)] == headers
        columns = {str(v.sqref)[0] for v in sheet.data_validations.dataValidation}
        assert columns == validated
        formulas = " ".join(v.formula1 for v in sheet.data_validations.dataValidation)
        assert ("市,区县,乡镇,村" in formulas) if kind == "locations" else ("是,否" in formulas)
    done = invoke("import", "template", "items", "--out", str(tmp_path / "x.csv"), url=url)
    assert done.status == 2 and "invalid_usage" in done.err


def test_population_is_stored_and_a_changed_one_is_a_logged_update_without_a_version(
    place: Place, tmp_path
):
    url = started(place)
    assert invoke("import", "locations", str(write(tmp_path / "a.csv", LOCATIONS_CSV)), url=url).status == 0  # fmt: skip

    def populations() -> dict[str, int | None]:
        database = place.database()
        try:
            with database.read() as connection:
                loc = t.locations.c
                query = select(loc.code, loc.population).where(loc.code.like("510121%"))
                return dict(connection.execute(query).all())
        finally:
            database.dispose()

    assert populations() == {
        "510121": 800000,
        "510121101": None,
        "510121101001": 1200,
        "510121101002": None,
    }
    versions = count(place, t.reference_versions)
    changed = LOCATIONS_CSV.replace(
        "510121,金堂县,510100,区县,800000", "510121,金堂县,510100,区县,810000"
    )
    changed = changed.replace(
        "510121101001,平水村,510121101,村,1200", "510121101001,平水村,510121101,村,"
    )
    changed = changed.replace(
        "510121101002,红花村,510121101,村,", "510121101002,红花村,510121101,村,950"
    )
    done = invoke("import", "locations", str(write(tmp_path / "b.csv", changed)), url=url)
    assert done.status == 0, done.err
    assert "0 added, 2 updated, 2 unchanged" in done.out
    assert "updated 510121 人口 800000 → 810000" in done.out
    assert "updated 510121101002 人口 — → 950" in done.out
    # An empty 人口 leaves the stored one as it is; population is not versioned content.
    assert populations()["510121101001"] == 1200
    assert populations()["510121"] == 810000
    assert count(place, t.reference_versions) == versions
    log = t.operations_log.c
    assert count(place, t.operations_log, log.action == "location.population") == 2
    assert count(place, t.operations_log, log.action == "import.locations") == 2
    again = invoke("import", "locations", str(write(tmp_path / "b.csv", changed)), url=url)
    assert "0 added, 0 updated, 4 unchanged" in again.out
    verified = invoke("verify", url=url)
    assert verified.status == 0, verified.out + verified.err


def test_columns_no_import_reads_are_named_not_dropped(place: Place, tmp_path):
    url = started(place)
    text = "编码,名称,上级编码,级别,备注\n510121,金堂县,510100,区县,新建\n"
    done = invoke("import", "locations", str(write(tmp_path / "库点.csv", text)), url=url)
    assert done.status == 0, done.err
    assert "ignored columns (未导入的列，系统不认得): 备注" in done.out
    assert "1 added" in done.out
