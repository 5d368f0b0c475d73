"""库存 pages: the tree with its roll-ups (checked against the ledger's balances summed here
over each subtree), as of a past day, an item filter, the shared virtual places for a user at
the top only, one location's lines, and the reach rules (a township's requester sees its
township only; a location outside reach is refused as by the API)."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest

from ledger.services import lookups
from ledger.services.balances import balance_lines
from tests.conftest import TODAY
from tests.web.conftest import signed_in_client

PAST = dt.date(2026, 4, 15)


class _Rows(HTMLParser):
    """Every <tr> of a page (or of the table with `table_id`) as {attribute: value} of the row
    and of its cells' data-* attributes, with the row's text under 'text'."""

    def __init__(self, table_id: str | None) -> None:
        super().__init__()
        self.table_id, self.inside, self.depth = table_id, table_id is None, 0
        self.rows: list[dict[str, str]] = []
        self.current: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        found = {key: value or "" for key, value in attrs}
        if tag == "table" and self.table_id is not None:
            if self.inside:
                self.depth += 1
            elif found.get("id") == self.table_id:
                self.inside, self.depth = True, 1
        if not self.inside:
            return
        if tag == "tr":
            self.current = {**found, "text": ""}
            self.rows.append(self.current)
        elif tag in ("td", "th") and self.current is not None:
            self.current.update({k: v for k, v in found.items() if k.startswith("data-")})

    def handle_endtag(self, tag):
        if tag == "table" and self.table_id is not None and self.inside:
            self.depth -= 1
            self.inside = self.depth > 0
        if tag == "tr":
            self.current = None

    def handle_data(self, data):
        if self.current is not None:
            self.current["text"] += data


def rows_of(html: str, table_id: str | None = None) -> list[dict[str, str]]:
    parser = _Rows(table_id)
    parser.feed(html)
    return parser.rows


def tree_figures(html: str) -> dict[tuple[str, str], tuple[int, int]]:
    """(location, item) → (own, total) as the tree shows them."""
    return {
        (row["data-location"], row["data-item"]): (int(row["data-own"]), int(row["data-total"]))
        for row in rows_of(html, "stock-tree")
        if "data-item" in row
    }


def ledger_sums(database, top: str, as_of: dt.date | None = None):
    """From the ledger's balance lines: per (location, item) the own stock and the subtree
    total, for every physical location under `top`."""
    paths = {
        place.code: place.path
        for place in lookups.locations(database, None, None, False, 10_000, 0)
    }
    own: dict[tuple[str, str], int] = {}
    total: dict[tuple[str, str], int] = {}
    for line in balance_lines(database, as_of=as_of):
        path = paths[line.location_code]
        if f"/{top}/" not in path:
            continue
        key = (line.location_code, line.item_code)
        own[key] = own.get(key, 0) + line.on_hand
        for code in path.strip("/").split("/"):
            total[(code, line.item_code)] = total.get((code, line.item_code), 0) + line.on_hand
    return own, total


@pytest.fixture(scope="module")
def clients(shared_web):
    _, database = shared_web
    opened = {
        login: signed_in_client(database, login)
        for login in ("clerk@510121", "requester@510121-zj", "admin@510100", "auditor@510100")
    }
    yield opened
    for client in opened.values():
        client.__exit__(None, None, None)


def test_the_county_tree_rolls_up_its_subtree_as_the_ledger_sums_it(shared_web, clients):
    _, database = shared_web
    page = clients["clerk@510121"].get("/stock")
    assert page.status_code == 200
    shown = tree_figures(page.text)
    own, total = ledger_sums(database, "510121")
    children = ("510121-ZJ", "510121-HK")
    expected = {
        (code, item): (own.get((code, item), 0), quantity)
        for (code, item), quantity in total.items()
        if code in ("510121", *children) and quantity
    }
    assert shown == expected
    assert any(shown[key][1] > shown[key][0] for key in shown if key[0] == "510121")
    assert '<div class="table-wrap">' in page.text
    assert "展开下级" in page.text and "/stock?at=510121-ZJ" in page.text


def test_a_past_day_gives_the_earlier_balance(shared_web, clients):
    _, database = shared_web
    now = tree_figures(clients["clerk@510121"].get("/stock").text)
    page = clients["clerk@510121"].get(f"/stock?as_of={PAST}")
    then = tree_figures(page.text)
    _own, total = ledger_sums(database, "510121", PAST)
    assert {key: figures[1] for key, figures in then.items()} == {
        key: quantity
        for key, quantity in total.items()
        if key[0] in ("510121", "510121-ZJ", "510121-HK") and quantity
    }
    assert then != now  # the demo moved stock after that day
    assert "历史日期不含预留数" in page.text and f'value="{PAST}"' in page.text


def test_the_item_filter_keeps_one_item(clients):
    page = clients["clerk@510121"].get("/stock?item=NH2014")
    items = {key[1] for key in tree_figures(page.text)}
    assert items == {"NH2014"}


def test_a_child_opens_its_own_level(shared_web, clients):
    _, database = shared_web
    page = clients["clerk@510121"].get("/stock?at=510121-ZJ")
    shown = tree_figures(page.text)
    _own, total = ledger_sums(database, "510121-ZJ")
    assert {key[0] for key in shown} <= {
        "510121-ZJ",
        "510121-ZJ-PS",
        "510121-ZJ-XH",
        "510121-ZJ-TJ",
    }
    assert {key: figures[1] for key, figures in shown.items()} == {
        key: quantity
        for key, quantity in total.items()
        if quantity and key[0].startswith("510121-ZJ")
    }
    assert "金堂县" in page.text  # the way back up, inside the clerk's reach


def test_a_township_requester_sees_its_township_only(clients):
    client = clients["requester@510121-zj"]
    page = client.get("/stock")
    locations = {key[0] for key in tree_figures(page.text)}
    assert locations and all(code.startswith("510121-ZJ") for code in locations)
    assert "淮口镇" not in page.text and '/stock?at=510121"' not in page.text
    assert "虚拟库点" not in page.text
    for path in ("/stock?at=510121", "/stock?at=510121-HK", "/stock/510121-HK", "/stock/510100"):
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert "不在您的管辖范围内" in refused.text or "无权" in refused.text
    assert client.get("/stock/in-transit").status_code == 403  # a shared virtual place
    assert client.get("/stock/510121-ZJ-PS").status_code == 200


def test_the_virtual_places_show_at_the_top_as_the_api_reads_them(clients):
    client = clients["admin@510100"]
    page = client.get("/stock")
    assert page.status_code == 200 and "虚拟库点" in page.text
    virtual = {
        row["data-item"]: int(row["data-total"])
        for row in rows_of(page.text)
        if row.get("data-location") == "in-transit" and "data-item" in row
    }
    api = client.get("/api/v1/balances?location=in-transit&group_by=item&limit=200").json()
    assert virtual == {row["item_code"]: row["on_hand"] for row in api["items"] if row["on_hand"]}
    assert virtual  # the demo has a shipment still in transit
    assert "虚拟库点" not in clients["clerk@510121"].get("/stock").text


def test_a_location_shows_its_lines_by_batch(shared_web, clients):
    _, database = shared_web
    page = clients["clerk@510121"].get("/stock/510121")
    assert page.status_code == 200
    shown = {
        (row["data-item"], row["data-batch"]): (
            int(row["data-on-hand"]),
            int(row["data-reserved"]),
            int(row["data-available"]),
        )
        for row in rows_of(page.text, "stock-lines")
        if "data-batch" in row
    }
    expected = {
        (line.item_code, line.batch_number): (line.on_hand, line.reserved, line.available)
        for line in balance_lines(database, "510121")
    }
    assert shown == expected and shown
    assert "/stock/510121/card?item=" in page.text and "/stock/packs/" in page.text
    assert "（" in page.text  # quantities in packs with base units beside


def test_a_location_as_of_a_past_day(shared_web, clients):
    _, database = shared_web
    page = clients["clerk@510121"].get(f"/stock/510121-ZJ?as_of={PAST}")
    shown = {
        (row["data-item"], row["data-batch"]): int(row["data-on-hand"])
        for row in rows_of(page.text, "stock-lines")
        if "data-batch" in row
    }
    expected = {
        (line.item_code, line.batch_number): line.on_hand
        for line in balance_lines(database, "510121-ZJ", as_of=PAST)
    }
    assert shown == expected


def test_a_bad_day_is_said_beside_its_field(clients):
    page = clients["clerk@510121"].get("/stock?as_of=2026-13-40")
    assert page.status_code == 200
    assert 'id="e-as_of"' in page.text and "YYYY-MM-DD" in page.text


def test_the_pages_need_a_session(shared_web):
    client, _ = shared_web
    answer = client.get("/stock", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/?next=")


def test_today_is_read_with_reservations(shared_web, clients):
    _, database = shared_web
    page = clients["admin@510100"].get(f"/stock/510100?as_of={TODAY}")
    reserved = sum(
        int(row["data-reserved"])
        for row in rows_of(page.text, "stock-lines")
        if "data-reserved" in row
    )
    assert reserved == sum(line.reserved for line in balance_lines(database, "510100"))
