"""凭证 pages: the search (number, kind, location, dates, pages) over the vouchers in reach only,
one voucher's page (its lines, kind in Chinese, who and when, reversal links, 打印 and 红冲 for
whom it is), the print form opened with the session, and refusals as the API's."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from api.web.names import KIND_NAMES
from ledger.model import TransactionKind
from ledger.services import lookups
from ledger.services.lookups import TransactionFilter
from tests.web.conftest import signed_in_client
from tests.web.test_stock import rows_of


@pytest.fixture(scope="module")
def clients(shared_web):
    _, database = shared_web
    opened = {
        login: signed_in_client(database, login)
        for login in (
            "clerk@510121",
            "approver@510121",
            "requester@510121-zj",
            "admin@510100",
            "auditor@510100",
        )
    }
    yield opened
    for client in opened.values():
        client.__exit__(None, None, None)


def _listed(html: str) -> list[dict[str, str]]:
    return [row for row in rows_of(html, "vouchers") if "data-number" in row]


def _in_reach(database, under: str, **filters) -> list[str]:
    """The numbers the API's rule of reach gives, newest first (by date, then chain)."""
    found = lookups.transactions(database, TransactionFilter(under, **filters), 100_000, 0)
    ordered = sorted(found, key=lambda t: (t.occurred_on, t.sequence), reverse=True)
    return [t.number for t in ordered]


def _all_pages(client, query: str) -> list[str]:
    numbers: list[str] = []
    for page_number in range(1, 50):
        page = client.get(f"/vouchers?{query}&page={page_number}")
        assert page.status_code == 200
        found = [row["data-number"] for row in _listed(page.text)]
        numbers += found
        if 'rel="next"' not in page.text:
            return numbers
        assert len(found) == 50
    raise AssertionError("too many pages")


def test_a_township_lists_the_vouchers_in_its_reach_newest_first(shared_web, clients):
    _, database = shared_web
    numbers = _all_pages(clients["requester@510121-zj"], "")
    assert numbers == _in_reach(database, "/510100/510121/510121-ZJ/")
    assert numbers and "CK-2026-000082" not in numbers  # 淮口镇's shipment


def test_the_city_pages_through_everything(shared_web, clients):
    _, database = shared_web
    numbers = _all_pages(clients["admin@510100"], "")
    assert len(numbers) > 50 and numbers == _in_reach(database, "/510100/")


def test_the_search_filters(shared_web, clients):
    _, database = shared_web
    client = clients["clerk@510121"]
    under = "/510100/510121/"
    reversals = _listed(client.get("/vouchers?kind=reversal").text)
    assert [row["data-number"] for row in reversals] == _in_reach(
        database, under, kind=TransactionKind.reversal
    )
    assert reversals and {row["data-kind"] for row in reversals} == {"reversal"}
    assert "红冲" in client.get("/vouchers?kind=reversal").text
    dated = _listed(client.get("/vouchers?from=2026-04-01&to=2026-04-30").text)
    assert [row["data-number"] for row in dated] == _in_reach(
        database, under, date_from=dt.date(2026, 4, 1), date_to=dt.date(2026, 4, 30)
    )
    at = _listed(client.get("/vouchers?location=510121-HK").text)
    assert [row["data-number"] for row in at] == _in_reach(
        database, under, location_code="510121-HK"
    )
    part = [
        row["data-number"] for row in _listed(client.get("/vouchers?number=ck-2026-00008").text)
    ]
    assert part == [n for n in _in_reach(database, under) if "CK-2026-00008" in n] and part


def test_search_errors_are_said_beside_their_fields(clients):
    client = clients["requester@510121-zj"]
    outside = client.get("/vouchers?location=510121-HK")
    assert outside.status_code == 400 and 'id="e-location"' in outside.text
    assert "不在您的管辖范围内" in outside.text and 'value="510121-HK"' in outside.text
    unknown = client.get("/vouchers?location=NOWHERE")
    assert unknown.status_code == 400 and 'id="e-location"' in unknown.text
    late = client.get("/vouchers?from=2026-06-01&to=2026-05-01")
    assert late.status_code == 400 and 'id="e-from"' in late.text
    assert client.get("/vouchers?kind=gift").status_code == 400


def _facts(html: str) -> dict[str, str]:
    import re

    return {
        key: re.sub(r"<[^>]+>|\s+", " ", value).strip()
        for key, value in re.findall(r'<dd data-field="(\w+)">(.*?)</dd>', html, re.S)
    }


def test_a_voucher_shows_its_lines_and_who_made_it(shared_web, clients):
    _, database = shared_web
    shipment = lookups.transaction(database, "CK-2026-000081")
    page = clients["clerk@510121"].get("/vouchers/CK-2026-000081")
    assert page.status_code == 200
    assert "出库" in page.text and KIND_NAMES["issue"] == "出库"
    facts = _facts(page.text)
    assert facts["occurred_on"] == str(shipment.occurred_on)
    assert facts["maker"] == shipment.maker == "金堂县仓库保管员"
    assert facts["recorded_at"][:4] == "2026"
    assert "赵家镇" in facts["counterparty"] and "QS-2026-000077" in facts["confirmation"]
    lines = [row for row in rows_of(page.text, "voucher-lines") if "data-quantity" in row]
    expected = sorted(
        (p.item_code, p.batch_number, "510121", p.location_code, p.quantity)
        for p in shipment.postings
        if p.quantity > 0
    )
    shown = sorted(
        (r["data-item"], r["data-batch"], r["data-from"], r["data-to"], int(r["data-quantity"]))
        for r in lines
    )
    assert shown == expected and shown
    assert "（" in page.text  # packs with base units beside
    # confirmed: it cannot be reversed before its confirmation is
    assert 'id="voucher-reverse"' not in page.text


def test_a_reversal_and_its_original_link_each_other(clients):
    client = clients["requester@510121-zj"]
    reversal = client.get("/vouchers/HC-2026-000001")
    assert reversal.status_code == 200 and "红冲单" in reversal.text
    assert 'id="voucher-original"' in reversal.text and "/vouchers/FF-2026-000016" in reversal.text
    original = client.get("/vouchers/FF-2026-000016")
    assert 'id="voucher-reversed-by"' in original.text
    assert "/vouchers/HC-2026-000001" in original.text and "已红冲" in original.text


def test_the_reversal_button_is_for_the_clerk_there_and_what_may_be_reversed(clients):
    button = 'id="voucher-reverse" href="/movements/reversal?number=QS-2026-000049"'
    assert button in clients["clerk@510121"].get("/vouchers/QS-2026-000049").text
    for login in ("approver@510121", "auditor@510100"):
        page = clients[login].get("/vouchers/QS-2026-000049")
        assert page.status_code == 200 and 'id="voucher-reverse"' not in page.text
    # a reversal is never reversed, nor a reversed voucher again
    zj = clients["requester@510121-zj"]
    assert 'id="voucher-reverse"' not in zj.get("/vouchers/HC-2026-000001").text


def test_a_voucher_outside_reach_is_refused_as_by_the_api(clients):
    client = clients["requester@510121-zj"]
    page = client.get("/vouchers/CK-2026-000082")  # 金堂县 to 淮口镇
    assert page.status_code == 403 and "不在您的管辖范围内" in page.text
    assert client.get("/api/v1/transactions/CK-2026-000082").status_code == 403
    missing = client.get("/vouchers/RK-2099-999999")
    assert missing.status_code == 404 and "RK-2099-999999" in missing.text
    assert client.get("/api/v1/transactions/CK-2026-000082/voucher").status_code == 403


def test_the_print_link_opens_with_the_session(clients):
    client = clients["clerk@510121"]
    page = client.get("/vouchers/CK-2026-000081")
    assert 'href="/api/v1/transactions/CK-2026-000081/voucher"' in page.text
    printed = client.get("/api/v1/transactions/CK-2026-000081/voucher")
    assert printed.status_code == 200
    assert printed.headers["content-type"].startswith("text/html")
    assert "CK-2026-000081" in printed.text and "制单人" in printed.text


def test_the_pages_need_a_session(shared_web):
    client, _ = shared_web
    for path in ("/vouchers", "/vouchers/CK-2026-000081"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/?next=")
    assert client.get("/api/v1/transactions/CK-2026-000081/voucher").status_code == 401


def _receipts_at(database, code: str) -> list:
    found = lookups.transactions(
        database, TransactionFilter(None, location_code=code, kind=TransactionKind.receipt), 100, 0
    )
    return [t for t in found if t.location_code == code]


def test_a_receipt_links_its_label_sheets_for_the_clerk_there(clients, shared_web):
    _, database = shared_web
    receipt = _receipts_at(database, "510100")[0]
    admin = clients["admin@510100"].get(f"/vouchers/{receipt.number}")
    links = re.findall(r'href="(/api/v1/batches/[^"]+/labels\?location=510100)"', admin.text)
    assert links and "打印标签" in admin.text
    sheet = clients["admin@510100"].get(links[0].replace("&amp;", "&"))
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")
    # an auditor may read the voucher but prints no labels; a clerk elsewhere sees none either
    for login in ("auditor@510100", "clerk@510121"):
        page = clients[login].get(f"/vouchers/{receipt.number}")
        assert "打印标签" not in page.text
