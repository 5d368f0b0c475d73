"""Signing in to the workspace: the form at `/`, the session cookie, CSRF on every change,
lock after repeated failures (logged), expiry after inactivity, sign-out, and a session
opening the API as a bearer token does."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from ledger.db import tables as t
from ledger.limits import sign_in_attempts_max
from ledger.services.users import revoke_user
from ledger.services.web_sign_in import set_sign_in
from tests.web.conftest import CSRF_FIELD, csrf_of, sign_in


def oplog(database, action: str) -> list:
    with database.read() as connection:
        return list(
            connection.execute(
                select(t.operations_log.c.object_key, t.operations_log.c.after).where(
                    t.operations_log.c.action == action
                )
            )
        )


def test_signed_out_the_root_is_the_sign_in_page(web):
    page = web.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "工作台登录" in page.text and 'name="password"' in page.text
    assert 'autocomplete="current-password"' in page.text
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/sign-in" in cookie


def test_a_demo_user_signs_in_and_sees_its_name_and_place(web):
    answer = sign_in(web, "clerk@510121", next_path="/")
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("ledger_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    home = web.get("/")
    assert "金堂县仓库保管员" in home.text and "保管员" in home.text and "退出" in home.text
    assert "工作台登录" not in home.text


def test_login_names_are_not_case_sensitive(web):
    assert sign_in(web, " Clerk@510121 ").status_code == 303


@pytest.mark.parametrize(
    ("login", "password"),
    [("clerk@510121", "wrong-password"), ("nobody@510121", "demo-password"), ("", "")],
)
def test_a_wrong_name_or_password_gets_one_answer_in_chinese(web, web_database, login, password):
    answer = sign_in(web, login, password)
    assert answer.status_code == 401
    assert "登录名或密码不对" in answer.text
    assert "ledger_session=" not in answer.headers.get("set-cookie", "")
    assert web.get("/").text.count("工作台登录") == 1  # still signed out
    assert [key for key, _ in oplog(web_database, "sign_in.failed")] == [login.strip() or "(空)"]


def test_repeated_failures_lock_the_name_and_the_lock_is_logged(web, web_database):
    for _ in range(sign_in_attempts_max - 1):
        assert sign_in(web, "clerk@510121", "guess-guess").status_code == 401
    locked = sign_in(web, "clerk@510121", "guess-guess")
    assert locked.status_code == 429 and "已锁定到" in locked.text
    # the right password does not open a locked name
    again = sign_in(web, "clerk@510121")
    assert again.status_code == 429 and "ledger_session=" not in again.headers.get("set-cookie", "")
    assert len(oplog(web_database, "sign_in.failed")) == sign_in_attempts_max - 1
    ((key, after),) = oplog(web_database, "sign_in.locked")
    assert key == "clerk@510121" and "locked_until" in str(after)
    # other names are not locked
    assert sign_in(web, "approver@510121").status_code == 303


def test_a_lock_ends_when_an_admin_sets_a_new_password(web, web_database):
    for _ in range(sign_in_attempts_max):
        sign_in(web, "clerk@510121", "guess-guess")
    user_id = _user_id(web_database, "clerk@510121")
    set_sign_in(web_database, user_id, None, "new-password-1")
    assert sign_in(web, "clerk@510121", "new-password-1").status_code == 303


def test_the_lock_expires(web, web_database):
    for _ in range(sign_in_attempts_max):
        sign_in(web, "clerk@510121", "guess-guess")
    with web_database.engine.begin() as connection:
        connection.execute(
            update(t.users)
            .where(t.users.c.login == "clerk@510121")
            .values(locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert sign_in(web, "clerk@510121").status_code == 303


def test_the_form_needs_its_own_csrf_token(web):
    web.get("/")
    answer = web.post(
        "/sign-in",
        data={"_csrf": "forged", "login": "clerk@510121", "password": "demo-password"},
        follow_redirects=False,
    )
    assert answer.status_code == 403 and "登录页已过期" in answer.text
    assert "ledger_session=" not in answer.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_after_signing_in_it_goes_only_to_a_page_of_this_site(web, target):
    answer = sign_in(web, "clerk@510121", next_path=target)
    assert answer.headers["location"] == "/"


def test_a_page_opened_signed_out_comes_back_after_signing_in(web):
    redirected = web.get("/requests?status=submitted", follow_redirects=False)
    assert redirected.status_code == 303
    assert redirected.headers["location"] == "/?next=/requests%3Fstatus%3Dsubmitted"
    page = web.get(redirected.headers["location"])
    assert 'name="next" value="/requests?status=submitted"' in page.text
    answer = sign_in(web, "approver@510121", next_path="/requests?status=submitted")
    assert answer.headers["location"] == "/requests?status=submitted"


def test_the_session_opens_the_api_and_changes_need_the_csrf_token(web):
    sign_in(web, "clerk@510121")
    assert web.get("/api/v1/balances?location_code=510121&limit=1").status_code == 200
    body = {"from_location_code": "510121", "to_location_code": "510121-ZJ", "lines": []}
    refused = web.post("/api/v1/transactions/issues", json=body)
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    token = csrf_of(web.get("/").text)
    passed = web.post("/api/v1/transactions/issues", json=body, headers={"X-CSRF-Token": token})
    assert passed.status_code in (400, 422)  # through the session and CSRF checks to the body's
    assert passed.json()["code"] not in ("csrf_failed", "unauthenticated")


def test_a_bearer_token_does_not_open_a_page(web):
    answer = web.post(
        "/sign-out",
        headers={"Authorization": "Bearer lgr_demo-clerk-510121"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/?next=")


def test_signing_out_ends_the_session(web, web_database):
    sign_in(web, "clerk@510121")
    cookie = web.cookies.get("ledger_session")
    home = web.get("/")
    refused = web.post("/sign-out", data={"_csrf": "forged"}, follow_redirects=False)
    assert refused.status_code == 403  # a forged sign-out is refused too
    out = web.post("/sign-out", data={"_csrf": csrf_of(home.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/"
    web.cookies.set("ledger_session", cookie)  # the old cookie, kept by a thief
    assert "工作台登录" in web.get("/").text
    assert web.get("/api/v1/balances?limit=1").status_code == 401
    assert len(oplog(web_database, "sign_out")) == 1 and len(oplog(web_database, "sign_in")) == 1


def test_a_session_ends_after_the_idle_time(web, web_database):
    sign_in(web, "clerk@510121")
    with web_database.engine.begin() as connection:
        connection.execute(
            update(t.web_sessions).values(
                last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)
            )
        )
    page = web.get("/")
    assert "工作台登录" in page.text and "自动退出" in page.text
    with web_database.read() as connection:
        assert connection.execute(select(t.web_sessions.c.ended_at)).scalar() is not None


def test_a_revoked_user_is_signed_out(web, web_database):
    sign_in(web, "clerk@510121")
    revoke_user(web_database, _user_id(web_database, "clerk@510121"))
    assert "工作台登录" in web.get("/").text
    assert sign_in(web, "clerk@510121").status_code == 401


def test_only_a_hash_of_the_cookie_and_of_the_password_is_stored(web, web_database):
    sign_in(web, "clerk@510121")
    cookie = web.cookies.get("ledger_session")
    with web_database.read() as connection:
        hashes = connection.execute(select(t.web_sessions.c.token_hash)).scalars().all()
        passwords = connection.execute(select(t.users.c.password_hash)).scalars().all()
    assert cookie not in hashes and len(hashes) == 1 and len(hashes[0]) == 64
    assert all(p.startswith("$argon2id$") for p in passwords if p)
    assert not any("demo-password" in p for p in passwords if p)


def test_the_sign_in_form_is_labelled(web):
    page = web.get("/").text
    assert (
        '<label for="login">登录名</label>' in page and '<label for="password">密码</label>' in page
    )
    assert CSRF_FIELD.search(page)


def _user_id(database, login: str) -> int:
    with database.read() as connection:
        return connection.execute(select(t.users.c.id).where(t.users.c.login == login)).scalar_one()
