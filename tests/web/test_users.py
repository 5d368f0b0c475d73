"""用户 pages, the list and adding a user: an admin sees the users of its reach (filtered by
place, role and state, as the services find them), adds one with roles, place, login name and
a first password (or a generated one shown once) that signs in; errors beside their field in
Chinese; a form sent twice adds one user; nobody but an admin gets in; a form without its CSRF
token is refused."""

from __future__ import annotations

import pytest

from ledger.services.lookups import UserFilter
from ledger.services.users import authenticate, find_users, list_users, revoke_user
from tests.web.conftest import csrf_of, sign_in
from tests.web.users_helpers import (
    browser,
    by_login,
    error_beside,
    hidden,
    listed_ids,
    oplog_text,
    shown,
)


def new_form(client, **fields) -> dict:
    return hidden(client, "/users/new", **fields)


@pytest.fixture
def admin(web_database):
    with browser(web_database, "admin@510100") as client:
        yield client


def test_the_list_shows_the_users_the_services_find_with_their_chinese_roles(admin, web_database):
    page = admin.get("/users")
    assert page.status_code == 200
    expected = find_users(web_database, UserFilter(scope="/510100/", active=True), 100)
    assert listed_ids(page.text) == [user.id for user in expected] and len(expected) == 6
    assert "clerk@510121" in page.text and "保管员" in page.text and "申领人" in page.text
    assert 'id="new-user"' in page.text


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("role=clerk", UserFilter(scope="/510100/", role="clerk", active=True)),
        ("location=510121", UserFilter(scope="/510100/", under="/510100/510121/", active=True)),
        ("location=510121-ZJ&role=requester&active=", None),
    ],
)
def test_the_filters_select_what_the_services_select(admin, web_database, query, where):
    page = admin.get(f"/users?{query}")
    assert page.status_code == 200
    if where is None:
        assert [by_login(web_database, "requester@510121-zj").id] == listed_ids(page.text)
        return
    expected = [user.id for user in find_users(web_database, where, 100)]
    assert listed_ids(page.text) == expected and 0 < len(expected) < 6


def test_revoked_users_are_listed_under_their_state(admin, web_database):
    gone = by_login(web_database, "approver@510121")
    revoke_user(web_database, gone.id)
    assert gone.id not in listed_ids(admin.get("/users").text)
    revoked = admin.get("/users?active=0").text
    assert listed_ids(revoked) == [gone.id] and "已吊销" in revoked
    assert gone.id in listed_ids(admin.get("/users?active=").text)


def test_the_add_form_offers_chinese_role_names_and_the_admins_places(admin):
    page = admin.get("/users/new").text
    for name in ("管理员", "保管员", "申领人", "审批人", "审计"):
        assert name in page
    assert 'value="510121-ZJ"' in page and "赵家镇" in page
    assert 'name="global_admin"' not in page  # a city's admin adds no global admin
    assert 'for="f-login"' in page and 'for="f-password"' in page


def test_an_added_user_signs_in_with_its_password_and_its_token_works(admin, web, web_database):
    form = new_form(
        admin,
        label="淮口镇计生办",
        roles=["requester", "clerk"],
        location_code="510121-HK",
        login="Requester@510121-HK",
        password="first-password-1",
    )
    answer = admin.post("/users/new", data=form)
    assert answer.status_code == 200, answer.text
    user = by_login(web_database, "requester@510121-hk")
    assert (user.label, user.role, user.roles, user.location_code) == (
        "淮口镇计生办",
        "requester",
        {"requester", "clerk"},
        "510121-HK",
    )
    token = shown(answer.text, "token")
    assert authenticate(web_database, token).id == user.id
    assert "first-password-1" not in answer.text and 'id="shown-password"' not in answer.text
    assert sign_in(web, "requester@510121-hk", "first-password-1").status_code == 303
    assert "淮口镇计生办" in web.get("/account").text
    assert "first-password-1" not in oplog_text(web_database)


def test_a_generated_password_is_shown_once_and_signs_in(admin, web, web_database):
    form = new_form(
        admin, label="金堂县审计", roles=["auditor"], location_code="510121", login="audit@510121"
    )
    answer = admin.post("/users/new", data=form)
    password = shown(answer.text, "password")
    assert len(password) >= 12 and "只显示这一次" in answer.text
    assert sign_in(web, "audit@510121", password).status_code == 303
    assert password not in oplog_text(web_database)
    again = admin.post("/users/new", data=form, follow_redirects=False)  # a reload
    assert again.status_code == 303 and again.headers["location"].endswith("?done=again")
    assert password not in admin.get(again.headers["location"]).text
    assert len([u for u in list_users(web_database) if u.login == "audit@510121"]) == 1


def test_a_user_without_a_login_gets_a_token_only(admin, web_database):
    before = len(list_users(web_database))
    form = new_form(admin, label="接口用户", roles=["auditor"], location_code="510100")
    answer = admin.post("/users/new", data=form)
    assert answer.status_code == 200 and 'id="shown-token"' in answer.text
    assert 'id="shown-password"' not in answer.text
    (user,) = list_users(web_database)[before:]
    assert user.login is None


@pytest.mark.parametrize(
    ("fields", "field", "message", "status"),
    [
        ({"login": "clerk@510121"}, "login", "已有人用", 409),
        ({"login": "张三"}, "login", "登录名只能用", 422),
        ({"password": "short"}, "password", "至少 8 个字符", 422),
        ({"roles": []}, "roles", "至少要有一个角色", 422),
        ({"roles": ["approver"], "location_code": "510121-ZJ-PS"}, "roles", "不能设在", 422),
        ({"location_code": ""}, "location_code", "请选择库点", 422),
        ({"label": ""}, "label", "不能为空", 422),
        ({"login": "", "password": "long-enough-1"}, "login", "还要设登录名", 422),
    ],
)
def test_a_refused_user_is_not_added_and_the_error_is_beside_its_field(
    admin, web_database, fields, field, message, status
):
    before = len(list_users(web_database))
    values = {
        "label": "新用户",
        "roles": ["clerk"],
        "location_code": "510121",
        "login": "new@510121",
        "password": "long-enough-1",
        **fields,
    }
    answer = admin.post("/users/new", data=new_form(admin, **values))
    assert answer.status_code == status
    error = error_beside(answer.text, field)
    assert message in error and not error.endswith(")")  # without the API's English gloss
    assert len(list_users(web_database)) == before
    assert 'value="long-enough-1"' not in answer.text  # a password is not sent back


def test_only_admins_reach_the_user_pages(web, web_database):
    clerk = by_login(web_database, "clerk@510121")
    with browser(web_database, "clerk@510121") as client:
        home = client.get("/").text
        assert 'href="/users"' not in home
        for path in ("/users", "/users/new", f"/users/{clerk.id}", f"/users/{clerk.id}/revoke"):
            page = client.get(path)
            assert page.status_code == 403 and "无权操作" in page.text, path
        refused = client.post(
            "/users/new",
            data={
                "_csrf": csrf_of(home),
                "label": "x",
                "roles": "admin",
                "location_code": "510121",
            },
        )
        assert refused.status_code == 403
    assert len(list_users(web_database)) == 6


def test_a_form_without_the_csrf_token_is_refused(admin, web_database):
    form = new_form(admin, label="新用户", roles=["clerk"], location_code="510121")
    del form["_csrf"]
    assert admin.post("/users/new", data=form).status_code == 403
    form["_csrf"] = "forged"
    assert admin.post("/users/new", data=form).status_code == 403
    assert len(list_users(web_database)) == 6
