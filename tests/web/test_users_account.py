"""我的账号 (/account): every signed-in user sees its own roles and place and changes its
password with its current one; a wrong current password is refused beside its field (and
counts towards the lock); the change ends the user's other sessions, keeps this browser signed
in, and the new password signs in."""

from __future__ import annotations

import pytest

from ledger.limits import sign_in_attempts_max
from tests.web.conftest import csrf_of
from tests.web.users_helpers import browser, error_beside, hidden, oplog_text, signs_in


def change(client, **fields):
    form = hidden(client, "/account", "account-password-form", **fields)
    return client.post("/account/password", data=form, follow_redirects=False)


def test_every_user_sees_its_own_roles_place_and_login(web_database):
    with browser(web_database, "requester@510121-zj") as client:
        page = client.get("/account")
        assert page.status_code == 200
        for shown in ("赵家镇计生办", "申领人", "赵家镇（510121-ZJ）", "requester@510121-zj"):
            assert shown in page.text
        assert 'autocomplete="current-password"' in page.text


def test_the_password_changes_and_other_sessions_end(web_database):
    with (
        browser(web_database, "clerk@510121") as other,
        browser(web_database, "clerk@510121") as client,
    ):
        answer = change(
            client,
            current_password="demo-password",
            password="my-own-pass-1",
            confirm="my-own-pass-1",
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/account?done=password"
        page = client.get(answer.headers["location"])
        assert "密码已修改" in page.text and "工作台登录" not in page.text  # still signed in
        assert "工作台登录" in other.get("/").text  # the other browser is signed out
    assert signs_in(web_database, "clerk@510121", "demo-password") == 401
    assert signs_in(web_database, "clerk@510121", "my-own-pass-1") == 303
    assert "my-own-pass-1" not in oplog_text(web_database)
    assert "本人修改" in oplog_text(web_database)


@pytest.mark.parametrize(
    ("fields", "field", "message", "status"),
    [
        ({"current_password": "not-my-pass"}, "current_password", "当前密码不对", 403),
        ({"confirm": "typed-otherwise"}, "confirm", "两次输入的新密码不一样", 422),
        ({"password": "short", "confirm": "short"}, "password", "至少 8 个字符", 422),
    ],
)
def test_a_refused_change_says_why_beside_the_field(web_database, fields, field, message, status):
    values = {
        "current_password": "demo-password",
        "password": "my-own-pass-1",
        "confirm": "my-own-pass-1",
        **fields,
    }
    with browser(web_database, "clerk@510121") as client:
        answer = change(client, **values)
        assert answer.status_code == status
        assert message in error_beside(answer.text, field)
        assert 'value="my-own-pass-1"' not in answer.text and "not-my-pass" not in answer.text
    assert signs_in(web_database, "clerk@510121", "demo-password") == 303


def test_wrong_current_passwords_lock_the_name_like_failed_sign_ins(web_database):
    with browser(web_database, "clerk@510121") as client:
        for _ in range(sign_in_attempts_max - 1):
            answer = change(
                client,
                current_password="guess-guess",
                password="new-pass-11",
                confirm="new-pass-11",
            )
            assert answer.status_code == 403
        locked = change(
            client, current_password="guess-guess", password="new-pass-11", confirm="new-pass-11"
        )
        assert locked.status_code == 429 and "已锁定到" in locked.text
    assert signs_in(web_database, "clerk@510121", "demo-password") == 429


def test_the_change_needs_the_csrf_token(web_database):
    with browser(web_database, "clerk@510121") as client:
        form = {
            "current_password": "demo-password",
            "password": "x-pass-123",
            "confirm": "x-pass-123",
        }
        assert client.post("/account/password", data=form).status_code == 403
        assert csrf_of(client.get("/account").text)
    assert signs_in(web_database, "clerk@510121", "demo-password") == 303


def test_the_api_changes_its_own_password_through_the_session(web_database):
    with browser(web_database, "approver@510121") as client:
        token = csrf_of(client.get("/account").text)
        body = {"current_password": "demo-password", "password": "api-pass-123"}
        wrong = client.post(
            "/api/v1/me/password",
            json={**body, "current_password": "nope-nope"},
            headers={"X-CSRF-Token": token},
        )
        assert wrong.status_code == 403 and wrong.json()["code"] == "password_wrong"
        assert wrong.json()["field"] == "current_password"
        done = client.post("/api/v1/me/password", json=body, headers={"X-CSRF-Token": token})
        assert done.status_code == 204
    assert signs_in(web_database, "approver@510121", "api-pass-123") == 303
