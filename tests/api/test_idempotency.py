"""Idempotent POSTs: a retry with the same Idempotency-Key returns the first answer and changes
nothing; the same key with another body is 409 idempotency_key_reused; concurrent duplicates of
one key do the work once."""

from __future__ import annotations

import threading

import pytest
from litestar.testing import TestClient

from api.app import create_app
from tests.api import test_permissions
from tests.api.conftest import headers
from tests.api.test_permissions import CASES, ledger_state, where
from tests.conftest import TODAY

# the permission matrix's fixtures: one app for the module, each write a copy of the template
write_app = test_permissions.write_app
writing_client = test_permissions.writing_client

POSTS = sorted(route for route in CASES if route[0] == "POST")


def allowed_role(route) -> str:
    """A non-admin role allowed inside, if any — the test then runs as an ordinary user; the
    route's own actor when no role of the table may make it (a global admin)."""
    inside = CASES[route].inside
    fallback = CASES[route].actor or "admin"
    return next((role for role in ("clerk", "requester", "approver") if role in inside), fallback)


def replayed(answer):
    """What a retry is answered: the first answer, less the token it showed once (a new user's
    or a reset one: only its hash is stored, api/user_routes.py)."""
    if isinstance(answer, dict) and answer.get("token") is not None:
        return {**answer, "token": None}
    return answer


def another_post(route, role: str, numbers):
    """A different request (another route) the same role may make: under a reused key it must
    be refused before any work is done."""
    acting = "admin" if role == "global" else role  # a global admin may do what an admin may
    other = next(r for r in POSTS if r != route and acting in CASES[r].inside)
    return CASES[other].build(role, "in", numbers)


@pytest.mark.parametrize("route", POSTS, ids=lambda route: route[1])
def test_a_retry_returns_the_first_answer_and_changes_nothing(
    route, writing_client, api_database, numbers
):
    client = writing_client  # the module's app over this test's copy of the template
    role = allowed_role(route)
    call = CASES[route].build(role, "in", numbers)
    first = client.post(
        call.path, json=call.body, files=call.files, headers=headers(role, "retry-1")
    )
    assert 200 <= first.status_code < 300, first.text
    after_first = ledger_state(api_database)
    again = client.post(
        call.path, json=call.body, files=call.files, headers=headers(role, "retry-1")
    )
    if first.status_code == 204:  # no content (a password changed): the same nothing again
        assert (again.status_code, again.content) == (204, b"")
    else:
        assert (again.status_code, again.json()) == (first.status_code, replayed(first.json()))
    assert ledger_state(api_database) == after_first
    different = another_post(route, role, numbers)
    other = client.post(
        different.path, json=different.body, files=different.files, headers=headers(role, "retry-1")
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert ledger_state(api_database) == after_first


def test_a_refusal_is_replayed_too(client, api_database):
    body = {"location_code": "510121", "lines": [{"item_code": "NH2014", "quantity": 10**8}]}
    first = client.post(
        "/api/v1/transactions/distributions", json=body, headers=headers("clerk", "big-1")
    )
    again = client.post(
        "/api/v1/transactions/distributions", json=body, headers=headers("clerk", "big-1")
    )
    assert first.status_code == again.status_code == 422
    assert first.json() == again.json() and again.headers["content-type"].startswith(
        "application/problem+json"
    )


def test_keys_belong_to_their_user(client):
    body = {"location_code": "510121", "lines": [{"item_code": "NH2014", "quantity": 1}]}
    first = client.post(
        "/api/v1/transactions/distributions", json=body, headers=headers("clerk", "shared")
    )
    other_user = client.post(
        "/api/v1/transactions/distributions", json=body, headers=headers("admin", "shared")
    )
    assert first.status_code == other_user.status_code == 201
    assert first.json()["number"] != other_user.json()["number"]


def test_concurrent_duplicates_of_one_key_post_once(api_database):
    body = {
        "location_code": where("clerk", "in"),
        "lines": [{"item_code": "NH2014", "quantity": 3}],
    }
    before = ledger_state(api_database)
    answers: list = [None] * 6
    barrier = threading.Barrier(len(answers), timeout=30)
    # One app per thread, as with several server workers: they share only the database.
    # (Made here, one after another: building Litestar apps is not thread-safe.)
    apps = [create_app(api_database, clock=lambda: TODAY) for _ in answers]

    def send(index: int) -> None:
        with TestClient(app=apps[index]) as client:
            barrier.wait()
            answers[index] = client.post(
                "/api/v1/transactions/distributions",
                json=body,
                headers=headers("clerk", "same-moment"),
            )

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(answers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert {answer.status_code for answer in answers} == {201}
    assert len({answer.json()["number"] for answer in answers}) == 1
    (transactions, postings), _ = ledger_state(api_database)
    assert (transactions, postings) == (before[0][0] + 1, before[0][1] + 2)
