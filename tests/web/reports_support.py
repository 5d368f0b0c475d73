"""Reading a page's table the way a person reads it: the text of each cell, by section."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser

from litestar.testing import TestClient

from tests.web.conftest import signed_in_client


class _Tables(HTMLParser):
    """Collects the rows of the table with `id` as {thead|tbody|tfoot: [[cell text]]}."""

    def __init__(self, table_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.table_id = table_id
        self.depth = 0  # >0 while inside the wanted table
        self.section = "tbody"
        self.rows: dict[str, list[list[str]]] = {"thead": [], "tbody": [], "tfoot": []}
        self.cell: list[str] | None = None
        self.found = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            if self.depth:
                self.depth += 1
            elif dict(attrs).get("id") == self.table_id:
                self.depth, self.found = 1, True
            return
        if not self.depth:
            return
        if tag in ("thead", "tbody", "tfoot"):
            self.section = tag
        elif tag == "tr":
            self.rows[self.section].append([])
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "br" and self.cell is not None:
            self.cell.append(" ")

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag == "table":
            self.depth -= 1
        elif tag in ("td", "th") and self.cell is not None:
            self.rows[self.section][-1].append(re.sub(r"\s+", " ", "".join(self.cell)).strip())
            self.cell = None

    def handle_data(self, data):
        if self.depth and self.cell is not None:
            self.cell.append(data)


def table(html: str, table_id: str) -> dict[str, list[list[str]]]:
    parser = _Tables(table_id)
    parser.feed(html)
    assert parser.found, f"no table #{table_id} on the page"
    return parser.rows


def text_of(html: str, element_id: str) -> str:
    """The text of the element with this id (tags dropped, spaces collapsed)."""
    found = re.search(rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"[^>]*>(.*?)</\1>', html, re.S)
    assert found, f"no #{element_id} on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(2))).strip()


def field_error(html: str, field: str) -> str:
    """The error shown beside a form field (the macros' `e-<field>`), or ''."""
    found = re.search(rf'id="e-{re.escape(field)}"[^>]*>([^<]*)<', html)
    return found.group(1).strip() if found else ""


@contextmanager
def signed_in(database, login: str) -> Iterator[TestClient]:
    """A client signed in as `login` (conftest's signed_in_client), closed afterwards."""
    client = signed_in_client(database, login)
    try:
        yield client
    finally:
        client.__exit__(None, None, None)
