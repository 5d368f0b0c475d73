"""首页: the signed-in user's to-do list and key figures."""

from __future__ import annotations

from litestar import Request
from litestar.response import Template

from api.web.render import page

HANDLERS: list = []  # the fragments home.html loads (htmx), if any


def home_page(request: Request) -> Template:
    return page(request, "home.html", "首页")
