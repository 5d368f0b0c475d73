"""A user's page: an admin changes roles, place and label (a new version), sets a login name,
sets or generates a password (the old sessions end, the old password no longer signs in),
resets the API token (shown once), revokes after a confirm step; the last admin of a city is
kept with its Chinese message; a city's admin neither sees nor changes another city's users."""

from __future__ import annotations

import pytest

from ledger import commands as c
from ledger.db import versions
from ledger.model import Location, LocationLevel
from ledger.reference import ReferenceKind
from ledger.services.database import Database
from ledger.services.ledger import execute_many
from ledger.services.user_passwords import add_user_with_sign_in
from ledger.services.users import authenticate, get_user
from tests.conftest import TODAY
from tests.web.conftest import sign_in
from tests.web.users_helpers import (
    browser,
    by_login,
    error_beside,
    hidden,
    listed_ids,
    oplog_text,
    shown,
    signs_in,
)


@pytest.fixture
def admin(web_database):
    with browser(web_database, "admin@510100") as client:
        yield client


def post_form(client, user_id: int, action: str, form_id: str, **fields):
    path = f"/users/{user_id}" + (f"/{action}" if action else "")
    form = hidden(client, f"/users/{user_id}", form_id, **fields)
    return client.post(path, data=form, follow_redirects=False)


def test_the_page_shows_the_user_and_its_forms(admin, web_database):
    clerk = by_login(web_database, "clerk@510121")
    page = admin.get(f"/users/{clerk.id}").text
    assert "金堂县仓库保管员" in page and "clerk@510121" in page and "金堂县（510121）" in page
    for form in ("change-form", "login-form", "password-form", "token-form"):
        assert f'id="{form}"' in page
    assert f'href="/users/{clerk.id}/revoke"' in page


def test_roles_place_and_label_change_as_a_new_version(admin, web_database):
    clerk = by_login(web_database, "clerk@510121")
    answer = post_form(
        admin,
        clerk.id,
        "",
        "change-form",
        label="淮口镇保管员兼审批",
        roles=["clerk", "approver"],
        location_code="510121-HK",
    )
    assert answer.status_code == 303 and answer.headers["location"].endswith("?done=changed")
    after = get_user(web_database, clerk.id)
    assert (after.label, after.roles, after.location_code) == (
        "淮口镇保管员兼审批",
        {"clerk", "approver"},
        "510121-HK",
    )
    with web_database.read() as connection:
        found = versions.history(connection, ReferenceKind.user, clerk.id)
    assert [version.version for version in found] == [1, 2]
    assert "新版本" in admin.get(answer.headers["location"]).text


def test_a_refused_change_is_shown_beside_its_field_and_changes_nothing(admin, web_database):
    clerk = by_login(web_database, "clerk@510121")
    answer = post_form(
        admin,
        clerk.id,
        "",
        "change-form",
        label="x",
        roles=["approver"],
        location_code="510121-ZJ-PS",
    )
    assert answer.status_code == 422
    assert "不能设在平水村这一级" in error_beside(answer.text, "roles")
    assert get_user(web_database, clerk.id) == clerk


def test_the_last_admin_keeps_its_role_with_the_chinese_rule(admin, web_database):
    me = by_login(web_database, "admin@510100")
    answer = post_form(
        admin, me.id, "", "change-form", label=me.label, roles=["clerk"], location_code="510100"
    )
    assert answer.status_code == 409
    assert "仅有的管理员" in answer.text and "请先为本市另设一位管理员" in answer.text
    assert get_user(web_database, me.id).has("admin")
    page = admin.get(f"/users/{me.id}/revoke")
    refused = admin.post(
        f"/users/{me.id}/revoke",
        data=hidden(admin, f"/users/{me.id}/revoke"),
        follow_redirects=False,
    )
    assert page.status_code == 200 and refused.status_code == 409
    assert "仅有的管理员" in refused.text and not get_user(web_database, me.id).revoked


def test_a_login_name_is_set_and_a_taken_one_refused(admin, web, web_database):
    clerk = by_login(web_database, "clerk@510121")
    answer = post_form(admin, clerk.id, "login", "login-form", login="Jt-Clerk@510121")
    assert answer.status_code == 303
    assert get_user(web_database, clerk.id).login == "jt-clerk@510121"
    assert sign_in(web, "jt-clerk@510121").status_code == 303
    taken = post_form(admin, clerk.id, "login", "login-form", login="approver@510121")
    assert taken.status_code == 409
    assert "已有人用" in error_beside(taken.text, "login")
    assert get_user(web_database, clerk.id).login == "jt-clerk@510121"


def test_a_new_password_ends_the_old_sessions_and_replaces_the_old_one(admin, web, web_database):
    clerk = by_login(web_database, "clerk@510121")
    with browser(web_database, "clerk@510121") as signed:
        assert "工作台登录" not in signed.get("/").text
        answer = post_form(admin, clerk.id, "password", "password-form", password="reset-pass-77")
        assert answer.status_code == 303 and answer.headers["location"].endswith("?done=password")
        assert "工作台登录" in signed.get("/").text  # its session ended
    assert sign_in(web, "clerk@510121").status_code == 401  # the old password
    assert sign_in(web, "clerk@510121", "reset-pass-77").status_code == 303
    assert "reset-pass-77" not in oplog_text(web_database)


def test_a_generated_password_is_shown_once(admin, web_database):
    clerk = by_login(web_database, "clerk@510121")
    form = hidden(admin, f"/users/{clerk.id}", "password-form", generate="1")
    answer = admin.post(f"/users/{clerk.id}/password", data=form)
    password = shown(answer.text, "password")
    assert signs_in(web_database, "clerk@510121", password) == 303
    again = admin.post(f"/users/{clerk.id}/password", data=form, follow_redirects=False)
    assert again.headers["location"].endswith("?done=again")  # a reload: nothing done again
    assert password not in admin.get(again.headers["location"]).text
    assert signs_in(web_database, "clerk@510121", password) == 303


def test_a_short_password_is_refused_beside_its_field(admin, web, web_database):
    clerk = by_login(web_database, "clerk@510121")
    answer = post_form(admin, clerk.id, "password", "password-form", password="short")
    assert answer.status_code == 422
    assert "至少 8 个字符" in error_beside(answer.text, "password")
    assert sign_in(web, "clerk@510121").status_code == 303


def test_the_token_is_reset_and_shown_once(admin, web_database):
    clerk = by_login(web_database, "clerk@510121")
    answer = post_form(admin, clerk.id, "token", "token-form")
    assert answer.status_code == 200
    token = shown(answer.text, "token")
    assert authenticate(web_database, token).id == clerk.id
    assert authenticate(web_database, "lgr_demo-clerk-510121") is None
    assert token not in oplog_text(web_database)


def test_a_revoked_user_cannot_sign_in_and_is_signed_out(admin, web, web_database):
    clerk = by_login(web_database, "clerk@510121")
    confirm = admin.get(f"/users/{clerk.id}/revoke")
    assert confirm.status_code == 200 and "确定吊销" in confirm.text
    assert get_user(web_database, clerk.id).revoked is False  # the confirm page does nothing
    with browser(web_database, "clerk@510121") as signed:
        form = hidden(admin, f"/users/{clerk.id}/revoke")
        answer = admin.post(f"/users/{clerk.id}/revoke", data=form, follow_redirects=False)
        assert answer.status_code == 303
        assert "工作台登录" in signed.get("/").text
    assert get_user(web_database, clerk.id).revoked
    assert sign_in(web, "clerk@510121").status_code == 401
    page = admin.get(f"/users/{clerk.id}?done=revoked").text
    assert "已吊销" in page and 'id="change-form"' not in page


def test_without_the_csrf_token_nothing_changes(admin, web_database):
    clerk = by_login(web_database, "clerk@510121")
    for action in ("", "/login", "/password", "/token", "/revoke"):
        answer = admin.post(
            f"/users/{clerk.id}{action}",
            data={"label": "x", "login": "x@x", "password": "long-enough-1", "roles": "clerk"},
        )
        assert answer.status_code == 403, action
    assert get_user(web_database, clerk.id) == clerk
    assert authenticate(web_database, "lgr_demo-clerk-510121").id == clerk.id


@pytest.fixture
def other_city(web_database: Database):
    """渝中样例市 beside 成都市, with its admin and a county clerk."""
    places = [
        Location("500103", "渝中样例市", LocationLevel.city),
        Location("500103-YZ", "渝中区", LocationLevel.county, "500103"),
    ]
    execute_many(web_database, [c.AddLocation(place) for place in places], None, TODAY)
    admin = add_user_with_sign_in(
        web_database, "渝中系统管理员", ["admin"], "500103", "admin@500103", "other-city-pass"
    )[0]
    clerk = add_user_with_sign_in(
        web_database, "渝中区仓库保管员", ["clerk"], "500103-YZ", "clerk@500103-yz", None
    )[0]
    return admin, clerk


def test_a_city_admin_neither_sees_nor_changes_another_citys_users(
    admin, web, web_database, other_city
):
    their_admin, their_clerk = other_city
    listed = admin.get("/users?active=").text
    assert their_clerk.id not in listed_ids(listed) and "渝中" not in listed
    assert "渝中" not in admin.get("/users/new").text  # its places are not offered
    ours = by_login(web_database, "clerk@510121")
    for path in (f"/users/{their_clerk.id}", f"/users/{their_clerk.id}/revoke"):
        page = admin.get(path)
        assert page.status_code == 403 and "渝中" not in page.text
    form = hidden(admin, f"/users/{ours.id}", "password-form", password="stolen-pass-1")
    for action in ("/password", "/token", "/revoke"):
        refused = admin.post(f"/users/{their_clerk.id}{action}", data=form)
        assert refused.status_code == 403, action
    moved = post_form(
        admin,
        ours.id,
        "",
        "change-form",
        label=ours.label,
        roles=["clerk"],
        location_code="500103-YZ",
    )
    assert moved.status_code == 403
    assert get_user(web_database, their_clerk.id) == their_clerk
    assert get_user(web_database, ours.id) == ours
    with browser(
        web_database, "admin@500103", "other-city-pass"
    ) as theirs:  # and the other way round
        page = theirs.get("/users?active=").text
        assert listed_ids(page) == [their_admin.id, their_clerk.id]
        assert theirs.get(f"/users/{ours.id}").status_code == 403
