"""One JSON line per request, with a request id that round-trips through X-Request-ID, a bad
one replaced, errors logged under the same id, and no token, cookie or password in any line."""

from __future__ import annotations

import json
import re

import pytest

from ledger.services.user_passwords import add_user_with_sign_in
from tests.api.conftest import headers, token

MADE_ID = re.compile(r"[0-9a-f]{16}")


def lines(captured: str) -> list[dict]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def request_lines(captured: str) -> list[dict]:
    return [line for line in lines(captured) if line["logger"] == "ledger.requests"]


def test_a_request_id_sent_comes_back_and_is_in_the_requests_log_line(client, capsys):
    capsys.readouterr()
    sent = "3f2b6c1e-9a4d-4e0b-8f7a-2c5d9e1b7a60"
    answer = client.get("/api/v1/items", headers={**headers("clerk"), "X-Request-ID": sent})
    assert answer.status_code == 200
    assert answer.headers["x-request-id"] == sent
    [line] = request_lines(capsys.readouterr().err)
    assert line["request_id"] == sent
    assert line["method"] == "GET" and line["route"] == "/api/v1/items" and line["status"] == 200
    assert line["user_id"] is not None and line["duration_ms"] > 0
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")


def test_without_a_request_id_each_request_gets_a_new_one(client, capsys):
    capsys.readouterr()
    first, second = client.get("/health"), client.get("/health")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(MADE_ID.fullmatch(made) for made in ids) and ids[0] != ids[1]
    assert [line["request_id"] for line in request_lines(capsys.readouterr().err)] == ids


@pytest.mark.parametrize(
    "bad",
    [
        "has spaces",
        "a" * 65,
        "<script>alert(1)</script>",
        '"},{"user_id":1',
        "a;b=c",
        "é".encode("latin-1"),
    ],
)
def test_a_bad_request_id_is_replaced(client, capsys, bad):
    capsys.readouterr()
    answer = client.get("/health", headers={"X-Request-ID": bad})
    made = answer.headers["x-request-id"]
    assert MADE_ID.fullmatch(made)
    [line] = request_lines(capsys.readouterr().err)
    assert line["request_id"] == made and line["user_id"] is None


def test_an_unexpected_error_is_logged_under_the_requests_id(client, capsys, monkeypatch):
    from ledger.services import lookups

    def broken(*_args, **_kwargs):
        raise RuntimeError("the items query broke (test)")

    monkeypatch.setattr(lookups, "items", broken)
    capsys.readouterr()
    answer = client.get("/api/v1/items", headers={**headers("clerk"), "X-Request-ID": "trace-42"})
    assert answer.status_code == 500 and answer.json()["code"] == "internal_error"
    assert answer.headers["x-request-id"] == "trace-42"
    logged = lines(capsys.readouterr().err)
    [error] = [line for line in logged if line["level"] == "ERROR"]
    assert error["logger"] == "ledger.api" and error["request_id"] == "trace-42"
    assert "RuntimeError: the items query broke (test)" in error["error"]
    [request] = [line for line in logged if line["logger"] == "ledger.requests"]
    assert request["request_id"] == "trace-42" and request["status"] == 500


def test_refusals_are_logged_with_their_status_and_no_route_is_named_unmatched(client, capsys):
    capsys.readouterr()
    assert client.get("/api/v1/items").status_code == 401
    assert client.get("/no/such/place/510121").status_code == 404
    logged = request_lines(capsys.readouterr().err)
    assert [(line["route"], line["status"]) for line in logged] == [
        ("/api/v1/items", 401),
        ("unmatched", 404),
    ]


PASSWORD = "correct-horse-battery-staple-7"
CSRF_FIELD = re.compile(r'name="_csrf" value="([^"]+)"')


def test_no_token_cookie_or_password_reaches_the_log(client, api_database, capsys, caplog):
    user, user_token = add_user_with_sign_in(
        api_database, "测试 日志", "clerk", "510121", "logger@510121", PASSWORD
    )
    capsys.readouterr()
    forms: list[str] = []

    def sign_in(password: str):
        forms.append(CSRF_FIELD.search(client.get("/").text).group(1))
        form = {"_csrf": forms[-1], "login": "logger@510121", "password": password, "next": "/"}
        return client.post("/sign-in", data=form, follow_redirects=False)

    assert sign_in(PASSWORD[::-1]).status_code == 401
    signed_in = sign_in(PASSWORD)
    assert signed_in.status_code == 303, signed_in.text
    cookie = client.cookies.get("ledger_session")
    assert cookie
    home = client.get("/")
    session_csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', home.text).group(1)
    assert client.get("/api/v1/items").status_code == 200  # by the session
    bearer = {"Authorization": f"Bearer {user_token}"}
    assert client.get("/api/v1/items", headers=bearer).status_code == 200
    refused = {"Authorization": "Bearer lgr_not-a-real-token-but-secret"}
    assert client.get("/api/v1/items", headers=refused).status_code == 401
    assert client.get("/api/v1/items", headers=headers("admin")).status_code == 200
    captured = capsys.readouterr().err + caplog.text
    logged = request_lines(captured)
    assert len(logged) >= 7
    assert {line["user_id"] for line in logged} >= {user.id, None}
    for secret in (
        PASSWORD,
        PASSWORD[::-1],
        user_token,
        "lgr_not-a-real-token-but-secret",
        token("admin"),
        cookie,
        *forms,
        session_csrf,
    ):
        assert secret not in captured


def test_while_other_requests_are_under_way_lines_are_written_together_and_soon(capsys):
    import asyncio

    from api.request_log import RequestLines

    async def busy_server() -> list[str]:
        lines = RequestLines()
        seen = []
        for number in range(3):
            lines.add(f'{{"n":{number}}}\n', others_under_way=True)
        seen.append(capsys.readouterr().err)  # nothing yet: other requests are under way
        await asyncio.sleep(lines.delay_seconds * 2)
        seen.append(capsys.readouterr().err)  # written together after the delay
        for number in range(lines.lines_max):
            lines.add(f'{{"n":{number}}}\n', others_under_way=True)
        seen.append(capsys.readouterr().err)  # a full batch is written at once
        lines.add('{"n":"last"}\n', others_under_way=False)
        seen.append(capsys.readouterr().err)  # the last request under way: at once
        return seen

    waiting, delayed, full, last = asyncio.run(busy_server())
    assert waiting == ""
    assert delayed == '{"n":0}\n{"n":1}\n{"n":2}\n'
    assert len(full.splitlines()) == RequestLines.lines_max
    assert last == '{"n":"last"}\n'
