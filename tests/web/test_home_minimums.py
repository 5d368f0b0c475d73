"""最低库存 at /minimums: a clerk or an admin sets the least a place of its reach should hold of
an item; the home page then lists the places holding less. Refused beside the field at fault:
a place outside the user's reach (403), a negative minimum, an unknown item; a form without its
CSRF token and a user without the role are refused too, and nothing is stored."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ledger.db import tables as t
from ledger.rules import Code, LedgerError
from ledger.services.balances import BalanceQuery, balances
from ledger.services.stock_minimums import set_stock_minimum, stock_minimums
from tests.web.conftest import csrf_of
from tests.web.test_home import Homes, count, section

ONCE = re.compile(r'name="once" value="([0-9a-f]+)"')


@pytest.fixture
def homes(web_database):
    made = Homes(web_database)
    yield made
    made.close()


def on_hand(database, location_code: str, item_code: str) -> int:
    lines = balances(
        database, BalanceQuery(location_code=location_code, item_code=item_code), "location"
    )
    return sum(line.on_hand for line in lines)


def stored(database) -> list[tuple]:
    m, loc, item = t.stock_minimums.c, t.locations.c, t.items.c
    with database.read() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                select(loc.code, item.code, m.minimum)
                .join(t.locations, loc.id == m.location_id)
                .join(t.items, item.id == m.item_id)
                .order_by(loc.code, item.code)
            )
        ]


def post_minimum(homes: Homes, login: str, **fields):
    client = homes.signed_in(login)
    page = client.get("/minimums")
    assert page.status_code == 200
    form = {"_csrf": csrf_of(page.text), "once": ONCE.search(page.text).group(1), "unit": ""}
    form.update(fields)
    return client.post("/minimums", data=form, follow_redirects=False)


def error_beside(html: str, field: str) -> str:
    found = re.search(rf'id="e-{field}"[^>]*>([^<]*)<', html)
    return found.group(1) if found else ""


def test_a_clerk_sets_a_minimum_and_the_home_page_lists_the_place_below_it(web_database, homes):
    held = on_hand(web_database, "510121-ZJ", "NH2014")
    assert held > 0
    answer = post_minimum(
        homes, "clerk@510121", location_code="510121-ZJ", item_code="NH2014", minimum=str(held + 1)
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/minimums?saved=1"
    assert stored(web_database) == [("510121-ZJ", "NH2014", held + 1)]
    listing = homes("clerk@510121", answer.headers["location"])
    assert (
        "已保存最低库存" in listing and "低于最低库存" in listing and "金堂县仓库保管员" in listing
    )
    for login in ("clerk@510121", "requester@510121-zj", "admin@510100"):
        page = homes(login)
        below = section(page, "below_minimum")
        assert "赵家镇" in below and "2014年慰问独生子女家庭户单张年画" in below, login
        assert count(page, "below_minimum") == "1"
    assert "1 张" in section(homes("clerk@510121"), "below_minimum")  # the shortfall
    # a minimum the place meets is not listed
    set_stock_minimum(web_database, "510121-ZJ", "NH2014", held, None)
    assert section(homes("clerk@510121"), "below_minimum") == ""
    with web_database.read() as connection:
        logged = connection.execute(
            select(t.operations_log.c.object_key).where(
                t.operations_log.c.action == "stock_minimum.set"
            )
        ).all()
    assert [row[0] for row in logged] == ["510121-ZJ NH2014", "510121-ZJ NH2014"]


def test_a_minimum_in_packs_is_stored_in_base_units(web_database, homes):
    answer = post_minimum(
        homes, "admin@510100", location_code="510121", item_code="NH2014", minimum="3", unit="捆"
    )
    assert answer.status_code == 303
    assert stored(web_database) == [("510121", "NH2014", 1500)]
    found = stock_minimums(web_database, "/510100/510121/")
    assert [(entry.location.code, entry.minimum) for entry in found] == [("510121", 1500)]


def test_a_place_of_another_subtree_is_refused_beside_its_field(web_database, homes):
    answer = post_minimum(
        homes, "clerk@510121", location_code="510181", item_code="NH2014", minimum="10"
    )
    assert answer.status_code == 403
    assert "不在您的管辖范围内" in error_beside(answer.text, "location_code")
    assert 'value="510181"' in answer.text  # what was typed stays
    assert stored(web_database) == []


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"minimum": "-5", "item_code": "NH2014"}, "minimum", "不能为负数"),
        ({"minimum": "abc", "item_code": "NH2014"}, "minimum", "整数"),
        ({"minimum": "5", "item_code": "NOPE"}, "item_code", "NOPE"),
        ({"minimum": "5", "item_code": "NH2014", "unit": "盒"}, "unit", "没有计量单位"),
    ],
)
def test_a_wrong_minimum_is_refused_beside_its_field(web_database, homes, fields, field, words):
    answer = post_minimum(homes, "clerk@510121", location_code="510121", **fields)
    assert answer.status_code == 422
    assert words in error_beside(answer.text, field), answer.text
    assert stored(web_database) == []


def test_without_csrf_or_the_role_nothing_is_stored(web_database, homes):
    client = homes.signed_in("clerk@510121")
    answer = client.post(
        "/minimums",
        data={"location_code": "510121", "item_code": "NH2014", "minimum": "5"},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    for login in ("requester@510121-zj", "approver@510121", "auditor@510100"):
        client = homes.signed_in(login)
        assert client.get("/minimums").status_code == 403
        token = csrf_of(client.get("/").text)
        refused = client.post(
            "/minimums",
            data={
                "_csrf": token,
                "location_code": "510121-ZJ",
                "item_code": "NH2014",
                "minimum": "5",
            },
            follow_redirects=False,
        )
        assert refused.status_code == 403
        assert 'href="/minimums"' not in homes(login)
    assert stored(web_database) == []


def test_the_service_refuses_unknown_places_items_virtual_places_and_negatives(web_database):
    cases = [
        (("NOWHERE", "NH2014", 1), Code.unknown_location),
        (("510121", "NOPE", 1), Code.unknown_item),
        (("in-transit", "NH2014", 1), Code.location_must_be_physical),
        (("510121", "NH2014", -1), Code.stock_minimum_negative),
    ]
    for arguments, code in cases:
        with pytest.raises(LedgerError) as refused:
            set_stock_minimum(web_database, *arguments, None)
        assert refused.value.code == code
    assert stored(web_database) == []
