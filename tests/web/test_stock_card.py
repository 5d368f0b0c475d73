"""库存's detail pages: the stock card (明细账) — its running balance, its vouchers (those the
ledger has for the account), errors beside their fields, reach — and the packs of a batch with
their state and place, inside the user's reach only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from litestar.testing import TestClient

from ledger.services import lookups, scanning
from ledger.services.balances import balance_lines
from ledger.services.lookups import TransactionFilter
from ledger.services.scan_models import AnnounceDelivery
from tests.conftest import TODAY
from tests.web.conftest import signed_in_client
from tests.web.test_stock import rows_of

START = dt.date(2026, 1, 1)
LATER = dt.date(2026, 4, 15)


@pytest.fixture(scope="module")
def clients(shared_web):
    _, database = shared_web
    opened = {
        login: signed_in_client(database, login)
        for login in ("clerk@510121", "requester@510121-zj", "admin@510100")
    }
    yield opened
    for client in opened.values():
        client.__exit__(None, None, None)


@contextmanager
def session(database, login: str) -> Iterator[TestClient]:
    """A client signed in as `login`, closed afterwards."""
    client = signed_in_client(database, login)
    try:
        yield client
    finally:
        client.__exit__(None, None, None)


def _account(database, location: str, item: str) -> str:
    """A batch of `item` the location holds now."""
    return next(line.batch_number for line in balance_lines(database, location, item))


def _card_rows(html: str) -> list[dict[str, str]]:
    return [row for row in rows_of(html, "card-lines") if "data-balance" in row]


def _vouchers_of(database, location: str, item: str, batch: str, start, end) -> list[str]:
    found = lookups.transactions(
        database, TransactionFilter(None, None, location, item, batch, start, end), 10_000, 0
    )
    return [
        t.number
        for t in found
        if any(
            (p.location_code, p.item_code, p.batch_number) == (location, item, batch)
            for p in t.postings
        )
    ]


@pytest.mark.parametrize("start", [START, LATER])
def test_the_card_runs_its_balance_over_the_accounts_vouchers(shared_web, clients, start):
    _, database = shared_web
    batch = _account(database, "510121", "NH2014")
    page = clients["clerk@510121"].get(
        f"/stock/510121/card?item=NH2014&batch={batch}&from={start}&to={TODAY}"
    )
    assert page.status_code == 200
    rows = _card_rows(page.text)
    body, total = rows[:-1], rows[-1]
    opening = sum(
        line.on_hand
        for line in balance_lines(database, "510121", "NH2014", batch, start - dt.timedelta(1))
    )
    assert int(body[0]["data-balance"]) == opening
    balance = opening
    for row in body[1:]:
        balance += int(row.get("data-received", 0)) - int(row.get("data-issued", 0))
        assert int(row["data-balance"]) == balance
    closing = sum(line.on_hand for line in balance_lines(database, "510121", "NH2014", batch))
    assert balance == closing == int(total["data-balance"])
    numbers = [row["data-number"] for row in body[1:]]
    assert numbers == _vouchers_of(database, "510121", "NH2014", batch, start, TODAY)
    assert all(f'href="/vouchers/{n}"' in page.text for n in numbers)
    assert numbers or start == LATER  # the county moved this batch in the spring


def test_card_errors_are_said_beside_their_fields(shared_web, clients):
    client = clients["clerk@510121"]
    _, database = shared_web
    batch = _account(database, "510121", "NH2014")
    late = client.get(f"/stock/510121/card?item=NH2014&batch={batch}&from=2026-06-01&to=2026-05-01")
    assert (
        late.status_code == 422
        and 'id="e-from"' in late.text
        and "起始日期晚于截止日期" in late.text
    )
    unknown = client.get("/stock/510121/card?item=NH2014&batch=NO-SUCH&from=2026-01-01")
    assert unknown.status_code in (404, 422) and 'id="e-batch"' in unknown.text
    assert 'value="NO-SUCH"' in unknown.text  # what was typed stays
    half = client.get("/stock/510121/card?item=NH2014")
    assert half.status_code == 400 and 'id="e-batch"' in half.text
    bad_day = client.get(f"/stock/510121/card?item=NH2014&batch={batch}&from=2026-02-30")
    assert bad_day.status_code == 400 and 'id="e-from"' in bad_day.text
    empty = client.get("/stock/510121/card")
    assert empty.status_code == 200 and "请选择物资" in empty.text


def test_a_card_outside_reach_is_refused(shared_web, clients):
    _, database = shared_web
    batch = _account(database, "510121", "NH2014")
    requester = clients["requester@510121-zj"]
    answer = requester.get(f"/stock/510121/card?item=NH2014&batch={batch}")
    assert answer.status_code == 403
    # a shared virtual place's card holds every city's movements: a global admin's only
    assert clients["admin@510100"].get("/stock/in-transit/card").status_code == 403
    assert (
        clients["admin@510100"].get(f"/stock/510121/card?item=NH2014&batch={batch}").status_code
        == 200
    )


@pytest.fixture
def packs_web(web, web_database):
    """The demo with two labelled deliveries announced: 3 捆 for 金堂县, 2 捆 for 赵家镇."""
    keys = web.app.state.services.label_keys
    for place, bundles in (("510121", 3), ("510121-ZJ", 2)):
        scanning.announce(
            web_database,
            keys,
            AnnounceDelivery(place, "NH2014", "2014-09", bundles, "捆"),
            today=TODAY,
        )
    return web, web_database


def _packs(html: str) -> list[dict[str, str]]:
    return [row for row in rows_of(html, "packs") if "data-serial" in row]


def test_the_packs_of_a_batch_and_where_they_are(packs_web):
    _, database = packs_web
    with session(database, "clerk@510121") as client:
        page = client.get("/stock/packs/NH2014/2014-09")
        assert page.status_code == 200
        packs = _packs(page.text)
        assert sorted(row["data-location"] for row in packs) == ["510121"] * 3 + ["510121-ZJ"] * 2
        assert {row["data-state"] for row in packs} == {"announced"}
        assert "待到货" in page.text and "1 捆（500 张）" in page.text
        serials = [int(row["data-serial"]) for row in packs]
        assert serials == sorted(serials) and len(set(serials)) == 5
        only = _packs(client.get("/stock/packs/NH2014/2014-09?location=510121-ZJ").text)
        assert [row["data-location"] for row in only] == ["510121-ZJ"] * 2
        unknown = client.get("/stock/packs/NH2014/NO-SUCH")
        assert unknown.status_code == 422 and "NO-SUCH" in unknown.text  # as the API answers


def test_a_township_sees_only_its_own_packs(packs_web):
    _, database = packs_web
    with session(database, "requester@510121-zj") as client:
        packs = _packs(client.get("/stock/packs/NH2014/2014-09").text)
        assert [row["data-location"] for row in packs] == ["510121-ZJ"] * 2
        assert client.get("/stock/packs/NH2014/2014-09?location=510121").status_code == 403
