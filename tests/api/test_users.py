"""Users over HTTP, on SQLite and PostgreSQL: an admin adds, lists, changes, re-keys and
revokes its city's users; a user holding several roles does what each allows; a token reset or
a revocation takes effect at once; a city keeps an admin; another city's users are out of
reach.

The world is tests/api/test_roots.py's two cities (成都市 from the API template, 渝中样例市
beside it) and a global admin, one per engine for the module: every test makes the users it
changes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from ledger.rules import Code, LedgerError
from ledger.services.web_sign_in import sign_in
from tests.api.conftest import headers
from tests.api.test_roots import ENGINES, GLOBAL, World, sqlite_world_file, world_on

__all__ = ["sqlite_world_file"]  # the fixture, used here too

V1 = "/api/v1"
serial = itertools.count(1)


@pytest.fixture(scope="module", params=ENGINES)
def world(request, sqlite_world_file, tmp_path_factory) -> Iterator[World]:
    with world_on(request.param, sqlite_world_file, tmp_path_factory.mktemp("users")) as found:
        yield found


def bearer(token: str, key: str | None = None) -> dict[str, str]:
    found = {"Authorization": f"Bearer {token}"}
    if key:
        found["Idempotency-Key"] = key
    return found


def add(world: World, who: str, roles: list[str], location: str | None, **extra) -> dict:
    """A new user made over the API by `who`; its answer (user and token)."""
    body = {"label": f"测试用户{next(serial)}", "roles": roles, "location_code": location, **extra}
    made = world.client.post(f"{V1}/users", json=body, headers=headers(who))
    assert made.status_code == 201, made.text
    return made.json()


def test_a_new_user_holds_its_roles_and_its_token_works_at_once(world):
    made = add(world, "admin", ["clerk", "approver"], "510121")
    user, token = made["user"], made["token"]
    assert user["roles"] == ["clerk", "approver"] and user["role"] == "clerk"
    assert (user["location_code"], user["location_name"]) == ("510121", "金堂县")
    assert user["active"] and not user["global_admin"]
    me = world.client.get(f"{V1}/me", headers=bearer(token)).json()
    assert (me["id"], me["roles"], me["global_admin"]) == (user["id"], ["clerk", "approver"], False)
    found = world.client.get(f"{V1}/users/{user['id']}", headers=headers("admin")).json()
    assert found == user
    # only a hash is kept: reading the user again never shows a token
    assert "token" not in found


def test_a_county_clerk_who_also_approves_approves_and_ships_and_a_plain_clerk_cannot(world):
    both = add(world, "admin", ["clerk", "approver"], "510121")["token"]
    number = world.numbers.submitted["in"]
    body = {"lines": [{"item_code": "NH2014", "quantity": 500}]}
    plain = world.client.post(
        f"{V1}/requests/{number}/approve", json=body, headers=headers("clerk")
    )
    assert plain.status_code == 403 and plain.json()["code"] == "forbidden"
    approved = world.client.post(f"{V1}/requests/{number}/approve", json=body, headers=bearer(both))
    assert approved.status_code in (200, 201), approved.text
    assert approved.json()["status"] == "approved"
    shipped = world.client.post(
        f"{V1}/requests/{number}/shipments",
        json={"lines": [{"item_code": "NH2014", "quantity": 500}]},
        headers=bearer(both),
    )
    assert shipped.status_code == 201, shipped.text
    issue = world.client.post(
        f"{V1}/transactions/issues",
        json={
            "source_code": "510121",
            "destination_code": "510121-ZJ-PS",
            "lines": [{"item_code": "NH2014", "quantity": 1}],
        },
        headers=bearer(both),
    )
    assert issue.status_code == 201, issue.text
    # an approver alone still does not ship
    approver = world.client.post(
        f"{V1}/transactions/issues",
        json={
            "source_code": "510121",
            "destination_code": "510121-ZJ-PS",
            "lines": [{"item_code": "NH2014", "quantity": 1}],
        },
        headers=headers("approver"),
    )
    assert approver.status_code == 403


def test_a_role_given_or_taken_applies_to_the_next_request(world):
    made = add(world, "admin", ["clerk"], "510121")
    user, token = made["user"], made["token"]
    before = world.client.get(f"{V1}/me", headers=bearer(token)).json()  # now remembered
    assert before["roles"] == ["clerk"]
    changed = world.client.patch(
        f"{V1}/users/{user['id']}", json={"roles": ["clerk", "auditor"]}, headers=headers("admin")
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["roles"] == ["clerk", "auditor"]
    assert world.client.get(f"{V1}/me", headers=bearer(token)).json()["roles"] == [
        "clerk",
        "auditor",
    ]
    moved = world.client.patch(
        f"{V1}/users/{user['id']}",
        json={"location_code": "510181", "label": "都江堰市保管员"},
        headers=headers("admin"),
    ).json()
    assert (moved["location_code"], moved["label"]) == ("510181", "都江堰市保管员")
    assert world.client.get(f"{V1}/me", headers=bearer(token)).json()["location_code"] == "510181"
    # a change that changes nothing answers the user as it is
    same = world.client.patch(
        f"{V1}/users/{user['id']}", json={"roles": ["clerk", "auditor"]}, headers=headers("admin")
    )
    assert same.status_code == 200 and same.json() == moved
    # refused: a role not allowed at the level, an unknown field, an unknown role
    for body, code in (
        ({"location_code": "510121-ZJ-PS", "roles": ["approver"]}, "role_not_allowed_at_level"),
        ({"roles": ["boss"]}, "unknown_role"),
        ({"roles": []}, "invalid_field"),
        ({"role": "clerk"}, "invalid_request"),
    ):
        refused = world.client.patch(
            f"{V1}/users/{user['id']}", json=body, headers=headers("admin")
        )
        assert refused.status_code in (400, 422) and refused.json()["code"] == code, refused.text


def test_a_reset_token_stops_the_old_one_at_once_and_the_new_one_works(world):
    made = add(world, "admin", ["requester"], "510121-ZJ")
    user, old = made["user"], made["token"]
    assert world.client.get(f"{V1}/me", headers=bearer(old)).status_code == 200  # remembered
    reset = world.client.post(f"{V1}/users/{user['id']}/token", headers=headers("admin"))
    assert reset.status_code == 200, reset.text
    new = reset.json()["token"]
    assert new.startswith("lgr_") and new != old and reset.json()["user"] == user
    refused = world.client.get(f"{V1}/me", headers=bearer(old))
    assert refused.status_code == 401 and refused.json()["code"] == "unauthenticated"
    assert world.client.get(f"{V1}/me", headers=bearer(new)).json()["id"] == user["id"]


def test_a_revoked_user_is_refused_at_once_and_changes_no_more(world):
    made = add(world, "admin", ["auditor"], "510121")
    user, token = made["user"], made["token"]
    assert world.client.get(f"{V1}/me", headers=bearer(token)).status_code == 200  # remembered
    revoked = world.client.post(f"{V1}/users/{user['id']}/revoke", headers=headers("admin"))
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert world.client.get(f"{V1}/me", headers=bearer(token)).status_code == 401
    for method, path, body in (
        ("POST", f"/users/{user['id']}/revoke", None),
        ("POST", f"/users/{user['id']}/token", None),
        ("PATCH", f"/users/{user['id']}", {"label": "复用"}),
    ):
        again = world.client.request(method, f"{V1}{path}", json=body, headers=headers("admin"))
        assert again.status_code == 409 and again.json()["code"] == "user_revoked", again.text
    listed = world.client.get(
        f"{V1}/users", params={"active": False, "limit": 200}, headers=headers("admin")
    ).json()
    assert user["id"] in {row["id"] for row in listed["items"]}
    assert all(not row["active"] for row in listed["items"])
    unknown = world.client.get(f"{V1}/users/987654", headers=headers("admin"))
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_user"


def test_a_replayed_create_adds_nobody_and_does_not_show_the_token_again(world):
    body = {"label": f"测试用户{next(serial)}", "roles": ["clerk"], "location_code": "510121"}
    first = world.client.post(f"{V1}/users", json=body, headers=headers("admin", "add-once"))
    again = world.client.post(f"{V1}/users", json=body, headers=headers("admin", "add-once"))
    assert first.status_code == again.status_code == 201
    assert again.json() == {"user": first.json()["user"], "token": None}
    listed = world.client.get(
        f"{V1}/users", params={"location": "510121", "limit": 200}, headers=headers("admin")
    ).json()
    assert [row["label"] for row in listed["items"]].count(body["label"]) == 1
    token = first.json()["token"]
    assert world.client.get(f"{V1}/me", headers=bearer(token)).status_code == 200
    # the same for a reset: the retry does not make (or show) another token
    user_id = first.json()["user"]["id"]
    reset = world.client.post(f"{V1}/users/{user_id}/token", headers=headers("admin", "re-key"))
    replay = world.client.post(f"{V1}/users/{user_id}/token", headers=headers("admin", "re-key"))
    assert replay.json() == {"user": reset.json()["user"], "token": None}
    assert world.client.get(f"{V1}/me", headers=bearer(reset.json()["token"])).status_code == 200


def test_the_list_holds_the_callers_city_and_filters(world):
    def ids(who: str, **params) -> set[int]:
        page = world.client.get(
            f"{V1}/users", params={"limit": 200, **params}, headers=headers(who)
        ).json()
        assert page["next_offset"] is None
        return {row["id"] for row in page["items"]}

    chengdu = add(world, "admin", ["approver", "clerk"], "510181")["user"]
    yuzhong = add(world, "admin-yz", ["clerk"], "500101")["user"]
    assert chengdu["id"] in ids("admin") and yuzhong["id"] not in ids("admin")
    assert yuzhong["id"] in ids("admin-yz") and chengdu["id"] not in ids("admin-yz")
    everybody = ids(GLOBAL)
    assert {chengdu["id"], yuzhong["id"]} <= everybody
    assert world.numbers.user_id["global"] in everybody  # global admins: a global admin's list
    assert world.numbers.user_id["global"] not in ids("admin")
    assert chengdu["id"] in ids("admin", role="approver", location="510181")
    assert chengdu["id"] not in ids("admin", role="approver", location="510121")
    assert chengdu["id"] in ids("admin", under="510100", active=True)
    assert ids("admin", role="approver") >= {chengdu["id"], world.numbers.user_id["approver"]}
    assert world.numbers.user_id["clerk"] not in ids("admin", role="approver")
    bad = world.client.get(f"{V1}/users", params={"role": "boss"}, headers=headers("admin"))
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_role"


def test_a_citys_admin_manages_only_its_city_and_makes_no_global_admin(world):
    theirs = add(world, "admin-yz", ["clerk"], "500101")["user"]
    ours = add(world, "admin", ["clerk"], "510121")["user"]
    for method, path, body in (
        ("GET", f"/users/{theirs['id']}", None),
        ("PATCH", f"/users/{theirs['id']}", {"label": "改名"}),
        ("POST", f"/users/{theirs['id']}/token", None),
        ("POST", f"/users/{theirs['id']}/revoke", None),
        ("PATCH", f"/users/{ours['id']}", {"location_code": "500101"}),  # into another city
        ("POST", "/users", {"label": "x", "roles": ["clerk"], "location_code": "500101"}),
        ("GET", f"/users/{world.numbers.user_id['global']}", None),
        ("POST", f"/users/{world.numbers.user_id['global']}/revoke", None),
        ("GET", "/users", None),  # 渝中样例市's list is fine, naming 成都市 is not:
    ):
        if method == "GET" and path == "/users":
            response = world.client.get(
                f"{V1}/users", params={"under": "510121"}, headers=headers("admin-yz")
            )
        else:
            response = world.client.request(
                method, f"{V1}{path}", json=body, headers=headers("admin")
            )
        assert response.status_code == 403, (path, response.text)
        assert response.json()["code"] == "forbidden"
        text = response.text
        assert "渝中" not in text and "500101" not in text.replace(path, "") and "样例" not in text
    assert world.client.get(f"{V1}/users/{ours['id']}", headers=headers("admin")).json() == ours
    refused = world.client.post(
        f"{V1}/users",
        json={"label": "省级二", "roles": ["admin"], "global_admin": True},
        headers=headers("admin"),
    )
    assert refused.status_code == 403
    made = add(world, GLOBAL, ["admin"], None, global_admin=True)["user"]
    assert made["global_admin"] and made["location_code"] is None
    # the global admin manages both cities' users
    for user in (theirs, ours):
        reset = world.client.post(f"{V1}/users/{user['id']}/token", headers=headers(GLOBAL))
        assert reset.status_code == 200, reset.text
    # others than admins manage nobody
    for who in ("clerk", "approver", "auditor-root", "requester"):
        assert world.client.get(f"{V1}/users", headers=headers(who)).status_code == 403


def test_a_city_keeps_its_last_admin(world):
    code = f"59{next(serial):04d}"
    city = f"样板市{code}"
    made = world.client.post(
        f"{V1}/locations",
        json={"code": code, "name": city, "level": "city", "parent_code": None},
        headers=headers(GLOBAL),
    )
    assert made.status_code == 201, made.text
    first = add(world, GLOBAL, ["admin"], code)
    user, token = first["user"], first["token"]

    def own(method: str, path: str, body=None, who: str = token):
        return world.client.request(method, f"{V1}{path}", json=body, headers=bearer(who))

    for method, path, body in (
        ("POST", f"/users/{user['id']}/revoke", None),
        ("PATCH", f"/users/{user['id']}", {"roles": ["clerk"]}),
    ):
        refused = own(method, path, body)
        assert refused.status_code == 409 and refused.json()["code"] == "last_admin", refused.text
        assert city in refused.json()["detail"]
    second = own(
        "POST", "/users", {"label": "副管理员", "roles": ["admin", "clerk"], "location_code": code}
    )
    assert second.status_code == 201, second.text
    assert own("PATCH", f"/users/{user['id']}", {"roles": ["clerk"]}).status_code == 200
    # no longer an admin: it manages nobody now, and the second is the last
    assert own("GET", "/users").status_code == 403
    other = bearer(second.json()["token"])
    last = world.client.post(f"{V1}/users/{second.json()['user']['id']}/revoke", headers=other)
    assert last.status_code == 409 and last.json()["code"] == "last_admin"
    gone = world.client.post(f"{V1}/users/{user['id']}/revoke", headers=other)
    assert gone.status_code == 200


def test_user_changes_are_in_the_operations_log_and_the_ledger_verifies(world):
    made = add(world, "admin", ["clerk"], "510121")["user"]
    path = f"{V1}/users/{made['id']}"
    world.client.patch(path, json={"roles": ["clerk", "approver"]}, headers=headers("admin"))
    world.client.post(f"{path}/token", headers=headers("admin"))
    world.client.post(f"{path}/revoke", headers=headers("admin"))
    entries = world.client.get(
        f"{V1}/audit/log",
        params={"object_type": "user", "object_key": str(made["id"])},
        headers=headers("admin"),
    ).json()["items"]
    assert [entry["action"] for entry in entries] == [
        "user.revoke",
        "user.reset_token",
        "user.change",
        "user.add",
    ]
    change = entries[2]
    assert change["actor"] == "测试 admin" and change["root_code"] == "510100"
    assert change["before"]["role"] == "clerk" and "roles" not in change["before"]
    assert change["after"]["roles"] == ["approver", "clerk"] and change["after"]["version"] == 2
    for who in ("auditor-root", GLOBAL):
        report = world.client.get(f"{V1}/audit/verification", headers=headers(who)).json()
        assert report["ok"], report["findings"]


def test_a_user_at_a_virtual_place_is_refused_as_such(world):
    """A virtual place (期初, 在途 …) belongs to no city: a city's admin asking for a user there,
    or moving one there, is told the place must be physical (422), not that it is outside its
    city."""
    for place in ("opening", "in-transit"):
        made = world.client.post(
            f"{V1}/users",
            json={"label": "虚拟库点用户", "roles": ["clerk"], "location_code": place},
            headers=headers("admin"),
        )
        assert made.status_code == 422, made.text
        assert made.json()["code"] == "location_must_be_physical"
    user = add(world, "admin", ["clerk"], "510121")["user"]
    moved = world.client.patch(
        f"{V1}/users/{user['id']}", json={"location_code": "opening"}, headers=headers("admin")
    )
    assert moved.status_code == 422, moved.text
    assert moved.json()["code"] == "location_must_be_physical"


# ---- login names and passwords for the web workspace ---------------------------------------------


def signs_in(world: World, login: str, password: str) -> bool:
    try:
        sign_in(world.database, login, password, "test")
    except LedgerError as error:
        assert error.code in (Code.sign_in_failed, Code.sign_in_locked)
        return False
    return True


def log_text(world: World) -> str:
    entries = world.client.get(
        f"{V1}/audit/log", params={"limit": 200}, headers=headers(GLOBAL)
    ).json()["items"]
    return str(entries)


def test_a_user_made_with_a_login_and_password_signs_in_and_the_password_is_never_shown(world):
    login = f"clerk{next(serial)}@510121"
    made = add(world, "admin", ["clerk"], "510121", login=login.upper(), password="first-pass-1")
    assert made["user"]["login"] == login and "password" not in str(made)
    assert "first-pass-1" not in str(made) and "argon2" not in str(made)
    assert signs_in(world, login, "first-pass-1")
    one = world.client.get(f"{V1}/users/{made['user']['id']}", headers=headers("admin")).json()
    assert one["login"] == login
    assert "first-pass-1" not in log_text(world)


@pytest.mark.parametrize(
    ("extra", "code", "status"),
    [
        ({"login": "admin@510121-taken"}, "login_taken", 409),
        ({"login": "张三@510121"}, "invalid_field", 422),
        ({"login": "new@510121", "password": "short"}, "password_too_short", 422),
        ({"password": "long-enough-1"}, "invalid_field", 422),  # a password needs a login
    ],
)
def test_a_refused_login_or_password_adds_nobody(world, extra, code, status):
    if extra.get("login") == "admin@510121-taken":
        add(world, "admin", ["clerk"], "510121", login="admin@510121-taken")
    label = f"不该有的用户{next(serial)}"
    body = {"label": label, "roles": ["clerk"], "location_code": "510121", **extra}
    made = world.client.post(f"{V1}/users", json=body, headers=headers("admin"))
    assert made.status_code == status and made.json()["code"] == code, made.text
    listed = world.client.get(f"{V1}/users", params={"limit": 200}, headers=headers("admin"))
    assert label not in listed.text


def test_an_admin_sets_a_login_and_a_password_and_the_old_one_stops(world):
    user = add(world, "admin", ["clerk"], "510121")["user"]
    assert user["login"] is None
    login = f"set{next(serial)}@510121"
    path = f"{V1}/users/{user['id']}/sign-in"
    named = world.client.put(path, json={"login": login}, headers=headers("admin"))
    assert named.status_code == 200 and named.json()["login"] == login
    first = world.client.put(path, json={"password": "pass-one-111"}, headers=headers("admin"))
    assert first.status_code == 200 and "pass-one-111" not in first.text
    assert signs_in(world, login, "pass-one-111")
    world.client.put(path, json={"password": "pass-two-222"}, headers=headers("admin"))
    assert not signs_in(world, login, "pass-one-111") and signs_in(world, login, "pass-two-222")
    empty = world.client.put(path, json={}, headers=headers("admin"))
    assert empty.status_code == 422 and empty.json()["code"] == "invalid_field"
    short = world.client.put(path, json={"password": "x"}, headers=headers("admin"))
    assert short.status_code == 422 and short.json()["code"] == "password_too_short"
    log = log_text(world)
    assert "pass-one-111" not in log and "pass-two-222" not in log and "重置" in log


def test_another_citys_admin_sets_no_login_or_password(world):
    user = add(world, "admin", ["clerk"], "510121")["user"]
    path = f"{V1}/users/{user['id']}/sign-in"
    for body in ({"login": f"steal{next(serial)}@x"}, {"password": "stolen-pass-1"}):
        refused = world.client.put(path, json=body, headers=headers("admin-yz"))
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
        assert "金堂县" not in refused.text
    clerk = world.client.put(path, json={"login": "x@y"}, headers=headers("clerk"))
    assert clerk.status_code == 403
    found = world.client.get(f"{V1}/users/{user['id']}", headers=headers("admin")).json()
    assert found["login"] is None


def test_a_user_changes_its_own_password_with_its_current_one(world):
    login = f"self{next(serial)}@510121"
    made = add(world, "admin", ["clerk"], "510121", login=login, password="current-pass-1")
    me = bearer(made["token"])
    path = f"{V1}/me/password"
    wrong = world.client.post(
        path, json={"current_password": "not-it-at-all", "password": "next-pass-22"}, headers=me
    )
    assert wrong.status_code == 403 and wrong.json()["code"] == "password_wrong"
    assert "not-it-at-all" not in wrong.text
    short = world.client.post(
        path, json={"current_password": "current-pass-1", "password": "short"}, headers=me
    )
    assert short.status_code == 422 and short.json()["code"] == "password_too_short"
    done = world.client.post(
        path, json={"current_password": "current-pass-1", "password": "next-pass-22"}, headers=me
    )
    assert done.status_code == 204, done.text
    assert signs_in(world, login, "next-pass-22") and not signs_in(world, login, "current-pass-1")
    assert "next-pass-22" not in log_text(world)


def test_a_user_without_a_password_sets_its_first_with_its_token(world):
    login = f"first{next(serial)}@510121"
    made = add(world, "admin", ["clerk"], "510121", login=login)
    path, me = f"{V1}/me/password", bearer(made["token"])
    guessed = world.client.post(
        path, json={"current_password": "anything-1", "password": "next-pass-22"}, headers=me
    )
    assert guessed.status_code == 403 and guessed.json()["code"] == "password_wrong"
    assert "还没有登录密码" in guessed.json()["detail"]
    assert world.client.post(path, json={"password": "next-pass-22"}, headers=me).status_code == 204
    assert signs_in(world, login, "next-pass-22")
    again = world.client.post(path, json={"password": "third-pass-33"}, headers=me)
    assert again.status_code == 403 and again.json()["code"] == "password_wrong"
