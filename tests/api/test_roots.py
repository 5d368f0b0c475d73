"""Two cities in one database over HTTP: 成都市 (the API template's city) and a second, made-up
city, 渝中样例市 (500100), each with its own clerk, requester, approver, auditor and admin, and
one global admin.

Every read of one city's objects by the other city's users is refused (403 or 404) and names
nothing of it; every list they read holds only their own city; no write of theirs reaches the
other city; a city's period close is its own; the global admin reads both. Like the permission
matrix, the table of reads names every GET route of the app (or says why it is shared), so a
new route cannot be left out.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

import pytest
from litestar.testing import TestClient

from api.app import create_app
from ledger import commands as c
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.services import label_keys
from ledger.services.request_models import Approve, CreateRequest, RequestLineIn
from ledger.services.scan_models import OpenDocument, Scan
from ledger.services.stocktake_models import CountLine, EnterCounts, OpenStocktake
from ledger.services.users import add_user
from ledger.settings import Settings
from tests.api.conftest import Template, fill_template, headers, saved_print_plan, token
from tests.api.test_permissions import CASES, Call, app_routes, ledger_state, send
from tests.bound import Ledger, Requests, Scanning, Stocktakes
from tests.builder import ledger_from_text
from tests.conftest import TODAY, PostgresSchema

V1 = "/api/v1"
SECOND_CITY = """
location 500100 渝中样例市 city
location 500101 样例一区 county 500100
location 500101-DY 样例镇 township 500101
receipt 500100 NH2014 2015-01 50000 on 2026-05-03
receipt 500100 BYT B-YZ 900 expires 2028-06-30 on 2026-05-03
"""
# The second city's users (token lgr_test-<who>; the role is the first word).
SECOND_USERS = {
    "admin-yz": "500100",
    "auditor-yz": "500100",
    "approver-yz": "500100",
    "clerk-yz": "500100",
    "clerk-yz-county": "500101",
    "requester-yz": "500101-DY",
}
GLOBAL = "admin-global"
# 成都市's users from the API template that sit at its top or reach all of it.
FIRST_USERS = ("admin", "auditor-root", "clerk-city", "approver", "requester")
FIRST_NAMES = ("成都市", "金堂县", "赵家镇", "平水村", "都江堰市", "青城山镇")
SECOND_NAMES = ("渝中样例市", "样例一区", "样例镇")


class City(NamedTuple):
    """One city's objects that the tests read: places and the numbers of its vouchers,
    requests, documents and counts."""

    root: str
    county: str
    township: str
    batch: str
    shipment: str
    distribution: str
    submitted: str
    approved: str
    document: int
    stocktake: str
    pack_serial: int
    names: tuple[str, ...]
    user: int  # the county clerk's user id
    print_plan: str = ""  # a saved 印制计划 over the county's townships

    def secrets(self) -> set[str]:
        """What a body about the other city must not hold: its names, codes and numbers."""
        return {
            *self.names,
            self.root,
            self.county,
            self.township,
            self.shipment,
            self.distribution,
            self.submitted,
            self.approved,
            self.stocktake,
        }


def first_city(t: Template) -> City:
    return City(
        "510100",
        "510121",
        "510121-ZJ",
        "2014-01",
        t.shipment_to_county["in"],
        t.distribution["in"],
        t.submitted["in"],
        t.approved["in"],
        t.document["510121"],
        t.stocktake_closed["in"],
        t.pack_serial["510121"],
        FIRST_NAMES,
        t.user_id["clerk"],
        t.print_plan["in"],
    )


def add_second_city(database: Database) -> City:
    """The second city, its users and the global admin, with one of each object."""
    ledger = Ledger(database, clock=lambda: TODAY)
    ledger_from_text(ledger, SECOND_CITY)
    users = {
        who: add_user(database, f"测试 {who}", who.split("-")[0], location, token(who))[0]
        for who, location in SECOND_USERS.items()
    }
    add_user(database, "测试 全局管理员", "admin", None, token(GLOBAL), global_admin=True)
    sent = ledger.issue(c.Issue("500100", "500101", (c.LineSpec("NH2014", 5000),)))
    ledger.confirm(c.Confirm(sent.number))
    shipment = ledger.issue(c.Issue("500100", "500101", (c.LineSpec("NH2014", 100),))).number
    distribution = ledger.distribute(c.Distribute("500101", (c.LineSpec("NH2014", 10),))).number
    requests = Requests(ledger)
    ask = CreateRequest("500101-DY", (RequestLineIn("NH2014", 1000),))
    submitted = requests.submit(requests.create(ask).number).number
    approved = requests.submit(requests.create(ask).number).number
    requests.approve(approved, Approve((RequestLineIn("NH2014", 500),)))
    scanning = Scanning(ledger, label_keys.load(Settings.from_environment()))
    packs = scanning.packs("NH2014", "2015-01", "500101")
    document = scanning.open_document(OpenDocument("count", "500101"))
    scanning.scan(Scan(document.id, packs[0].payload))
    stocktakes = Stocktakes(ledger)
    counted = stocktakes.open(OpenStocktake("500101", item_codes=("NH2014",)))
    lines = tuple(
        CountLine(e.location_code, e.item_code, e.batch_number, e.book) for e in counted.expected
    )
    stocktakes.count(counted.number, EnterCounts(lines))
    stocktakes.close(counted.number)
    return City(
        "500100",
        "500101",
        "500101-DY",
        "2015-01",
        shipment,
        distribution,
        submitted,
        approved,
        document.id,
        counted.number,
        packs[-1].serial,
        SECOND_NAMES,
        users["clerk-yz-county"].id,
        saved_print_plan(database, "500101"),
    )


# ---- the worlds ---------------------------------------------------------------------------------


class World(NamedTuple):
    client: TestClient
    database: Database
    first: City
    second: City
    numbers: Template  # 成都市's objects, as the API template names them


@pytest.fixture(scope="module")
def sqlite_world_file(template, tmp_path_factory) -> tuple:
    source, numbers = template
    path = tmp_path_factory.mktemp("roots") / "two-cities.db"
    shutil.copyfile(source, path)
    database = Database(make_engine(f"sqlite:///{path}"))
    try:
        second = add_second_city(database)
    finally:
        database.dispose()
    return path, numbers, second


@contextmanager
def world_on(engine_kind: str, sqlite_world: tuple, folder) -> Iterator[World]:
    """A fresh two-city world: a copy of the SQLite one, or built in a new PostgreSQL schema."""
    schema = None
    if engine_kind == "sqlite":
        source, numbers, second = sqlite_world
        copy = folder / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(source, copy)
        database = Database(make_engine(f"sqlite:///{copy}"))
    else:
        schema = PostgresSchema()
        database = Database(schema.engine())
        numbers = fill_template(database.engine)
        second = add_second_city(database)
    try:
        with TestClient(app=create_app(database, clock=lambda: TODAY)) as client:
            yield World(client, database, first_city(numbers), second, numbers)
    finally:
        database.dispose()
        if schema is not None:
            schema.drop()


ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=ENGINES)
def world(request, sqlite_world_file, tmp_path_factory) -> Iterator[World]:
    """One world per engine for the module's reads and refused writes (they change nothing)."""
    with world_on(request.param, sqlite_world_file, tmp_path_factory.mktemp("world")) as found:
        yield found


@pytest.fixture(params=ENGINES)
def fresh_world(request, sqlite_world_file, tmp_path) -> Iterator[World]:
    """A world of its own, for a test that changes it."""
    with world_on(request.param, sqlite_world_file, tmp_path) as found:
        yield found


# ---- reads of one city's objects --------------------------------------------------------------

REPORT_DAYS = {"date_from": "2026-05-01", "date_to": "2026-06-30"}
READS: dict[tuple[str, str], Callable[[City], Call]] = {
    ("GET", f"{V1}/locations"): lambda x: Call(f"{V1}/locations", params={"under": x.root}),
    ("GET", f"{V1}/locations/{{code:str}}"): lambda x: Call(f"{V1}/locations/{x.county}"),
    ("GET", f"{V1}/locations/{{code:str}}/versions"): lambda x: Call(
        f"{V1}/locations/{x.county}/versions"
    ),
    ("GET", f"{V1}/transactions"): lambda x: Call(
        f"{V1}/transactions", params={"location": x.county}
    ),
    ("GET", f"{V1}/transactions/{{number:str}}"): lambda x: Call(f"{V1}/transactions/{x.shipment}"),
    ("GET", f"{V1}/transactions/{{number:str}}/voucher"): lambda x: Call(
        f"{V1}/transactions/{x.distribution}/voucher"
    ),
    ("GET", f"{V1}/balances"): lambda x: Call(
        f"{V1}/balances", params={"location": x.root, "subtree": True}
    ),
    ("GET", f"{V1}/requests/{{number:str}}"): lambda x: Call(f"{V1}/requests/{x.approved}"),
    ("GET", f"{V1}/requests/{{number:str}}/events"): lambda x: Call(
        f"{V1}/requests/{x.approved}/events"
    ),
    ("GET", f"{V1}/requests/{{number:str}}/suggestion"): lambda x: Call(
        f"{V1}/requests/{x.approved}/suggestion"
    ),
    ("GET", f"{V1}/scan-documents/{{document_id:int}}"): lambda x: Call(
        f"{V1}/scan-documents/{x.document}"
    ),
    ("GET", f"{V1}/batches/{{item_code:str}}/{{number:str}}/packs"): lambda x: Call(
        f"{V1}/batches/NH2014/{x.batch}/packs", params={"location": x.county}
    ),
    ("GET", f"{V1}/batches/{{item_code:str}}/{{number:str}}/labels"): lambda x: Call(
        f"{V1}/batches/NH2014/{x.batch}/labels", params={"location": x.county, "rows": 2}
    ),
    ("GET", f"{V1}/batches/{{item_code:str}}/{{number:str}}/packs/{{serial:int}}/label"): (
        lambda x: Call(
            f"{V1}/batches/NH2014/{x.batch}/packs/{x.pack_serial}/label", params={"format": "svg"}
        )
    ),
    ("GET", f"{V1}/stocktakes/{{number:str}}"): lambda x: Call(f"{V1}/stocktakes/{x.stocktake}"),
    ("GET", f"{V1}/stocktakes/{{number:str}}/reconciliation"): lambda x: Call(
        f"{V1}/stocktakes/{x.stocktake}/reconciliation"
    ),
    ("GET", f"{V1}/stocktakes/{{number:str}}/approval-preview"): lambda x: Call(
        f"{V1}/stocktakes/{x.stocktake}/approval-preview"
    ),
    ("GET", f"{V1}/stocktakes/{{number:str}}/report"): lambda x: Call(
        f"{V1}/stocktakes/{x.stocktake}/report"
    ),
    ("GET", f"{V1}/reports/period-summary"): lambda x: Call(
        f"{V1}/reports/period-summary", params={"under": x.root, **REPORT_DAYS}
    ),
    ("GET", f"{V1}/reports/stock-card"): lambda x: Call(
        f"{V1}/reports/stock-card",
        params={"location": x.county, "item": "NH2014", "batch": x.batch, **REPORT_DAYS},
    ),
    ("GET", f"{V1}/reports/stock-on-hand"): lambda x: Call(
        f"{V1}/reports/stock-on-hand", params={"under": x.root}
    ),
    ("GET", f"{V1}/reports/near-expiry"): lambda x: Call(
        f"{V1}/reports/near-expiry", params={"under": x.root}
    ),
    ("GET", f"{V1}/reports/coverage"): lambda x: Call(
        f"{V1}/reports/coverage", params={"under": x.root, "item": "NH2014", **REPORT_DAYS}
    ),
    ("GET", f"{V1}/reports/in-transit"): lambda x: Call(
        f"{V1}/reports/in-transit", params={"under": x.root}
    ),
    ("GET", f"{V1}/reports/write-off-rate"): lambda x: Call(
        f"{V1}/reports/write-off-rate", params={"under": x.root, **REPORT_DAYS}
    ),
    ("GET", f"{V1}/reports/stock-alerts"): lambda x: Call(
        f"{V1}/reports/stock-alerts", params={"under": x.root}
    ),
    ("GET", f"{V1}/reports/demand-plan"): lambda x: Call(
        f"{V1}/reports/demand-plan", params={"under": x.root, "year": 2027}
    ),
    ("GET", f"{V1}/locations/{{code:str}}/suggested-request"): lambda x: Call(
        f"{V1}/locations/{x.township}/suggested-request"
    ),
    ("GET", f"{V1}/norms"): lambda x: Call(f"{V1}/norms", params={"under": x.county}),
    ("GET", f"{V1}/print-plans/{{number:str}}"): lambda x: Call(
        f"{V1}/print-plans/{x.print_plan}", params={"format": "html"}
    ),
    ("GET", f"{V1}/reports/audit-sample"): lambda x: Call(
        f"{V1}/reports/audit-sample", params={"under": x.root, "size": 3}
    ),
    ("GET", f"{V1}/audit/verification"): lambda x: Call(
        f"{V1}/audit/verification", params={"root": x.root}
    ),
    ("GET", f"{V1}/audit/period-closes"): lambda x: Call(
        f"{V1}/audit/period-closes", params={"root": x.root}
    ),
    ("GET", f"{V1}/users/{{user_id:int}}"): lambda x: Call(f"{V1}/users/{x.user}"),
}
# Lists that hold only the caller's own city (checked below); and reference data every city
# shares (items and their batches, the user itself, the chain's head, which is one chain).
LISTS = {
    ("GET", f"{V1}/transactions"),
    ("GET", f"{V1}/requests"),
    ("GET", f"{V1}/scan-documents"),
    ("GET", f"{V1}/locations"),
    ("GET", f"{V1}/balances"),
    ("GET", f"{V1}/audit/period-closes"),
    ("GET", f"{V1}/audit/log"),
    ("GET", f"{V1}/audit/verification"),
    ("GET", f"{V1}/users"),
}
SHARED = {
    ("GET", f"{V1}/me"),
    ("GET", f"{V1}/items"),
    ("GET", f"{V1}/items/{{code:str}}"),
    ("GET", f"{V1}/items/{{code:str}}/versions"),
    ("GET", f"{V1}/batches"),
    ("GET", f"{V1}/batches/{{item_code:str}}/{{number:str}}"),
    ("GET", f"{V1}/batches/{{item_code:str}}/{{number:str}}/versions"),
    ("GET", f"{V1}/chain/digest"),
}


def test_the_tables_name_every_get_route_of_the_app():
    reads = {route for route in app_routes() if route[0] == "GET"}
    assert reads == set(READS) | LISTS | SHARED


def leaked(body: str, call: Call, city: City) -> set[str]:
    """The other city's names, codes and numbers in `body` that the request did not name."""
    asked = f"{call.path} {call.params} {call.body}"
    return {secret for secret in city.secrets() if secret in body and secret not in asked}


def refused_without_a_leak(response, call: Call, city: City) -> None:
    assert response.status_code in (403, 404), (response.status_code, response.text[:300])
    assert not leaked(response.text, call, city), response.text


READ_MATRIX = [
    pytest.param(route, who, id=f"{route[1]} {who}")
    for route in sorted(READS)
    for who in sorted(SECOND_USERS)
]


@pytest.mark.parametrize(("route", "who"), READ_MATRIX)
def test_the_second_citys_users_read_nothing_of_the_first(world, route, who):
    call = READS[route](world.first)
    refused_without_a_leak(send(world.client, "GET", call, who), call, world.first)


@pytest.mark.parametrize(
    ("route", "who"),
    [
        pytest.param(route, who, id=f"{route[1]} {who}")
        for route in sorted(READS)
        for who in FIRST_USERS
    ],
)
def test_the_first_citys_users_read_nothing_of_the_second(world, route, who):
    call = READS[route](world.second)
    refused_without_a_leak(send(world.client, "GET", call, who), call, world.second)


@pytest.mark.parametrize("route", sorted(READS), ids=lambda route: route[1])
def test_the_global_admin_reads_both_cities(world, route):
    for city in (world.first, world.second):
        response = send(world.client, "GET", READS[route](city), GLOBAL)
        assert response.status_code == 200, (city.root, response.text[:300])


# ---- lists ------------------------------------------------------------------------------------------


def read_list(world: World, path: str, who: str, **params) -> str:
    response = world.client.get(f"{V1}{path}", params=params, headers=headers(who))
    assert response.status_code == 200, response.text[:300]
    return response.text


LIST_READERS = {  # who may read each list (the others are refused by role, tested elsewhere)
    "/transactions": SECOND_USERS,
    "/requests": SECOND_USERS,
    "/scan-documents": SECOND_USERS,
    "/locations": SECOND_USERS,
    "/balances": SECOND_USERS,
    "/audit/period-closes": SECOND_USERS,
    "/audit/log": ("admin-yz", "auditor-yz"),
    "/audit/verification": ("admin-yz", "auditor-yz"),
    "/users": ("admin-yz",),
}


@pytest.mark.parametrize("path", sorted(LIST_READERS))
def test_the_second_citys_lists_hold_nothing_of_the_first(world, path):
    empty = Call(f"{V1}{path}")
    for who in LIST_READERS[path]:
        body = read_list(world, path, who, limit=200)
        assert not leaked(body, empty, world.first), (who, body[:500])


def test_each_city_lists_its_own_vouchers_and_the_global_admin_both(world):
    first, second = world.first, world.second
    own = read_list(world, "/transactions", "auditor-yz", limit=200)
    assert second.shipment in own and second.distribution in own
    chengdu = read_list(world, "/transactions", "auditor-root", limit=200)
    assert first.shipment in chengdu and second.shipment not in chengdu
    everything = ""
    for offset in range(0, 1000, 200):
        everything += read_list(world, "/transactions", GLOBAL, limit=200, offset=offset)
    assert first.shipment in everything and second.shipment in everything
    places = read_list(world, "/locations", GLOBAL, limit=200)
    assert "渝中样例市" in places and "成都市" in places
    assert "成都市" not in read_list(world, "/locations", "admin-yz", limit=200)


def test_a_shared_virtual_place_shows_each_city_its_own_share(world):
    def in_transit(who: str) -> set[tuple[str, str, int]]:
        page = world.client.get(
            f"{V1}/balances", params={"location": "in-transit"}, headers=headers(who)
        ).json()
        return {(row["item_code"], row["batch_number"], row["on_hand"]) for row in page["items"]}

    second = in_transit("auditor-yz")
    assert second == {("NH2014", "2015-01", 100)}  # its one unconfirmed shipment
    first = in_transit("auditor-root")
    assert first and all(batch != "2015-01" for _, batch, _ in first)
    assert in_transit("admin-yz") == second
    assert in_transit(GLOBAL) == first | second  # the stored balances: both cities' sums


def test_each_citys_verification_covers_its_own_and_the_global_admins_both(world):
    def verify(who: str, **params) -> dict:
        response = world.client.get(f"{V1}/audit/verification", params=params, headers=headers(who))
        assert response.status_code == 200, response.text
        return response.json()

    second, first = verify("auditor-yz"), verify("auditor-root")
    whole = verify(GLOBAL)
    assert (second["root_code"], first["root_code"], whole["root_code"]) == (
        "500100",
        "510100",
        None,
    )
    assert second["ok"] and first["ok"] and whole["ok"]
    assert 0 < second["transactions_checked"] < first["transactions_checked"]
    assert (
        second["transactions_checked"] + first["transactions_checked"]
        == (whole["transactions_checked"])
    )
    assert verify(GLOBAL, root="500100")["transactions_checked"] == second["transactions_checked"]


# ---- writes into the other city -------------------------------------------------------------------

# Writes that are not about one city: adding an item (reference data every city shares); a
# period close without `root_code` closes the caller's own city (see the close tests below); a
# user changing its own password changes only itself.
OWN_OR_SHARED_WRITES = {
    ("POST", f"{V1}/items"),
    ("POST", f"{V1}/audit/period-closes"),
    ("POST", f"{V1}/me/password"),
}
WRITES = sorted(route for route in CASES if route[0] != "GET" and route not in OWN_OR_SHARED_WRITES)


@pytest.mark.parametrize("route", WRITES, ids=lambda route: f"{route[0]} {route[1]}")
def test_no_write_of_the_second_city_reaches_the_first(world, route):
    """Every write of the permission matrix, as 成都市's admin makes it inside 成都市 (valid,
    and allowed to that admin), refused to each of the second city's users."""
    call = CASES[route].build("admin", "in", world.numbers)
    before = ledger_state(world.database)
    for who in sorted(SECOND_USERS):
        response = send(world.client, route[0], call, who)
        refused_without_a_leak(response, call, world.first)
        assert ledger_state(world.database) == before


def test_only_the_global_admin_adds_a_city(world):
    city = {"code": "500200", "name": "样例新市", "level": "city", "parent_code": None}
    for who in ("admin-yz", "admin"):
        response = send(world.client, "POST", Call(f"{V1}/locations", city), who)
        assert response.status_code == 403, response.text


# ---- period closes ----------------------------------------------------------------------------------


def test_a_citys_close_is_its_own(fresh_world):
    client, first, second = fresh_world.client, fresh_world.first, fresh_world.second

    def close(who: str, **body):
        return client.post(
            f"{V1}/audit/period-closes",
            json={"period_end": "2026-06-28", **body},
            headers=headers(who),
        )

    def receipt(who: str, location: str):
        return client.post(
            f"{V1}/transactions/receipts",
            json={
                "location_code": location,
                "lines": [{"item_code": "NH2014", "batch_number": "2014-09", "quantity": 5}],
                "occurred_on": "2026-06-28",
            },
            headers=headers(who),
        )

    assert close("auditor-yz", root_code=first.root).status_code == 403
    made = close("auditor-yz")
    assert made.status_code == 201, made.text
    assert made.json()["root_code"] == second.root
    refused = receipt("clerk-yz", second.root)
    assert refused.status_code == 422 and refused.json()["code"] == "period_closed"
    assert receipt("clerk-city", first.root).status_code == 201  # 成都市 is not closed
    listed = client.get(f"{V1}/audit/period-closes", headers=headers("clerk")).json()
    assert listed == []
    own = client.get(f"{V1}/audit/period-closes", headers=headers("requester-yz")).json()
    assert [c["root_code"] for c in own] == [second.root]
    since = client.get(
        f"{V1}/audit/verification", params={"since_close": True}, headers=headers("auditor-yz")
    ).json()
    assert since["ok"] and since["since_period_end"] == "2026-06-28"
    assert since["from_sequence"] == made.json()["sequence"]
    # the global admin names the city to close, and reads every close
    unnamed = close(GLOBAL)
    assert unnamed.status_code == 422 and unnamed.json()["code"] == "root_required"
    assert close(GLOBAL, root_code=first.root).status_code == 201
    assert receipt("clerk-city", first.root).json()["code"] == "period_closed"
    everything = client.get(f"{V1}/audit/period-closes", headers=headers(GLOBAL)).json()
    assert sorted(c["root_code"] for c in everything) == [second.root, first.root]
    whole = client.get(f"{V1}/audit/verification", headers=headers(GLOBAL)).json()
    assert whole["ok"], whole["findings"]


def test_a_citys_auditor_verifies_without_naming_the_other_citys_vouchers(fresh_world):
    from sqlalchemy import text

    from ledger.db.guards import drop_guards

    first, second = fresh_world.first, fresh_world.second
    with fresh_world.database.engine.begin() as connection:
        drop_guards(connection)
        connection.execute(
            text("UPDATE transactions SET memo = 'altered' WHERE number = :number"),
            {"number": first.distribution},
        )
    found = fresh_world.client.get(f"{V1}/audit/verification", headers=headers("auditor-yz")).json()
    assert [f["code"] for f in found["findings"]] == ["other_roots"]
    assert not leaked(str(found), Call(""), first)
    chengdu = fresh_world.client.get(
        f"{V1}/audit/verification", headers=headers("auditor-root")
    ).json()
    assert any(first.distribution in f["subject"] for f in chengdu["findings"])
    assert not leaked(str(chengdu), Call(""), second)
