"""What the user pages' tests share: a second signed-in browser, users by login name, the
forms' hidden fields, the operations log as text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from litestar.testing import TestClient
from sqlalchemy import select

from api.app import create_app
from ledger.db import tables as t
from ledger.services.demo import DEMO_PASSWORD
from ledger.services.users import User, list_users
from tests.conftest import TODAY
from tests.web.conftest import csrf_of, sign_in

ROW = re.compile(r'<a href="/users/(\d+)">')
ONCE = re.compile(r'name="once" value="([0-9a-f]+)"')


@contextmanager
def browser(database, login: str, password: str = DEMO_PASSWORD) -> Iterator[TestClient]:
    """Another browser, signed in as `login`, closed afterwards."""
    with TestClient(app=create_app(database, clock=lambda: TODAY)) as client:
        answer = sign_in(client, login, password)
        assert answer.status_code == 303, answer.text
        yield client


def listed_ids(html: str) -> list[int]:
    return [int(found) for found in ROW.findall(html)]


def by_login(database, login: str) -> User:
    (user,) = [user for user in list_users(database) if user.login == login]
    return user


def oplog_text(database) -> str:
    """Every entry's before and after, as text (to look for what must not be there)."""
    with database.read() as connection:
        rows = connection.execute(select(t.operations_log.c.before, t.operations_log.c.after))
        return " ".join(str(row) for row in rows)


def hidden(client: TestClient, path: str, form_id: str | None = None, **fields) -> dict:
    """The hidden fields (_csrf, once) of the form on `path` (the one with `form_id`), with
    `fields`."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    text = page.text
    if form_id is not None:
        start = text.index(f'id="{form_id}"')
        text = text[start : text.index("</form>", start)]
    return {"_csrf": csrf_of(page.text), "once": ONCE.search(text).group(1), **fields}


def shown(html: str, what: str) -> str:
    """A secret shown once on the page (what: password or token)."""
    found = re.search(rf'id="shown-{what}">([^<]+)<', html)
    assert found, f"no {what} shown"
    return found.group(1)


def error_beside(html: str, field: str) -> str:
    found = re.search(rf'id="e-{field}" role="alert">([^<]+)<', html)
    assert found, f"no error beside {field}"
    return found.group(1)


def signs_in(app_database, login: str, password: str) -> int:
    """The status a fresh browser's sign-in gets (303: signed in)."""
    with TestClient(app=create_app(app_database, clock=lambda: TODAY)) as client:
        return sign_in(client, login, password).status_code
