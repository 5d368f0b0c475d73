"""POST /api/v1/imports/{kind}: locations, items and opening balances from a file over HTTP, on
SQLite and PostgreSQL — an admin's rows in its own city only, every problem answered as JSON
(422 import_invalid) with nothing imported, the same file twice changing nothing."""

from __future__ import annotations

import io

import pytest
from litestar.testing import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select

from api.app import create_app
from ledger.db import tables as t
from ledger.limits import import_file_bytes_max
from ledger.services.users import add_user
from tests.api.conftest import headers, token
from tests.builder import ledger_from_text
from tests.conftest import TODAY

V1 = "/api/v1"
TREE = """
location 510100 成都市 city
location 510121 金堂县 county 510100
location 510121-ZJ 赵家镇 township 510121
location 500100 渝中样例市 city
location 500101 样例一区 county 500100
item NH2014 年画 printed 张 捆=500
item BYT 避孕套 contraceptive 只 盒=3 expiry
"""
USERS = {  # who → (role, location)
    "admin": ("admin", "510100"),
    "clerk": ("clerk", "510121"),
    "admin-yz": ("admin", "500100"),
}
LOCATIONS = "编码,名称,上级编码,级别,人口\n510121-QS,清水村,510121-ZJ,村,1200\n510121,金堂县,510100,区县,800000\n"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Api:
    def __init__(self, client: TestClient, database, ids: dict[str, int]) -> None:
        self.client = client
        self.database = database
        self.ids = ids

    def send(self, kind: str, who: str, name: str, content: bytes, key=None, **params):
        return self.client.post(
            f"{V1}/imports/{kind}",
            files={"file": (name, content)},
            params=params,
            headers=headers(who, key),
        )

    def state(self) -> dict[str, int]:
        """How many rows each table of what an import writes holds."""
        with self.database.read() as connection:
            return {
                table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (
                    t.locations,
                    t.items,
                    t.batches,
                    t.transactions,
                    t.postings,
                    t.reference_versions,
                    t.operations_log,
                )
            }


@pytest.fixture
def api(ledger):
    ledger_from_text(ledger, TREE)
    ids = {}
    for who, (role, location) in USERS.items():
        ids[who] = add_user(ledger.database, f"测试 {who}", role, location, token(who))[0].id
    ids["global"] = add_user(
        ledger.database, "测试 全局", "admin", None, token("global"), global_admin=True
    )[0].id
    with TestClient(app=create_app(ledger.database, clock=lambda: TODAY)) as client:
        yield Api(client, ledger.database, ids)


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


OPENING = xlsx(
    [
        ["库点编码", "物资编码", "批号", "有效期至", "数量", "单位"],
        ["510100", "NH2014", "2014-01", None, 4, "捆"],
        ["510100", "BYT", "B1", "2027-06-30", 100, "盒"],
        ["510121", "NH2014", "2014-01", None, 1500, None],
        ["510121", "BYT", "OLD", "2025-03-01", 12, None],  # expired on the shelf
    ]
)


def test_an_admin_imports_its_city_and_a_second_time_changes_nothing(api):
    done = api.send("locations", "admin", "库点.csv", LOCATIONS.encode("utf-8-sig"))
    assert done.status_code == 200, done.text
    answer = done.json()
    assert (answer["kind"], answer["added"], answer["unchanged"]) == ("locations", ["510121-QS"], 0)
    assert answer["updated"] == ["510121 人口 — → 800000"]
    place = api.client.get(f"{V1}/locations/510121-QS", headers=headers("admin")).json()
    assert place["population"] == 1200 and place["parent_code"] == "510121-ZJ"

    items = api.client.post(
        f"{V1}/imports/items",
        content="code,name,category,unit,packs\nGT2014,挂图,printed,张,套=4\n".encode(),
        headers={**headers("admin"), "Content-Type": "text/csv"},
    )
    assert items.status_code == 200, items.text
    assert items.json()["added"] == ["GT2014"]

    opened = api.send("opening-balances", "admin", "期初.xlsx", OPENING, as_of="2026-01-01")
    assert opened.status_code == 200, opened.text
    posted = opened.json()["posted"]
    assert posted == [
        {
            "location_code": "510100",
            "location_name": "成都市",
            "number": "QC-2026-000001",
            "lines": 2,
            "totals": {"张": 2000, "只": 300},
        },
        {
            "location_code": "510121",
            "location_name": "金堂县",
            "number": "QC-2026-000002",
            "lines": 2,
            "totals": {"张": 1500, "只": 12},
        },
    ]
    balances = api.client.get(
        f"{V1}/balances", params={"location": "510121"}, headers=headers("admin")
    ).json()["items"]
    assert {(b["item_code"], b["batch_number"]): b["on_hand"] for b in balances} == {
        ("NH2014", "2014-01"): 1500,
        ("BYT", "OLD"): 12,
    }
    voucher = api.client.get(f"{V1}/transactions/QC-2026-000002", headers=headers("admin")).json()
    assert voucher["kind"] == "opening" and voucher["occurred_on"] == "2026-01-01"
    with api.database.read() as connection:
        tx = t.transactions.c
        makers = connection.execute(select(tx.maker_id).where(tx.kind == "opening")).scalars()
        assert set(makers) == {api.ids["admin"]}
        log = t.operations_log.c
        logged = connection.execute(
            select(log.action, log.user_id).where(log.action.startswith("import."))
        ).all()
        assert sorted(logged) == sorted(
            (f"import.{kind}", api.ids["admin"])
            for kind in ("locations", "items", "opening-balances")
        )

    before = api.state()
    for kind, name, content in (
        ("locations", "库点.csv", LOCATIONS.encode()),
        ("opening-balances", "期初.xlsx", OPENING),
    ):
        again = api.send(kind, "admin", name, content, as_of="2026-01-01")
        assert again.status_code == 200, again.text
        assert not again.json()["added"] and not again.json()["updated"]
        assert not again.json()["posted"]
    assert again.json()["skipped"] == ["510100", "510121"]
    assert api.state() == before

    # An allocation plan's share without a weight takes the location's population.
    plan = api.client.post(
        f"{V1}/allocation-plans",
        json={
            "source_code": "510100",
            "item_code": "NH2014",
            "quantity": 2000,
            "pack": "张",
            "shares": [{"location_code": "510121"}, {"location_code": "510121-QS"}],
        },
        headers=headers("admin"),
    )
    assert plan.status_code == 200, plan.text
    assert [line["quantity"] for line in plan.json()["lines"]] == [1997, 3]
    refused = api.client.post(
        f"{V1}/allocation-plans",
        json={
            "source_code": "510100",
            "item_code": "NH2014",
            "quantity": 2000,
            "shares": [{"location_code": "510121-ZJ"}],
        },
        headers=headers("admin"),
    )
    assert refused.status_code == 422 and refused.json()["code"] == "weights_invalid"
    assert "赵家镇(510121-ZJ) 没有人口数" in refused.json()["detail"]


def test_a_file_with_problems_answers_every_problem_and_imports_nothing(api):
    before = api.state()
    bad = (
        "库点编码,物资编码,批号,有效期至,数量\n"
        "510121,NH2014,2014-01,,1.5\n"
        "510121,BYT,NEW,,3\n"
        "510121,NH2014,2014-02,,7\n"
    ).encode()
    done = api.send("opening-balances", "admin", "期初.csv", bad, as_of="2026-01-01")
    assert done.status_code == 422
    assert done.headers["content-type"].startswith("application/problem+json")
    body = done.json()
    assert body["code"] == "import_invalid" and body["field"] == "file"
    assert body["detail"].startswith("文件有 2 处问题（涉及 2 行，共 3 行），一行也没有导入")
    assert body["problems"] == [
        {"row": 2, "column": "数量", "message": "数量必须是整数，不能是小数：1.5"},
        {"row": 3, "column": "有效期至", "message": "避孕套 管理有效期：新批号 NEW 必须填有效期至"},
    ]
    future = api.send("opening-balances", "admin", "期初.csv", bad, as_of="2026-07-01")
    assert future.status_code == 422
    assert future.json()["problems"][0]["row"] == 0
    assert "建账日期 2026-07-01 晚于今天 2026-06-30" in future.json()["problems"][0]["message"]
    assert api.state() == before


def test_what_cannot_be_read_is_refused_before_anything_is_done(api):
    before = api.state()
    cases = [
        (api.send("locations", "admin", "库点.txt", b"a,b\n"), 422, "import_file_unreadable"),
        (
            api.send("locations", "admin", "库点.csv", "编码,名称,上级编码,级别\n".encode("gbk")),
            422,
            "import_file_unreadable",
        ),
        (
            api.send("locations", "admin", "库点.xlsx", b"PK not a workbook"),
            422,
            "import_file_unreadable",
        ),
        (api.send("locations", "admin", "库点.csv", b""), 422, "import_file_unreadable"),
        (
            api.client.post(
                f"{V1}/imports/locations", data={"other": "x"}, headers=headers("admin")
            ),
            415,  # a form without a file is not one of the upload's media types
            "unsupported_media_type",
        ),
        (
            api.client.post(
                f"{V1}/imports/locations",
                files={"attachment": ("库点.csv", LOCATIONS.encode())},
                headers=headers("admin"),
            ),
            422,
            "import_file_unreadable",
        ),
        (
            api.client.post(f"{V1}/imports/locations", json={"rows": []}, headers=headers("admin")),
            415,
            "unsupported_media_type",
        ),
        (api.send("villages", "admin", "库点.csv", LOCATIONS.encode()), 404, "not_found"),
        (api.send("opening-balances", "admin", "期初.xlsx", OPENING), 422, "invalid_field"),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert api.state() == before


def test_only_an_admin_imports_and_only_rows_of_its_own_city(api):
    before = api.state()
    own = "库点编码,物资编码,批号,数量\n510121,NH2014,2014-01,10\n".encode()
    other = "库点编码,物资编码,批号,数量\n500100,NH2014,2014-01,10\n".encode()
    refused = [
        api.send("opening-balances", "clerk", "期初.csv", own, as_of="2026-01-01"),
        api.send("opening-balances", "admin", "期初.csv", other, as_of="2026-01-01"),
        api.send("opening-balances", "admin-yz", "期初.csv", own, as_of="2026-01-01"),
        api.send(
            "locations",
            "admin",
            "库点.csv",
            "编码,名称,上级编码,级别\n500101-X,某村,500101,乡镇\n".encode(),
        ),
        api.send(  # items are shared by every city: a city's admin changes none
            "items",
            "admin",
            "物资.csv",
            "编码,名称,类别,单位,包装,有效期管理\nBYT,避孕套（新）,药具,只,盒=3,是\n".encode(),
        ),
    ]
    for response in refused:
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"
        assert "500100" not in response.text and "渝中" not in response.text
    assert "第 2 行" in refused[1].json()["detail"]
    assert api.state() == before

    assert api.send("opening-balances", "admin-yz", "期初.csv", other, as_of="2026-01-01").status_code == 200  # fmt: skip
    both = "编码,名称,上级编码,级别\n510121-NEW,新镇,510121,乡镇\n500101-NEW,新镇,500101,乡镇\n"
    done = api.send("locations", "global", "库点.csv", both.encode())
    assert done.status_code == 200, done.text
    assert done.json()["added"] == ["510121-NEW", "500101-NEW"]
    with api.database.read() as connection:  # one log entry per city the import touched
        log, loc = t.operations_log.c, t.locations.c
        roots = connection.execute(
            select(loc.code)
            .join(t.operations_log, log.root_id == loc.id)
            .where(log.action == "import.locations")
        ).scalars()
        assert sorted(roots) == ["500100", "510100"]


def test_a_file_may_be_larger_than_other_bodies_up_to_its_own_limit(api):
    padding = b",,,,\n" * (1_100_000 // 5)  # empty rows are skipped
    big = LOCATIONS.encode() + padding
    assert len(big) > 1_048_576
    done = api.send("locations", "admin", "库点.csv", big)
    assert done.status_code == 200, done.text
    assert done.json()["added"] == ["510121-QS"]
    too_big = api.send("locations", "admin", "库点.csv", b"x" * (import_file_bytes_max + 1))
    assert too_big.status_code == 413 and too_big.json()["code"] == "body_too_large"
    assert str(import_file_bytes_max) in too_big.json()["detail"]
    json_body = api.client.post(
        f"{V1}/imports/locations",
        content=b'{"memo": "' + b"x" * 1_048_576 + b'"}',
        headers={**headers("admin"), "Content-Type": "application/json"},
    )
    assert json_body.status_code == 413  # only a file's body may be larger


def test_an_idempotency_key_replays_the_first_answer(api):
    first = api.send("locations", "admin", "库点.csv", LOCATIONS.encode(), "once")
    assert first.status_code == 200
    before = api.state()
    again = api.send("locations", "admin", "库点.csv", LOCATIONS.encode(), "once")
    assert again.json() == first.json() and again.json()["added"] == ["510121-QS"]
    other = api.send("locations", "admin", "库点.csv", LOCATIONS.encode() + b"\n", "once")
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert api.state() == before


def test_what_a_file_holds_beside_its_data_is_told_not_guessed(api):
    import datetime as dt

    from tests.test_import_reading import xlsx as shaped

    before = api.state()
    header = ["库点编码", "物资编码", "批号", "有效期至", "数量", "单位"]

    def problems(data: bytes, name: str = "期初.xlsx") -> list[dict]:
        answer = api.send("opening-balances", "admin", name, data, as_of="2026-01-01")
        assert answer.status_code == 422, answer.text
        return answer.json().get("problems") or [answer.json()]

    twice = problems(xlsx([[*header, "数量"], ["510100", "NH2014", "2014-01", None, 4, "捆", 4]]))
    assert twice[0]["code"] == "import_file_unreadable" and "同一列（数量）" in twice[0]["detail"]
    spellings = problems("库点编码,location_code,物资编码,批号,数量\n".encode(), "期初.csv")
    assert "“库点编码”" in spellings[0]["detail"] and "“location_code”" in spellings[0]["detail"]

    dated = [["510100", "NH2014", dt.datetime(2014, 1, 1), None, 4, "捆"]]
    [date] = problems(xlsx([header, *dated]))
    assert (date["row"], date["column"]) == (2, "批号") and "文本" in date["message"]
    [formula] = problems(xlsx([header, ["510100", "NH2014", "2014-01", None, "=2*2", "捆"]]))
    assert (formula["row"], formula["column"]) == (2, "数量")
    assert "公式" in formula["message"] and "保存" in formula["message"]
    assert api.state() == before

    # Unknown columns are named in the answer; a stale <dimension> hides no row.
    rows = [[*header, "生产时间"], ["510100", "NH2014", "2014-01", None, 4, "捆", "2014-01"]]
    done = api.send(
        "opening-balances", "admin", "期初.xlsx", shaped(rows, "A1:E1"), as_of="2026-01-01"
    )
    assert done.status_code == 200, done.text
    assert done.json()["ignored_columns"] == ["生产时间"]
    assert [p["lines"] for p in done.json()["posted"]] == [1]


def test_refusals_say_in_chinese_what_to_do(api):
    before = api.state()
    bad = "编码,名称,上级编码,级别\n金堂,,510100,区县\n520100,贵阳市,,市\n"
    answer = api.send("locations", "global", "库点.csv", bad.encode())
    assert answer.status_code == 422, answer.text
    messages = {(p["row"], p["column"]): p["message"] for p in answer.json()["problems"]}
    assert messages[2, "编码"].startswith("编码 只能用")
    assert messages[2, "名称"].startswith("名称 ")
    assert "POST /api/v1/locations" in messages[3, "编码"] and "parent_code" in messages[3, "编码"]

    plain = api.client.post(
        f"{V1}/imports/locations",
        content=LOCATIONS.encode(),
        headers={**headers("admin"), "Content-Type": "text/plain"},
    )
    assert (plain.status_code, plain.json()["code"]) == (415, "unsupported_media_type")
    assert "字段 file" in plain.json()["detail"] and "text/plain" in plain.json()["detail"]

    day = api.send("opening-balances", "admin", "期初.xlsx", OPENING, as_of="2026-02-30")
    assert (day.status_code, day.json()["code"]) == (400, "invalid_request"), day.text
    assert day.json()["detail"].startswith("as_of 不是有效的日期")
    assert api.state() == before
