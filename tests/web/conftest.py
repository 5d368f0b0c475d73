"""Workspace fixtures: the demo city (its users sign in with `role@code` and `demo-password`),
built once per test process and copied for each test that changes it, and a test client that
signs in through the sign-in form as a browser does."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from litestar.testing import TestClient

from api.app import create_app
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.services.demo import DEMO_PASSWORD, load_demo
from tests import shared_app
from tests.clones import copy_sqlite
from tests.conftest import TODAY

CSRF_FIELD = re.compile(r'name="_csrf" value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page carries (its forms' `_csrf`, or the meta tag htmx reads)."""
    found = CSRF_META.search(html) or CSRF_FIELD.search(html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def sign_in(client: TestClient, login: str, password: str = DEMO_PASSWORD, next_path: str = "/"):
    """Sign in through the form at `/`; the answer to the form's POST (not followed)."""
    page = client.get("/")
    token = CSRF_FIELD.search(page.text)
    assert token, "the sign-in page carries no CSRF token"
    return client.post(
        "/sign-in",
        data={"_csrf": token.group(1), "login": login, "password": password, "next": next_path},
        follow_redirects=False,
    )


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """The demo ledger ending on TODAY, loaded once per process."""
    path = tmp_path_factory.mktemp("web-template") / "demo.db"
    url = copy_sqlite(path)
    database = Database(make_engine(url))
    load_demo(database, TODAY)
    database.dispose()
    return path


@pytest.fixture
def web_database(demo_template, tmp_path) -> Database:
    copy = tmp_path / "web.db"
    shutil.copyfile(demo_template, copy)
    database = Database(make_engine(f"sqlite:///{copy}"))
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def module_web_app():
    yield from shared_app.module_app()


@pytest.fixture
def own_web(web_database):
    """A browser-like client of an app of its own over a copy of the demo (not signed in; the
    app's start-up and shutdown run around the test)."""
    with TestClient(app=create_app(web_database, clock=lambda: TODAY)) as client:
        yield client


@pytest.fixture
def web(request, web_database):
    """A browser-like client over a copy of the demo (not signed in): the module's app, given
    the copy and fresh services and caches (tests/shared_app.py), or `own_web` for a test that
    patches something first."""
    if shared_app.wants_own_app(request):
        yield request.getfixturevalue("own_web")
        return
    yield shared_app.client_over(request.getfixturevalue("module_web_app"), web_database)


@pytest.fixture(scope="module")
def shared_web(demo_template, tmp_path_factory):
    """One app over one copy of the demo for a module's read-only pages."""
    copy = tmp_path_factory.mktemp("shared-web") / "web.db"
    shutil.copyfile(demo_template, copy)
    database = Database(make_engine(f"sqlite:///{copy}"))
    with TestClient(app=create_app(database, clock=lambda: TODAY)) as client:
        yield client, database
    database.dispose()


def signed_in_client(app_database: Database, login: str) -> TestClient:
    """A new client over the database, already entered and signed in as `login`; close it
    with `client.__exit__(None, None, None)` (not `with`: that would enter it again)."""
    client = TestClient(app=create_app(app_database, clock=lambda: TODAY))
    client.__enter__()
    answer = sign_in(client, login)
    assert answer.status_code == 303, answer.text
    return client
