"""库点 pickers: where a page asks for a place it offers the places the user may choose there
(the physical locations of its subtree in tree order, indented, the code beside) instead of a
typed code — /scan's 库点 and 接收单位, /plans' 另加库点 (and an admin's 调出库点), the /vouchers
search and a batch's packs page — checked against the locations service independently; for a
subtree too large for a select, the code is typed with the places suggested (a datalist), and
a typed code still works."""

from __future__ import annotations

import html
import re

import pytest

from api.web import places as place_pickers
from ledger.services import lookups, scanning
from ledger.services.scan_models import AnnounceDelivery
from tests.conftest import TODAY
from tests.web.conftest import signed_in_client
from tests.web.test_vouchers import _in_reach, _listed

LOGINS = ("clerk@510121", "requester@510121-zj", "admin@510100", "approver@510121")


@pytest.fixture(scope="module")
def clients(shared_web):
    _, database = shared_web
    opened = {login: signed_in_client(database, login) for login in LOGINS}
    yield opened
    for client in opened.values():
        client.__exit__(None, None, None)


def options(page: str, select_id: str) -> list[tuple[str, str, bool]]:
    """(value, text, selected) of each option of the select with this id."""
    found = re.search(rf'<select id="{re.escape(select_id)}"[^>]*>(.*?)</select>', page, re.S)
    assert found, f"no select #{select_id}"
    return [
        (html.unescape(value), html.unescape(text), " selected" in attrs)
        for value, attrs, text in re.findall(
            r'<option value="([^"]*)"([^>]*)>([^<]*)</option>', found.group(1)
        )
    ]


def subtree(database, path: str, *leaving: str) -> list[tuple[str, str]]:
    """The physical places of the subtree at `path` in tree order as a picker labels them:
    indented by depth below the top, the code beside."""
    found = lookups.locations(database, path, None, False, 10_000, 0)
    top = path.count("/")
    return [
        (r.code, "\u3000" * (r.path.count("/") - top) + f"{r.name}（{r.code}）")
        for r in found
        if r.code not in leaving
    ]


def test_the_scan_page_offers_its_place_and_the_receivers(shared_web, clients):
    _, database = shared_web
    page = clients["clerk@510121"].get("/scan").text
    # a clerk scans at its own place only; an issue goes to a place of its subtree
    assert options(page, "location") == [("510121", "金堂县（510121）", True)]
    receivers = options(page, "destination")
    assert receivers[0] == ("", "请选择", False)
    assert [(v, t) for v, t, _ in receivers[1:]] == subtree(database, "/510100/510121/", "510121")
    assert ("510121-ZJ", "\u3000赵家镇（510121-ZJ）") in [(v, t) for v, t, _ in receivers]
    assert 'data-name="赵家镇"' in page  # the title names the receiver (scan.js reads it)
    assert "510181" not in page and 'value="510100"' not in page  # beyond its subtree

    township = clients["requester@510121-zj"].get("/scan").text
    assert options(township, "location") == [("510121-ZJ", "赵家镇（510121-ZJ）", True)]

    admin = clients["admin@510100"].get("/scan").text
    city = subtree(database, "/510100/")
    assert [(v, t) for v, t, _ in options(admin, "location")] == city
    assert [v for v, _, chosen in options(admin, "location") if chosen] == ["510100"]
    assert "510181" in {v for v, _, _ in options(admin, "location")}  # another county


def test_plans_offer_the_places_to_add_and_added_ones_are_listed(shared_web, clients):
    _, database = shared_web
    clerk = clients["clerk@510121"]
    page = clerk.get("/plans").text
    listed = ("510121", "510121-ZJ", "510121-HK")  # the source and its places
    offered = options(page, "f-extra")
    assert [(v, t) for v, t, _ in offered] == subtree(database, "/510100/510121/", *listed)
    assert 'id="f-extra" name="extra" multiple' in page
    assert 'id="f-source_code"' not in page  # a clerk plans at its own place

    chosen = clerk.get(
        "/plans?sent=1&source_code=510121&place=510121-ZJ&weight=1&include=510121-ZJ"
        "&extra=510121-ZJ-PS&extra=510121-HK-GM"
    ).text
    rows = re.findall(r'name="place" value="([^"]+)"', chosen)
    assert rows == ["510121-ZJ", "510121-ZJ-PS", "510121-HK-GM"]
    left = {v for v, _, _ in options(chosen, "f-extra")}
    assert "510121-ZJ-PS" not in left and "510121-HK-GM" not in left and "510121-HK" in left

    refused = clerk.get("/plans?sent=1&source_code=510121&extra=510181")
    assert refused.status_code == 403  # another county: kept beside its refusal
    assert ("510181", "510181", True) in options(refused.text, "f-extra")

    admin = clients["admin@510100"].get("/plans?source_code=510121").text
    sources = options(admin, "f-source_code")
    assert [(v, t) for v, t, _ in sources] == subtree(database, "/510100/")
    assert [v for v, _, chosen in sources if chosen] == ["510121"]


def test_the_voucher_search_offers_the_places_of_the_subtree(shared_web, clients):
    _, database = shared_web
    page = clients["requester@510121-zj"].get("/vouchers").text
    offered = options(page, "f-location")
    assert offered[0][:2] == ("", "全部库点") and not any(chosen for *_, chosen in offered)
    assert [(v, t) for v, t, _ in offered[1:]] == subtree(database, "/510100/510121/510121-ZJ/")
    chosen = clients["clerk@510121"].get("/vouchers?location=510121-HK").text
    assert ("510121-HK", "\u3000淮口镇（510121-HK）", True) in options(chosen, "f-location")
    assert [row["data-number"] for row in _listed(chosen)] == _in_reach(
        database, "/510100/510121/", location_code="510121-HK"
    )
    outside = clients["requester@510121-zj"].get("/vouchers?location=510121-HK")
    assert outside.status_code == 400 and 'id="e-location"' in outside.text
    assert ("510121-HK", "510121-HK", True) in options(outside.text, "f-location")


def test_a_large_subtree_types_the_code_with_the_places_suggested(shared_web, clients, monkeypatch):
    _, database = shared_web
    monkeypatch.setattr(place_pickers, "SELECT_MAX", 3)
    client = clients["clerk@510121"]
    page = client.get("/vouchers?location=510121-HK").text
    assert '<select id="f-location"' not in page
    field = re.search(r'<input id="f-location"[^>]*>', page, re.S).group(0)
    assert 'list="f-location-places"' in field and 'value="510121-HK"' in field
    datalist = re.search(r'<datalist id="f-location-places">(.*?)</datalist>', page, re.S)
    suggested = re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', datalist.group(1))
    expected = lookups.locations(database, "/510100/510121/", None, False, 100, 0)
    assert suggested == [(r.code, f"{r.code} {r.name}") for r in expected]
    assert [row["data-number"] for row in _listed(page)] == _in_reach(
        database, "/510100/510121/", location_code="510121-HK"
    )  # the typed code still filters
    monkeypatch.setattr(place_pickers, "LIST_MAX", 3)
    bare = client.get("/vouchers").text
    assert "<datalist" not in bare and '<input id="f-location"' in bare
    assert "输入库点编码" in bare
    scan = client.get("/scan").text
    assert '<input id="destination"' in scan  # a typed code on /scan too


def test_the_packs_page_filters_by_a_place_holding_them(web, web_database):
    keys = web.app.state.services.label_keys
    for place, bundles in (("510121", 3), ("510121-ZJ", 2)):
        scanning.announce(
            web_database,
            keys,
            AnnounceDelivery(place, "NH2014", "2014-09", bundles, "捆"),
            today=TODAY,
        )
    client = signed_in_client(web_database, "clerk@510121")
    try:
        page = client.get("/stock/packs/NH2014/2014-09").text
        assert options(page, "f-location") == [
            ("", "全部库点", False),
            ("510121", "金堂县（510121）", False),
            ("510121-ZJ", "赵家镇（510121-ZJ）", False),
        ]
        only = client.get("/stock/packs/NH2014/2014-09?location=510121-ZJ").text
        assert "只看 赵家镇" in only and "只看 510121-ZJ" not in only
        assert ("510121-ZJ", "赵家镇（510121-ZJ）", True) in options(only, "f-location")
        assert set(
            re.findall(r'data-serial="\d+" data-state="\w+" data-location="([^"]+)"', only)
        ) == {"510121-ZJ"}
    finally:
        client.__exit__(None, None, None)


def test_the_reports_still_offer_the_subtree(shared_web, clients):
    _, database = shared_web
    page = clients["approver@510121"].get("/reports/stock-on-hand").text
    assert [(v, t) for v, t, _ in options(page, "f-under")] == subtree(database, "/510100/510121/")
