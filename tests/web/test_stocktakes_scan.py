"""/scan on the web session: signed out it sends the browser to sign in; signed in it is a
workspace page without a token form, its script and styles are served by the app, and the API
it calls takes the session (with the CSRF token on a POST). A finished count scan document is
then imported into a stocktake from the stocktake's page."""

from __future__ import annotations

import re

from ledger.services import label_keys, scanning, stocktakes
from ledger.services.scan_models import OpenDocument, Scan
from ledger.settings import Settings
from tests.conftest import TODAY
from tests.web.conftest import csrf_of, sign_in
from tests.web.test_stocktakes import NH, open_count, post_form

REFERENCES = re.compile(r"""(?:src|href)\s*=\s*["']([^"'#]+)["']""")


def test_signed_out_the_scan_page_sends_to_sign_in(web):
    answer = web.get("/scan", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/?next=/scan"
    page = web.get("/scan").text
    assert 'name="password"' in page and 'name="next" value="/scan"' in page


def test_signed_in_the_scan_page_has_no_token_form_and_its_script_is_served(web):
    answer = sign_in(web, "clerk@510121", next_path="/scan")
    assert answer.status_code == 303 and answer.headers["location"] == "/scan"
    page = web.get("/scan")
    assert page.status_code == 200 and "扫码作业" in page.text
    assert 'id="token"' not in page.text and "访问令牌" not in page.text
    assert 'id="payload"' in page.text and "<script>" not in page.text
    assert ' style="' not in page.text  # the CSP allows no inline style
    assert (
        "金堂县仓库保管员（金堂县）" in page.text
        and '<option value="510121" data-name="金堂县" selected>' in page.text
    )
    assert "退出" in page.text  # the workspace's menu and sign-out
    named = REFERENCES.findall(page.text)
    assert "/static/web/scan.js" in named and "/static/web/scan.css" in named
    for url in named:
        if url.startswith("/static/"):
            assert web.get(url).status_code == 200, url
    script = web.get("/static/web/scan.js").text
    assert "Authorization" not in script and "Bearer" not in script  # the session, no token
    # what the page keeps in localStorage is the open document's number, under one name
    assert script.count("localStorage") == 3 and 'var name = "ledger-scan-current:"' in script
    assert 'credentials: "same-origin"' in script and "X-CSRF-Token" in script
    assert "/?next=" in script
    counting = web.get("/scan", params={"purpose": "count"}).text
    assert '<option value="count" selected>' in counting


def test_the_api_takes_the_session_and_its_csrf_token(web):
    assert sign_in(web, "clerk@510121").status_code == 303
    token = csrf_of(web.get("/scan").text)
    body = {"purpose": "count", "location_code": "510121"}
    refused = web.post("/api/v1/scan-documents", json=body)
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    opened = web.post("/api/v1/scan-documents", json=body, headers={"X-CSRF-Token": token})
    assert opened.status_code == 201 and opened.json()["location_code"] == "510121"
    web.cookies.clear()
    assert web.get("/api/v1/scan-documents").status_code == 401


def test_a_finished_count_scan_document_is_imported_into_the_count(web, web_database):
    keys = label_keys.load(Settings.from_environment())
    packs = scanning.packs(web_database, keys, "NH2014", "2014-01", "510121")
    assert len(packs) >= 2
    document = scanning.open_document(web_database, OpenDocument("count", "510121"), None, TODAY)
    for pack in packs[:2]:
        scanning.scan(web_database, keys, Scan(document.id, pack.payload), today=TODAY)
    scanning.post(web_database, document.id, today=TODAY)
    assert sign_in(web, "clerk@510121").status_code == 303
    number = open_count(web, item_codes="NH2014")
    page = web.get(f"/stocktakes/{number}").text
    assert f'<option value="{document.id}"' in page  # offered for import
    answer = post_form(
        web, page, "import-form", f"/stocktakes/{number}/scan-document", document=str(document.id)
    )
    assert answer.status_code == 303 and answer.headers["location"].endswith("done=imported")
    (line,) = stocktakes.get(web_database, number).counted
    assert (line.location_code, line.item_code, line.batch_number) == NH
    assert (line.quantity, line.source) == (
        packs[0].quantity + packs[1].quantity,
        f"scan:{document.id}",
    )
    page = web.get(f"/stocktakes/{number}").text
    assert f'<option value="{document.id}"' not in page  # imported once
    answer = post_form(
        web, page, "import-form", f"/stocktakes/{number}/scan-document", document=str(document.id)
    )
    assert answer.status_code == 409
    assert re.search(r'id="e-document" role="alert">扫描单 \d+ 已导入<', answer.text)
