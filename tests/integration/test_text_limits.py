"""Text is never cut: every text a use case stores is accepted up to its limit (PostgreSQL's
column widths hold it) and refused one character over with `text_too_long` naming the limit,
on SQLite and PostgreSQL. Nothing is recorded by a refusal."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger import commands as c
from ledger.db import journal_queries
from ledger.model import Item, ItemKind, Location, LocationLevel, Pack
from ledger.rules import Code
from ledger.services import request_models as rq
from ledger.services import scan_models as sc
from ledger.services import stocktake_models as st
from ledger.services.users import add_user
from tests.bound import Requests, Scanning, Stocktakes
from tests.builder import CITY_TEXT, ledger_from_text
from tests.support import refused

CJK = "字"  # a character that takes three bytes in UTF-8: limits count characters


@pytest.fixture
def city(ledger):
    ledger_from_text(ledger, CITY_TEXT + "receipt 510100 NH2014 2014-01 100000 on 2026-05-01\n")
    return ledger


def at_limit_and_over(ledger, call, build, limit: int, field: str):
    """`build(n)` makes the command with an n-character text: n = limit is recorded, limit + 1
    is refused with the limit in the message and nothing recorded."""
    before = counts(ledger)
    error = refused(Code.text_too_long, call, *build(limit + 1))
    assert f"最多 {limit}" in error.message and error.field == field, error.message
    assert counts(ledger) == before
    return call(*build(limit))


def counts(ledger):
    with ledger.database.read() as connection:
        return journal_queries.counts(connection), journal_queries.chain_digest(connection)


def test_reference_data_names_and_codes(city):
    def item(name=1, category=1, unit=1, pack=1, code=None):
        return Item(
            code or f"X{name}{category}{unit}{pack}",
            CJK * name,
            ItemKind.printed,
            CJK * category,
            CJK * unit,
            (Pack("包" * pack, 10),),
        )

    at_limit_and_over(city, city.add_item, lambda n: (item(name=n),), 200, "name")
    at_limit_and_over(city, city.add_item, lambda n: (item(category=n),), 40, "category")
    at_limit_and_over(city, city.add_item, lambda n: (item(unit=n),), 10, "base_unit")
    at_limit_and_over(city, city.add_item, lambda n: (item(pack=n),), 10, "packs.name")
    at_limit_and_over(city, city.add_item, lambda n: (item(code="C" * n),), 40, "code")
    at_limit_and_over(
        city,
        city.add_location,
        lambda n: (Location(f"510121-N{n}", CJK * n, LocationLevel.township, "510121"),),
        200,
        "name",
    )


def test_movement_memos_reasons_and_references(city):
    receipt = at_limit_and_over(
        city,
        city.receive,
        lambda n: (c.Receive("510100", (c.ReceiptLine("NH2014", "B" * n, 10),), memo=CJK * 500),),
        40,
        "lines[0].batch_number",
    )
    assert receipt.memo == CJK * 500
    at_limit_and_over(
        city,
        city.issue,
        lambda n: (c.Issue("510100", "510121", (c.LineSpec("NH2014", 10),), memo=CJK * n),),
        500,
        "memo",
    )
    adjust = at_limit_and_over(
        city,
        city.adjust,
        lambda n: (c.Adjust("510100", (c.AdjustLine("NH2014", "2014-01", 1),), CJK * n),),
        40,
        "reason",
    )
    assert adjust.reason == CJK * 40
    at_limit_and_over(
        city, city.reserve, lambda n: (c.Reserve("R" * n, "510100", "NH2014", 1),), 80, "reference"
    )


def test_requests_scans_and_users(city):
    requests = Requests(city)
    lines = (rq.RequestLineIn("NH2014", 100),)
    draft = at_limit_and_over(
        city,
        requests.create,
        lambda n: (rq.CreateRequest("510121", lines, memo=CJK * n),),
        500,
        "memo",
    )
    requests.submit(draft.number)
    rejected = at_limit_and_over(
        city, requests.reject, lambda n: (draft.number, rq.Reject(CJK * n)), 500, "reason"
    )
    assert rejected.reject_reason == CJK * 500
    scanning = Scanning(city, sc_keys())
    document = at_limit_and_over(
        city,
        scanning.open_document,
        lambda n: (sc.OpenDocument("count", "510100", memo=CJK * n),),
        500,
        "memo",
    )
    assert document.memo == CJK * 500
    error = refused(
        Code.text_too_long,
        add_user,
        city.database,
        CJK * 201,
        "clerk",
        "510121",
    )
    assert "最多 200" in error.message
    user, _ = add_user(city.database, CJK * 200, "clerk", "510121")
    assert user.label == CJK * 200
    error = refused(
        Code.text_too_long,
        Stocktakes(city).open,
        st.OpenStocktake("510121", memo=CJK * 501),
    )
    assert "最多 500" in error.message


def test_a_memo_the_ledger_composes_is_refused_over_the_limit_never_cut(city):
    """A request shipment's memo carries the FEFO override reasons after the clerk's memo."""
    ledger_from_text(
        city,
        "receipt 510100 BYT B-EARLY 300 expires 2026-09-30 on 2026-05-02\n"
        "receipt 510100 BYT B-LATE 300 expires 2028-01-31 on 2026-05-02\n",
    )
    requests = Requests(city)
    ask = rq.CreateRequest("510121", (rq.RequestLineIn("BYT", 30),))
    number = requests.submit(requests.create(ask).number).number
    requests.approve(number, rq.Approve((rq.RequestLineIn("BYT", 30),)))
    late = rq.ShipLine("BYT", 30, batch_number="B-LATE", override_reason=CJK * 200)
    error = refused(
        Code.text_too_long, requests.ship, number, rq.Ship((late,), dt.date(2026, 6, 1), "备" * 300)
    )
    assert "最多 500" in error.message
    too_long = rq.ShipLine("BYT", 30, batch_number="B-LATE", override_reason=CJK * 201)
    error = refused(Code.text_too_long, requests.ship, number, rq.Ship((too_long,)))
    assert "最多 200" in error.message and error.field == "lines[0].override_reason"
    shipment = requests.ship(number, rq.Ship((late,), dt.date(2026, 6, 1), "备" * 200))
    assert shipment.memo.endswith(CJK * 200) and len(shipment.memo) <= 500


def sc_keys():
    from ledger.services import label_keys
    from ledger.settings import Settings

    return label_keys.load(Settings.from_environment())
