"""The pages the service serves load nothing from the internet: an office intranet has none.
Every script, style and icon a page names is a path of this app, and the app answers it."""

from __future__ import annotations

import re

import pytest

# src= and href= values, and url(...) in inline styles.
REFERENCES = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""")


def references(html: str) -> list[str]:
    return [a or b for a, b in REFERENCES.findall(html)]


@pytest.mark.parametrize("page", ["/schema", "/schema/swagger", "/scan"])
def test_a_page_names_only_what_the_app_serves(client, page):
    answer = client.get(page)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    named = references(answer.text)
    assert not [url for url in named if re.match(r"(?i)(https?:)?//", url)]
    for url in named:
        if url.startswith(("#", "data:")):
            continue
        fetched = client.get(url)
        assert fetched.status_code == 200, url
        assert len(fetched.content) > 0, url


def test_the_schema_page_loads_the_vendored_swagger_ui(client):
    page = client.get("/schema/swagger").text
    named = references(page)
    assert "/static/swagger-ui/swagger-ui-bundle.js" in named
    assert "/static/swagger-ui/swagger-ui.css" in named
    script = client.get("/static/swagger-ui/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert b"SwaggerUIBundle" in script.content
    assert client.get("/static/swagger-ui/LICENSE").status_code == 200  # shipped with its licence


def test_static_files_need_no_token_and_reveal_nothing_else(client):
    assert client.get("/static/swagger-ui/swagger-ui.css").status_code == 200
    for path in (
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/swagger-ui/../../app.py",
        "/static/",
        "/static/nothing-here.js",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert b"def create_app" not in answer.content
