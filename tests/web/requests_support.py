"""Helpers of the 申领 and 分配方案 page tests: signed-in clients, a form's hidden fields, the
error shown beside a field."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager

from litestar.testing import TestClient

from tests.web.conftest import csrf_of, signed_in_client

ONCE = re.compile(r'name="once" value="([0-9a-f]+)"')


@contextmanager
def signed_in(database, login: str) -> Iterator[TestClient]:
    """A client signed in as `login`, closed afterwards."""
    client = signed_in_client(database, login)
    try:
        yield client
    finally:
        client.__exit__(None, None, None)


def form_html(page: str, form_id: str) -> str:
    """The HTML of the form with this id."""
    found = re.search(rf'<form[^>]*id="{re.escape(form_id)}".*?</form>', page, re.S)
    assert found, f"no form {form_id!r} on the page"
    return found.group(0)


def once_of(page: str, form_id: str) -> str:
    found = ONCE.search(form_html(page, form_id))
    assert found, f"form {form_id!r} carries no once key"
    return found.group(1)


def base(page: str, form_id: str) -> dict:
    """What every POST of this form carries: the CSRF token and the once key."""
    return {"_csrf": csrf_of(page), "once": once_of(page, form_id)}


def error_beside(page: str, field: str) -> str:
    """The error shown beside a field (its span id is e-<field> with [ ] . turned to - )."""
    key = field.replace("[", "-").replace("]", "").replace(".", "-")
    found = re.search(rf'id="e-{re.escape(key)}"[^>]*>([^<]*)<', page)
    return html.unescape(found.group(1)).strip() if found else ""


def alert_of(page: str) -> str:
    found = re.search(r'class="alert bad" role="alert">([^<]*)<', page)
    return html.unescape(found.group(1)).strip() if found else ""
