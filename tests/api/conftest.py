"""API fixtures: a small city with users of every role, requests in every state, and clients.

Inside/outside: the users sit under 金堂县 (510121); 都江堰市 (510181) and its township
青城山镇 are outside everyone's subtree but the admin's. The template database is built once
per session and copied for each test that changes it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from litestar.testing import TestClient

from api.app import create_app
from ledger import commands as c
from ledger.db import scans
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.services import label_keys
from ledger.services.request_models import Approve, CreateRequest, RequestLineIn, Ship, ShipLine
from ledger.services.scan_models import OpenDocument, Scan
from ledger.services.scan_packs import pack_info
from ledger.services.stocktake_models import CountLine, EnterCounts, OpenStocktake
from ledger.services.users import add_user
from ledger.settings import Settings
from tests import shared_app
from tests.bound import Ledger, Requests, Scanning, Stocktakes
from tests.builder import ledger_from_text
from tests.conftest import TODAY

SETUP = """
location 510100 成都市 city
location 510121 金堂县 county 510100
location 510121-ZJ 赵家镇 township 510121
location 510121-ZJ-PS 平水村 village 510121-ZJ
location 510181 都江堰市 county 510100
location 510181-QCS 青城山镇 township 510181
item NH2014 年画 printed 张 捆=500
item BYT 避孕套 contraceptive 只 盒=3 箱=720 expiry
receipt 510100 NH2014 2014-01 100000 on 2026-05-01
receipt 510100 BYT B-EARLY 1500 expires 2026-09-30 on 2026-05-02
receipt 510100 BYT B-LATE 3000 expires 2028-01-31 on 2026-05-02
"""

ROLES = ("admin", "clerk", "requester", "approver", "auditor")
USER_LOCATIONS = {
    "admin": "510100",
    "clerk": "510121",
    "requester": "510121-ZJ",
    "approver": "510121",
    "auditor": "510121",
    "auditor-root": "510100",
    "clerk-city": "510100",
    "clerk-outside": "510181",
    "requester-outside": "510181-QCS",
}


def token(who: str) -> str:
    return f"lgr_test-{who}"


def headers(who: str, key: str | None = None) -> dict[str, str]:
    result = {"Authorization": f"Bearer {token(who)}"}
    if key:
        result["Idempotency-Key"] = key
    return result


class Template:
    """Numbers of the things the template holds, per side ('in' under 金堂县, 'out' under 都江堰市)."""

    def __init__(self) -> None:
        self.shipment_to_county: dict[str, str] = {}  # unconfirmed, city → county
        self.shipment_to_township: dict[str, str] = {}  # unconfirmed, county → township
        self.distribution: dict[str, str] = {}  # at the county
        self.draft: dict[str, str] = {}
        self.submitted: dict[str, str] = {}
        self.approved: dict[str, str] = {}
        self.approved_shipped: dict[str, str] = {}  # approved, one shipment not yet confirmed
        self.request_shipment: dict[str, str] = {}
        self.packed_shipment: dict[str, str] = {}  # county → township, one whole 捆, unconfirmed
        # By location code: a sealed pack's serial and label (NH2014 2014-01) that is there, and
        # an open scan document there with one pack scanned (a count at a county, the arrival
        # of `packed_shipment` at a township).
        self.pack_serial: dict[str, int] = {}
        self.pack_payload: dict[str, str] = {}
        self.document: dict[str, int] = {}
        self.scan_payload: dict[str, str] = {}  # a label that scans into `document` there
        self.posted_count: dict[str, int] = {}  # a finished count scan document, by county
        self.stocktake_counting: dict[str, str] = {}  # of the county's 年画, one line counted
        self.stocktake_closed: dict[str, str] = {}  # of the county's 年画, counted as booked
        self.stocktake_digest: dict[str, str] = {}  # the closed one's approval-preview digest
        self.user_id: dict[str, int] = {}  # by who (USER_LOCATIONS' keys, and `global`)
        self.print_plan: dict[str, str] = {}  # a saved 印制计划 of the county's 年画, by side


def build_template(path: Path) -> Template:
    engine = make_engine(f"sqlite:///{path}")
    template = fill_template(engine)
    engine.dispose()
    with make_engine(f"sqlite:///{path}").connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return template


def fill_template(engine) -> Template:
    """Migrate the empty database behind `engine` and fill it with the template's city."""
    from ledger.db.engine import upgrade

    upgrade(engine)
    ledger = Ledger(Database(engine), clock=lambda: TODAY)
    ledger_from_text(ledger, SETUP)
    template = Template()
    for who, location in USER_LOCATIONS.items():
        user, _ = add_user(ledger.database, f"测试 {who}", who.split("-")[0], location, token(who))
        template.user_id[who] = user.id
    # an admin of every city: the only one who changes what cities share (items, batches)
    user, _ = add_user(
        ledger.database, "测试 global", "admin", None, token("global"), global_admin=True
    )
    template.user_id["global"] = user.id
    requests = Requests(ledger)
    for side, county, township in (("in", "510121", "510121-ZJ"), ("out", "510181", "510181-QCS")):
        lines = (c.LineSpec("NH2014", 20000), c.LineSpec("BYT", 1000))
        ledger.confirm(c.Confirm(ledger.issue(c.Issue("510100", county, lines)).number))
        down = ledger.issue(c.Issue(county, township, (c.LineSpec("NH2014", 2000),)))
        ledger.confirm(c.Confirm(down.number))
        template.shipment_to_county[side] = ledger.issue(
            c.Issue("510100", county, (c.LineSpec("NH2014", 100),))
        ).number
        template.shipment_to_township[side] = ledger.issue(
            c.Issue(county, township, (c.LineSpec("NH2014", 100),))
        ).number
        template.distribution[side] = ledger.distribute(
            c.Distribute(county, (c.LineSpec("NH2014", 10),))
        ).number
        ask = CreateRequest(township, (RequestLineIn("NH2014", 1000), RequestLineIn("BYT", 30)))
        template.draft[side] = requests.create(ask).number
        template.submitted[side] = requests.submit(requests.create(ask).number).number
        for target in (template.approved, template.approved_shipped):
            number = requests.submit(requests.create(ask).number).number
            requests.approve(
                number, Approve((RequestLineIn("NH2014", 800), RequestLineIn("BYT", 30)))
            )
            target[side] = number
        template.request_shipment[side] = requests.ship(
            template.approved_shipped[side], Ship((ShipLine("NH2014", 300),))
        ).number
        template.packed_shipment[side] = ledger.issue(
            c.Issue(county, township, (c.LineSpec("NH2014", 500),))
        ).number
    scanning = Scanning(ledger, label_keys.load(Settings.from_environment()))
    for location in ("510121", "510181", "510121-ZJ", "510181-QCS"):
        sealed = scanning.packs("NH2014", "2014-01", location)
        if sealed:
            template.pack_serial[location] = sealed[-1].serial
            template.pack_payload[location] = sealed[-1].payload
    for side, county, township in (("in", "510121", "510121-ZJ"), ("out", "510181", "510181-QCS")):
        count = scanning.open_document(OpenDocument("count", county))
        scanning.scan(Scan(count.id, scanning.packs("NH2014", "2014-01", county)[0].payload))
        template.document[county] = count.id
        arrival = scanning.open_document(
            OpenDocument("confirm", township, shipment_number=template.packed_shipment[side])
        )
        number = template.packed_shipment[side]
        (travelling,) = ledger.database.lookup(
            lambda store, number=number: [
                pack_info(store, scanning.keys, pack)
                for pack in scans.shipment_packs(
                    store, store.transaction_by_number(number).sequence
                )
            ]
        )
        scanning.scan(Scan(arrival.id, travelling.payload))
        template.scan_payload[township] = travelling.payload
        template.scan_payload[county] = template.pack_payload[county]
        counted = scanning.open_document(OpenDocument("count", county))
        scanning.scan(Scan(counted.id, scanning.packs("NH2014", "2014-01", county)[1].payload))
        template.posted_count[county] = scanning.post(counted.id).id
        stocktakes = Stocktakes(ledger)
        counting = stocktakes.open(OpenStocktake(county, item_codes=("NH2014",)))
        stocktakes.count(
            counting.number, EnterCounts((CountLine(county, "NH2014", "2014-01", 10),))
        )
        template.stocktake_counting[side] = counting.number
        closed = stocktakes.open(OpenStocktake(county, item_codes=("NH2014",)))
        stocktakes.count(
            closed.number,
            EnterCounts(
                tuple(
                    CountLine(e.location_code, e.item_code, e.batch_number, e.book)
                    for e in closed.expected
                )
            ),
        )
        stocktakes.close(closed.number)
        template.stocktake_closed[side] = closed.number
        template.stocktake_digest[side] = stocktakes.preview(closed.number).digest
        template.document[township] = arrival.id
        template.print_plan[side] = saved_print_plan(ledger.database, county)
    return template


def saved_print_plan(database: Database, county: str) -> str:
    """A saved 印制计划 over a county's townships: one 捆 of 年画 for each."""
    from ledger.print_plan import Basis, Target
    from ledger.services.print_plans import Terms, make_print_plan

    terms = Terms(county, "NH2014", "township", Target(Basis.place, 500))
    return make_print_plan(database, terms, save=True, today=TODAY).number or ""


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> tuple[Path, Template]:
    path = tmp_path_factory.mktemp("api-template") / "template.db"
    return path, build_template(path)


@pytest.fixture
def api_database(template, tmp_path) -> Database:
    source, _ = template
    copy = tmp_path / "api.db"
    shutil.copyfile(source, copy)
    database = Database(make_engine(f"sqlite:///{copy}"))
    yield database
    database.dispose()


@pytest.fixture
def numbers(template) -> Template:
    return template[1]


@pytest.fixture(scope="module")
def module_api_app():
    yield from shared_app.module_app()


@pytest.fixture
def own_client(api_database):
    """A client of an app of its own over this test's copy of the template (its start-up and
    shutdown run around the test)."""
    with TestClient(app=create_app(api_database, clock=lambda: TODAY)) as test_client:
        yield test_client


@pytest.fixture
def client(request, api_database):
    """A new client over this test's copy of the template: the module's app, given the copy
    and fresh services and caches (tests/shared_app.py), or `own_client` for a test that
    patches something first."""
    if shared_app.wants_own_app(request):
        yield request.getfixturevalue("own_client")
        return
    yield shared_app.client_over(request.getfixturevalue("module_api_app"), api_database)


@pytest.fixture(scope="module")
def shared_client(template, tmp_path_factory):
    """One app over one copy of the template for a module's read-only requests (GETs change
    nothing, so they need no copy of their own)."""
    source, _ = template
    copy = tmp_path_factory.mktemp("shared") / "api.db"
    shutil.copyfile(source, copy)
    database = Database(make_engine(f"sqlite:///{copy}"))
    with TestClient(app=create_app(database, clock=lambda: TODAY)) as test_client:
        yield test_client, database
    database.dispose()
