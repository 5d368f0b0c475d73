"""首页's to-do lists: each entry shows for the role that acts on it and only inside the user's
subtree, as a link to what it names; the near-expiry and in-transit lists say what the reports
say."""

from __future__ import annotations

import re

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.web.units import quantity_text
from ledger.services import lookups, requests, scanning, stocktakes
from ledger.services.report_stock import in_transit, near_expiry
from ledger.services.request_models import (
    Approve,
    CreateRequest,
    RequestLineIn,
    Ship,
    ShipLine,
)
from ledger.services.scan_models import OpenDocument
from ledger.services.stocktake_models import OpenStocktake
from ledger.services.users import add_user, list_users
from ledger.services.web_sign_in import demo_password_hash, set_sign_in
from tests.conftest import TODAY
from tests.web.conftest import sign_in


def user_id(database, login: str) -> int:
    return next(user.id for user in list_users(database) if user.login == login)


def section(html: str, name: str) -> str:
    """The to-do list `name` of a home page ('' when the page shows none)."""
    found = re.search(rf'<section class="card todo" id="todo-{name}".*?</section>', html, re.S)
    return found.group(0) if found else ""


def count(html: str, name: str) -> str:
    found = re.search(rf'id="count-{name}">.*?<span class="n">([^<]*)</span>', html, re.S)
    return found.group(1) if found else ""


class Homes:
    """One client over a database, signed in once per login (signing in hashes a password),
    each login's session cookie kept and sent again when its home page is asked for."""

    def __init__(self, database) -> None:
        self.client = TestClient(app=create_app(database, clock=lambda: TODAY))
        self.client.__enter__()
        self.sessions: dict[str, dict[str, str]] = {}

    def signed_in(self, login: str) -> TestClient:
        self.client.cookies.clear()
        if login not in self.sessions:
            assert sign_in(self.client, login).status_code == 303
            self.sessions[login] = dict(self.client.cookies)
        self.client.cookies.update(self.sessions[login])
        return self.client

    def __call__(self, login: str, path: str = "/") -> str:
        answer = self.signed_in(login).get(path)
        assert answer.status_code == 200, answer.text
        return answer.text

    def close(self) -> None:
        self.client.__exit__(None, None, None)


@pytest.fixture
def homes(web_database):
    made = Homes(web_database)
    yield made
    made.close()


@pytest.fixture(scope="module")
def shared_homes(shared_web):
    _, database = shared_web
    made = Homes(database)
    yield made, database
    made.close()


def submitted_request(database) -> str:
    """赵家镇 asks 金堂县 for 2 捆 of 年画 and submits: the request's number."""
    requester = user_id(database, "requester@510121-zj")
    made = requests.create(
        database,
        CreateRequest("510121-ZJ", (RequestLineIn("NH2014", 2, "捆"),), memo="首页测试"),
        requester,
        TODAY,
    )
    requests.submit(database, made.number, requester, TODAY)
    return made.number


def approved_request(database) -> str:
    number = submitted_request(database)
    approver = user_id(database, "approver@510121")
    requests.approve(
        database, number, Approve((RequestLineIn("NH2014", 2, "捆"),)), approver, TODAY
    )
    return number


def add_approver(database, location_code: str) -> str:
    """A user who approves at another county (signs in as approver@<code>)."""
    user, _ = add_user(database, "测试审批", "approver", location_code)
    login = f"approver@{location_code}"
    set_sign_in(database, user.id, login, None, hashed=demo_password_hash("demo-password"))
    return login


def test_an_approver_sees_the_submitted_requests_of_its_subtree(web_database, homes):
    number = submitted_request(web_database)
    other = add_approver(web_database, "510181")
    page = homes("approver@510121")
    listed = section(page, "approve")
    assert f'href="/requests/{number}"' in listed
    assert "赵家镇" in listed and "金堂县" in listed
    assert count(page, "approve") == "1"
    assert number in section(homes("admin@510100"), "approve")  # an admin approves
    # outside the other county's subtree; a clerk and the requester itself do not approve
    assert number not in homes(other)
    assert section(homes("clerk@510121"), "approve") == ""
    assert 'id="count-approve"' not in homes("requester@510121-zj")


def test_the_supplying_clerk_sees_an_approved_request_to_ship(web_database, homes):
    number = approved_request(web_database)
    listed = section(homes("clerk@510121"), "ship")
    assert f'href="/requests/{number}"' in listed
    assert number not in section(homes("approver@510121"), "approve")  # approved
    # the city's clerk does not supply it; the requester ships nothing
    assert number not in section(homes("clerk@510100"), "ship")
    assert 'id="count-ship"' not in homes("requester@510121-zj")
    assert number in section(homes("admin@510100"), "ship")


def test_the_receiving_place_sees_a_shipment_to_confirm(web_database, homes):
    number = approved_request(web_database)
    clerk = user_id(web_database, "clerk@510121")
    shipment = requests.ship(
        web_database, number, Ship((ShipLine("NH2014", 2, "捆"),)), clerk, TODAY
    )
    page = homes("requester@510121-zj")
    listed = section(page, "confirm")
    assert f'href="/vouchers/{shipment.number}"' in listed
    assert f'href="/vouchers/{shipment.number}/confirm">签收</a>' in listed  # one click to sign
    assert "2 捆（1,000 张）" in listed and "金堂县" in listed
    assert number not in section(homes("clerk@510121"), "ship")  # shipped in full
    # the shipping county does not confirm its own shipment; an admin of the city may
    assert shipment.number not in section(homes("clerk@510121"), "confirm")
    assert shipment.number in section(homes("admin@510100"), "confirm")
    assert shipment.number not in section(homes("clerk@510100"), "confirm")


def test_the_city_clerk_sees_long_journeys_the_township_does_not(shared_homes):
    """The demo's shipments to 简阳市 have been in transit since day 10 (the in-transit
    report's rows): the city's clerk sees them as too long, 赵家镇 sees none of them."""
    homes, database = shared_homes
    report = database.lookup(lambda store: in_transit(store, "510100", TODAY))
    numbers = {row[0] for row in report.rows if row[8] > 7}
    assert numbers
    city = homes("clerk@510100")
    listed = section(city, "transit")
    assert all(f'href="/vouchers/{n}"' in listed for n in numbers)
    assert count(city, "transit") == str(len(numbers))
    assert section(city, "confirm") == ""  # addressed to 简阳市, not to the city
    township = homes("requester@510121-zj")
    assert not any(n in township for n in numbers)
    assert count(township, "transit") == "0"


def test_open_stocktakes_and_scan_documents_show_in_their_subtree(web_database, homes):
    clerk = user_id(web_database, "clerk@510121")
    counted = stocktakes.open_stocktake(
        web_database, OpenStocktake("510121", memo="季度盘点"), clerk, TODAY
    )
    document = scanning.open_document(
        web_database,
        OpenDocument("issue", "510121", destination_code="510121-ZJ", memo="扫码出库"),
        clerk,
        TODAY,
    )
    page = homes("clerk@510121")
    assert f'href="/stocktakes/{counted.number}"' in section(page, "stocktakes")
    assert "盘点中" in section(page, "stocktakes")
    scans = section(page, "scans")
    assert f'href="/scan?document={document.id}"' in scans and "扫码出库" in scans
    city = homes("clerk@510100")
    assert counted.number in section(city, "stocktakes")
    assert f"document={document.id}" in section(city, "scans")
    township = homes("requester@510121-zj")  # 金堂县 is above 赵家镇
    assert counted.number not in township
    assert f"document={document.id}" not in township
    elsewhere = homes(add_approver(web_database, "510181"))
    assert counted.number not in elsewhere


@pytest.mark.parametrize(
    ("login", "top"),
    [("clerk@510100", "510100"), ("admin@510100", "510100"), ("clerk@510121", "510121")],
)
def test_near_expiry_batches_are_the_reports_rows(shared_homes, login, top):
    """The demo's BYT-2401 expires 40 days after its last day, at the counties it went to
    (not 金堂县, whose townships got BYT-2503)."""
    homes, database = shared_homes
    report = database.lookup(lambda store: near_expiry(store, top, 90, TODAY))
    page = homes(login)
    listed = section(page, "expiring")
    item = lookups.item(database, "BYT")
    for row in report.rows[:20]:
        location_name, batch, expires_on, on_hand = row[1], row[3], row[4], row[6]
        assert f">{location_name}</a>" in listed and batch in listed
        assert expires_on.isoformat() in listed
        assert quantity_text(on_hand, item) in listed
    assert listed.count("<tr class=") == min(len(report.rows), 20)
    assert count(page, "expiring") == str(len(report.rows)) + ("+" if len(report.rows) > 20 else "")


def test_each_role_sees_its_lists_and_only_its_subtree(shared_homes):
    homes, _ = shared_homes
    township = homes("requester@510121-zj")
    for name in ("confirm", "scans", "expiring", "below_minimum", "transit"):
        assert f'id="count-{name}"' in township
    for name in ("approve", "ship", "stocktakes"):
        assert f'id="count-{name}"' not in township
    assert "简阳市" not in township and "锦江区" not in township  # other places' stock
    approver = homes("approver@510121")
    assert 'id="count-approve"' in approver and 'id="count-ship"' not in approver
    auditor = homes("auditor@510100")
    assert 'id="count-stocktakes"' in auditor and 'id="count-approve"' not in auditor


def test_the_home_page_needs_a_session(shared_web):
    client, _ = shared_web
    client.cookies.clear()
    assert "工作台登录" in client.get("/").text  # signed out: the sign-in page
    answer = client.get("/home/coverage", follow_redirects=False)
    assert answer.status_code in (302, 303) and "/?next=" in answer.headers["location"]
