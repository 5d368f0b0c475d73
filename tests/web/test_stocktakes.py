"""盘点 pages: a count from opening to approval through the forms, the figures checked against
the use cases (ledger.services.stocktakes, balances) and the ledger after approval."""

from __future__ import annotations

import html
import re
from contextlib import contextmanager

from ledger.services import stocktakes
from ledger.services.balances import BalanceQuery, balances
from tests.web.conftest import sign_in, signed_in_client

NH = ("510121", "NH2014", "2014-01")  # 年画 at 金堂县: 17,000 张 (34 捆 of 500) in the demo
BYT = ("510121", "BYT", "BYT-2503")  # condoms at 金堂县: 1,653 只


@contextmanager
def as_user(database, login: str):
    """A client of its own, signed in as `login`."""
    client = signed_in_client(database, login)
    try:
        yield client
    finally:
        client.__exit__(None, None, None)


def hidden(page: str, form_id: str) -> dict[str, str]:
    """The hidden fields (CSRF token, once key, digest) of the form with this id."""
    found = re.search(rf'<form[^>]*id="{form_id}".*?</form>', page, re.S)
    assert found, f"no form {form_id}"
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', found.group(0))
    return {name: html.unescape(value) for name, value in fields}


def post_form(client, page: str, form_id: str, action: str, **fields):
    data = {**hidden(page, form_id), **fields}
    return client.post(action, data=data, follow_redirects=False)


def text_of(page: str) -> str:
    body = re.sub(r"<[^>]+>", " ", page.split("<main", 1)[-1])
    return re.sub(r"\s+", " ", html.unescape(body))


def on_hand(database, account: tuple[str, str, str]) -> int:
    location, item, batch = account
    found = balances(database, BalanceQuery(location, item_code=item, batch_number=batch))
    return sum(line.on_hand for line in found)


def open_count(client, location: str = "510121", **fields) -> str:
    page = client.get("/stocktakes").text
    data = {"location_code": location, "scope": "self", "cut_off": "2026-06-30", **fields}
    answer = post_form(client, page, "open-stocktake", "/stocktakes", **data)
    assert answer.status_code == 303, text_of(answer.text)
    found = re.fullmatch(r"/stocktakes/(ST-\d{4}-\d+)\?done=opened", answer.headers["location"])
    assert found
    return found.group(1)


def row_of(page: str, account: tuple[str, ...]) -> int:
    """The count table's row of an account (its hidden `k-i`)."""
    key = "|".join(account)
    found = re.search(rf'name="k-(\d+)" value="{re.escape(key)}"', page)
    assert found, f"no row for {key}"
    return int(found.group(1))


def enter(client, number: str, counts: dict[tuple[str, ...], tuple[int | str, str]]):
    page = client.get(f"/stocktakes/{number}").text
    fields = {}
    for account, (quantity, unit) in counts.items():
        row = row_of(page, account)
        fields[f"q-{row}"] = str(quantity)
        fields[f"u-{row}"] = unit
    return post_form(client, page, "count-form", f"/stocktakes/{number}/counts", **fields), page


def recon_row(page: str, account: tuple[str, str, str]) -> str:
    """The reconciliation table's row (its <tr …> tag) of an account, by its recount box."""
    key = "|".join(account)
    found = re.search(
        rf'<tr class="([^"]*)" data-outcome="(\w+)">\s*<td><input type="checkbox" '
        rf'name="line" value="{re.escape(key)}"',
        page,
    )
    assert found, key
    return f"{found.group(1)}:{found.group(2)}"


def check_closed_report(web, database, number: str) -> None:
    """Close the count from its page; the report shown is the reconciliation service's."""
    page = web.get(f"/stocktakes/{number}").text
    answer = post_form(web, page, "close-form", f"/stocktakes/{number}/close")
    assert answer.status_code == 303
    page = web.get(answer.headers["location"]).text
    report = stocktakes.reconciliation(database, number)
    assert report.status == "closed"
    assert f"{report.rate * 100:.1f}%" in text_of(page)
    assert ("达标" if report.passed else "未达标") in text_of(page)
    assert f"{report.matched:,} / {report.judged:,} 相符行 / 参与计算行" in text_of(page)
    for outcome in ("gain", "loss", "not_counted"):
        shown = re.search(rf'id="count-{outcome}">(\d+)<', page).group(1)
        assert int(shown) == sum(line.outcome == outcome for line in report.lines)
    assert "-1 捆（-500 张）" in text_of(page)  # the difference in packs, base units beside


def test_a_count_is_opened_counted_closed_recounted_and_approved(web, web_database):
    assert sign_in(web, "clerk@510121").status_code == 303
    number = open_count(web, memo="季度盘点")
    opened = stocktakes.get(web_database, number)
    assert (opened.status, opened.location_code, opened.memo) == ("counting", "510121", "季度盘点")
    page = web.get(f"/stocktakes/{number}?done=opened").text
    assert "盘点中" in text_of(page) and "已开始盘点" in text_of(page)
    for line in opened.expected:  # the book at the cut-off, every line with a count field
        row_of(page, (line.location_code, line.item_code, line.batch_number))
    assert "34 捆（17,000 张）" in text_of(page)

    # 33 捆 of 年画 (16,500 张: 500 short), the condoms as booked; the rest left uncounted
    answer, _ = enter(web, number, {NH: (33, "捆"), BYT: (1653, "只")})
    assert answer.status_code == 303 and answer.headers["location"].endswith("done=counted")
    counted = {
        (c.item_code, c.batch_number): c.quantity
        for c in stocktakes.get(web_database, number).counted
    }
    assert counted == {("NH2014", "2014-01"): 16_500, ("BYT", "BYT-2503"): 1_653}

    check_closed_report(web, web_database, number)
    web.cookies.clear()

    # the approver sends the 年画 line back; the clerk counts it again: 16,990 张
    assert sign_in(web, "approver@510121").status_code == 303
    page = web.get(f"/stocktakes/{number}").text
    assert recon_row(page, NH) == "bad:loss"
    report = stocktakes.reconciliation(web_database, number)
    uncounted = next(line for line in report.lines if line.outcome == "not_counted")
    assert (
        recon_row(page, (uncounted.location_code, uncounted.item_code, uncounted.batch_number))
        == "warn:not_counted"
    )
    answer = post_form(
        web,
        page,
        "recount-form",
        f"/stocktakes/{number}/recount",
        line="|".join(NH),
        reason="年画少一捆，请复核",
    )
    assert answer.status_code == 303
    again = stocktakes.get(web_database, number)
    assert again.status == "counting"
    assert [c.item_code for c in again.counted] == ["BYT"]
    web.cookies.clear()
    assert sign_in(web, "clerk@510121").status_code == 303
    answer, _ = enter(web, number, {NH: (16_990, "张")})
    assert answer.status_code == 303
    web.cookies.clear()

    assert sign_in(web, "approver@510121").status_code == 303
    page = web.get(f"/stocktakes/{number}").text
    assert post_form(web, page, "close-form", f"/stocktakes/{number}/close").status_code == 303
    preview_page = web.get(f"/stocktakes/{number}/approve").text
    preview = stocktakes.preview(web_database, number)
    assert hidden(preview_page, "approve-form")["preview_digest"] == preview.digest
    assert [(a.item_code, a.difference) for a in preview.adjustments] == [("NH2014", -10)]
    assert re.search(r'id="adjustment-count">1<', preview_page)
    before = on_hand(web_database, NH)
    answer = post_form(
        web,
        preview_page,
        "approve-form",
        f"/stocktakes/{number}/approve",
        reason="复盘属实，同意调整",
    )
    assert answer.status_code == 303 and answer.headers["location"].endswith("done=approved")
    approved = stocktakes.get(web_database, number)
    assert approved.status == "approved" and len(approved.adjustments) == 1
    assert on_hand(web_database, NH) == before - 10
    page = web.get(answer.headers["location"]).text
    assert "已审核" in text_of(page) and approved.adjustments[0] in page
    assert f"/api/v1/stocktakes/{number}/report?format=html" in page
    report_page = web.get(f"/api/v1/stocktakes/{number}/report", params={"format": "html"})
    assert report_page.status_code == 200 and number in report_page.text


def test_an_approval_after_a_change_shows_the_preview_again(web_database):
    with (
        as_user(web_database, "clerk@510121") as clerk,
        as_user(web_database, "approver@510121") as approver,
    ):
        number = open_count(clerk, item_codes="NH2014")
        enter(clerk, number, {NH: (16_000, "张")})
        close(clerk, number)
        looked_at = approver.get(f"/stocktakes/{number}/approve").text
        # meanwhile (another tab) the line is sent back, counted again and the count closed
        page = approver.get(f"/stocktakes/{number}").text
        post_form(
            approver,
            page,
            "recount-form",
            f"/stocktakes/{number}/recount",
            line="|".join(NH),
            reason="复核",
        )
        enter(clerk, number, {NH: (16_500, "张")})
        close(clerk, number)
        before = on_hand(web_database, NH)
        answer = post_form(
            approver, looked_at, "approve-form", f"/stocktakes/{number}/approve", reason="同意"
        )
        assert answer.status_code == 409
        assert "与所看预览不一致" in text_of(answer.text)
        assert stocktakes.get(web_database, number).status == "closed"
        assert on_hand(web_database, NH) == before
        fresh = hidden(answer.text, "approve-form")["preview_digest"]
        assert fresh == stocktakes.preview(web_database, number).digest
        assert "-1 捆（-500 张）" in text_of(answer.text)
        assert 'value="同意"' in answer.text  # what the approver typed is kept
        answer = post_form(
            approver, answer.text, "approve-form", f"/stocktakes/{number}/approve", reason="同意"
        )
        assert answer.status_code == 303
        assert on_hand(web_database, NH) == before - 500


def close(client, number: str) -> None:
    page = client.get(f"/stocktakes/{number}").text
    answer = post_form(client, page, "close-form", f"/stocktakes/{number}/close")
    assert answer.status_code == 303, text_of(answer.text)


def test_zero_uncounted_and_a_scan_document_count(web, web_database):
    assert sign_in(web, "clerk@510121").status_code == 303
    number = open_count(web)
    page = web.get(f"/stocktakes/{number}").text
    answer = post_form(
        web, page, "zero-form", f"/stocktakes/{number}/zero-uncounted", zero_location="510121"
    )
    assert answer.status_code == 303
    counted = stocktakes.get(web_database, number).counted
    expected = stocktakes.get(web_database, number).expected
    assert len(counted) == len(expected) > 0
    assert {(c.quantity, c.source) for c in counted} == {(0, "declared_zero")}
    page = web.get(f"/stocktakes/{number}").text
    assert "/scan?purpose=count" in page and 'id="import-form"' in page
