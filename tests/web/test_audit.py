"""审计 pages: the verification runs (by htmx, or as a page) and shows the demo clean and a
tampered copy's findings, checkpoints are proved, a month is closed through the form with its
confirmation (once, and refused a second time), the operations log lists sign-ins, and only
the auditors at the top of a city (and admins) reach what the API gives them."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import text

from ledger.db.guards import drop_guards
from ledger.history import format_checkpoint
from ledger.services import lookups
from ledger.services.audit import period_closes, verify_ledger
from ledger.services.audit_log import LogFilter, read_log
from ledger.services.demo import DEMO_PASSWORD
from ledger.services.users import add_user
from ledger.services.web_sign_in import set_sign_in
from tests.web.conftest import csrf_of, sign_in
from tests.web.reports_support import field_error, signed_in, table, text_of

CITY = "510100"


def _verify(client, **params):
    return client.get("/audit/verification", params=params, headers={"HX-Request": "true"})


def test_the_audit_page_shows_the_chain_head_and_starts_a_verification_with_htmx(shared_web):
    _, database = shared_web
    with signed_in(database, "auditor@510100") as client:
        page = client.get("/audit")
        assert page.status_code == 200
        head = format_checkpoint(*lookups.chain_head(database))
        assert text_of(page.text, "head-checkpoint") == head
        form = page.text.split('id="verify-form"')[1].split(">")[0]
        assert 'hx-get="/audit/verification"' in form and 'hx-indicator="#verifying"' in form
        assert re.search(r'id="verifying" class="htmx-indicator[^"]*"[^>]*>正在核验…<', page.text)
        css = client.get("/static/web/app.css").text
        assert ".htmx-indicator { display: none; }" in css
        assert ".htmx-request .htmx-indicator" in css
        assert "style=" not in page.text and "<script>" not in page.text


def test_the_verification_of_the_demo_is_clean(shared_web):
    _, database = shared_web
    with signed_in(database, "auditor@510100") as client:
        fragment = _verify(client)
        assert fragment.status_code == 200
        assert "<html" not in fragment.text and 'id="verify-card"' in fragment.text
        report = verify_ledger(database, root_code=CITY)
        assert report.ok
        assert "账实核验通过" in text_of(fragment.text, "verify-ok")
        assert f"{report.transactions_checked:,} 笔单据" in fragment.text
        assert text_of(fragment.text, "verified-checkpoint") == report.checkpoint
        page = client.get("/audit/verification")  # without scripts: a whole page
        assert page.status_code == 200 and "<html" in page.text and "账实核验通过" in page.text


def test_a_tampered_copy_shows_its_findings_in_chinese(web, web_database):
    with web_database.engine.begin() as connection:
        drop_guards(connection)
        connection.execute(
            text(
                "UPDATE postings SET quantity = quantity + 5 WHERE id = (SELECT max(id) FROM postings)"
            )
        )
    assert sign_in(web, "auditor@510100").status_code == 303
    fragment = _verify(web)
    assert fragment.status_code == 200
    report = verify_ledger(web_database, root_code=CITY)
    assert not report.ok
    assert f"核验发现 {len(report.findings)} 个问题" in text_of(fragment.text, "verify-bad")
    rows = table(fragment.text, "findings")["tbody"]
    assert len(rows) == len(report.findings)
    codes = {finding.code for finding in report.findings}
    assert "hash_mismatch" in codes
    assert any(row[0].startswith("单据内容与其哈希不符") for row in rows)
    assert {finding.subject for finding in report.findings} == {row[1] for row in rows}
    assert "账实核验通过" not in fragment.text


def test_a_checkpoint_written_down_is_proved_or_shown_broken(shared_web):
    _, database = shared_web
    head = format_checkpoint(*lookups.chain_head(database))
    with signed_in(database, "auditor@510100") as client:
        held = _verify(client, checkpoints=head)
        assert held.status_code == 200 and "账实核验通过" in held.text
        assert re.search(rf"<code>{head}</code>\s*<span class=\"badge ok\">仍然成立", held.text)
        wrong = _verify(client, checkpoints=f"{head}\n1:0000000000000000")
        assert "不成立" in wrong.text and "checkpoint_mismatch" in wrong.text
        assert "核验点所指单据的哈希不同" in wrong.text
        malformed = _verify(client, checkpoints="12:xyz")
        assert malformed.status_code == 400
        assert "格式不对" in unescape(field_error(malformed.text, "checkpoints"))
        assert "12:xyz" in malformed.text  # what was typed stays in the field


def _confirm(client, month: str):
    page = client.get("/audit/closes/confirm", params={"month": month})
    assert page.status_code == 200, page.text
    once = re.search(r'name="once" value="([^"]+)"', page.text).group(1)
    return {"_csrf": csrf_of(page.text), "month": month, "once": once}


def test_a_month_is_closed_through_the_form_once_and_refused_a_second_time(web, web_database):
    assert sign_in(web, "auditor@510100").status_code == 303
    page = web.get("/audit/closes")
    assert page.status_code == 200 and 'value="2026-05"' in page.text and "还没有月结" in page.text
    confirm = web.get("/audit/closes/confirm", params={"month": "2026-05"})
    assert "月结成都市至 2026-05-31" in confirm.text and "确认月结" in confirm.text
    assert period_closes(web_database, CITY) == []  # the confirmation step changes nothing
    form = _confirm(web, "2026-05")
    done = web.post("/audit/closes", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/audit/closes?closed=2026-05-31"
    again = web.post("/audit/closes", data=form, follow_redirects=False)  # a double click
    assert again.status_code == 303
    closes = period_closes(web_database, CITY)
    assert [str(close.period_end) for close in closes] == ["2026-05-31"]
    shown = web.get(done.headers["location"])
    assert closes[0].checkpoint in text_of(shown.text, "close-done")
    assert table(shown.text, "closes")["tbody"][0][:3] == [
        "2026-05-31",
        closes[0].checkpoint,
        f"{closes[0].accounts:,}",
    ]
    refused = web.post("/audit/closes", data=_confirm(web, "2026-05"), follow_redirects=False)
    assert refused.status_code in (409, 422)
    assert "已月结至 2026-05-31" in unescape(field_error(refused.text, "month"))
    assert len(period_closes(web_database, CITY)) == 1


@pytest.mark.parametrize(
    ("month", "message"),
    [("2026-06", "尚未过去"), ("2026-13", "月份应为 年-月"), ("May", "月份应为")],
)
def test_a_month_that_cannot_be_closed_is_named_beside_the_field(web, web_database, month, message):
    assert sign_in(web, "auditor@510100").status_code == 303
    page = web.get("/audit/closes")
    answer = web.post(
        "/audit/closes",
        data={"_csrf": csrf_of(page.text), "month": month, "once": "k-" + month},
        follow_redirects=False,
    )
    assert answer.status_code == 422
    assert message in unescape(field_error(answer.text, "month"))
    assert period_closes(web_database, CITY) == []


def test_a_close_without_the_csrf_token_is_refused(web, web_database):
    assert sign_in(web, "auditor@510100").status_code == 303
    answer = web.post("/audit/closes", data={"month": "2026-05"}, follow_redirects=False)
    assert answer.status_code == 403
    assert period_closes(web_database, CITY) == []


def test_the_log_lists_sign_ins_in_chinese(web, web_database):
    assert sign_in(web, "auditor@510100", "wrong-password").status_code == 401
    assert sign_in(web, "auditor@510100").status_code == 303
    page = web.get("/audit/log", params={"action": "sign_in"})
    assert page.status_code == 200
    rows = table(page.text, "log")["tbody"]
    entries = read_log(web_database, CITY, LogFilter(action="sign_in"), limit=51)
    assert len(rows) == len(entries) >= 2
    assert rows[0][1] == "市级审计" and rows[0][2].startswith("登录 sign_in")
    assert any(row[2].startswith("登录失败 sign_in.failed") for row in rows)
    assert all(row[2].startswith("登录") for row in rows)


def test_the_log_pages_and_filters(shared_web):
    _, database = shared_web
    with signed_in(database, "admin@510100") as client:
        first = client.get("/audit/log")
        assert first.status_code == 200
        entries = read_log(database, CITY, LogFilter(), limit=101)
        assert len(entries) > 50
        assert len(table(first.text, "log")["tbody"]) == 50 and 'rel="next"' in first.text
        second = client.get("/audit/log?page=2")
        rows = table(second.text, "log")["tbody"]
        assert len(rows) == min(50, len(entries) - 50)
        added = client.get("/audit/log", params={"action": "user.add", "user_id": ""})
        assert {row[2] for row in table(added.text, "log")["tbody"]} == {"新增用户 user.add"}
        wrong = client.get("/audit/log", params={"since": "2026-02-30"})
        assert wrong.status_code == 422
        assert "日期应为" in field_error(wrong.text, "since")
        future = client.get("/audit/log", params={"since": "2099-01-01"})
        assert 'id="log-empty"' in future.text


def test_only_auditors_at_the_top_and_admins_reach_the_audit(shared_web):
    _, database = shared_web
    with signed_in(database, "admin@510100") as client:
        assert client.get("/audit").status_code == 200
        assert "账实核验通过" in _verify(client).text
    with signed_in(database, "clerk@510121") as client:
        for path in ("/audit", "/audit/verification", "/audit/closes", "/audit/log"):
            assert client.get(path).status_code == 403, path
        assert 'href="/audit"' not in client.get("/reports").text
        page = client.get("/reports")
        answer = client.post(
            "/audit/closes", data={"_csrf": csrf_of(page.text), "month": "2026-05"}
        )
        assert answer.status_code == 403
    assert period_closes(database, CITY) == []


def test_a_county_auditor_sees_the_head_but_not_the_citys_audit(web, web_database):
    county, _ = add_user(web_database, "金堂县审计", "auditor", "510121")
    set_sign_in(web_database, county.id, "auditor@510121", DEMO_PASSWORD)
    assert sign_in(web, "auditor@510121").status_code == 303
    page = web.get("/audit")
    assert page.status_code == 200
    assert text_of(page.text, "head-checkpoint") == format_checkpoint(
        *lookups.chain_head(web_database)
    )
    assert "仅限市级审计" in page.text and 'id="verify-form"' not in page.text
    for path in ("/audit/verification", "/audit/closes", "/audit/closes/confirm?month=2026-05"):
        refused = web.get(path)
        assert refused.status_code == 403 and "仅限市级审计" in refused.text, path
    log = web.get("/audit/log")
    assert log.status_code == 403 and "操作日志仅限" in log.text
