"""The web workspace (工作台): server-rendered pages in Chinese for every role, with htmx for
partial updates, calling the same use cases as the API (ledger.services) under the same rules
of reach (api.policy). Every script and style is served by the app (/static); nothing is
fetched from the internet.

Pages take a signed-in session only (a bearer token is for API clients); a visitor who is not
signed in is sent to the sign-in page at `/` and back to the page afterwards. Forms post
`application/x-www-form-urlencoded` with the session's CSRF token (`_csrf`); htmx requests send
it as `X-CSRF-Token` (api/auth.py checks both).
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.connection import ASGIConnection
from litestar.datastructures import ResponseHeader
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from api.scan_page import scan_manifest, scan_page, scan_worker
from api.web import (
    audit,
    confirm,
    home,
    movements,
    norms,
    plans,
    print_plan_allocation,
    print_plans,
    reports,
    requests,
    stock,
    stocktakes,
    users,
    vouchers,
)
from api.web.names import NAMES, name_of
from api.web.signin import do_sign_in, do_sign_out, root
from api.web.units import number, quantity_text
from ledger.services.web_sign_in import Session

TEMPLATES = Path(__file__).parent / "templates"


def session_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Pages are for a signed-in browser; a bearer token does not open them."""
    if not isinstance(connection.scope.get("auth"), Session):
        raise NotAuthorizedException("sign in")


def _register(engine: JinjaTemplateEngine) -> None:
    """What every template may use: Chinese names of codes and quantities in packs."""
    engine.engine.globals.update(names=NAMES, name_of=name_of)
    engine.engine.filters.update(qty=quantity_text, n=number)


def template_config() -> TemplateConfig:
    return TemplateConfig(
        directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=_register
    )


# Pages load only what the app serves: no script, style, font or image from anywhere else, no
# inline script (htmx's hx-on is not used), no framing by another site.
SECURITY_HEADERS = [
    ResponseHeader(
        name="Content-Security-Policy",
        value="default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
    ResponseHeader(name="Referrer-Policy", value="same-origin"),
    ResponseHeader(name="Cache-Control", value="no-store"),
]


def web_routers() -> list:
    """The workspace's handlers: `/` and signing in and out are reached by anybody; every
    other page is behind `session_only`."""
    pages: list = [do_sign_out, scan_page]
    for area in (home, stock, vouchers, requests, plans, movements, stocktakes, reports, audit):
        pages.extend(area.HANDLERS)
    pages.extend(users.HANDLERS)
    pages.extend(confirm.HANDLERS)  # 签收 of a shipment (the tuple above is a full line)
    pages.extend(norms.HANDLERS)  # 库存定额
    pages.extend(print_plans.HANDLERS)  # 印制计划
    pages.extend(print_plan_allocation.HANDLERS)  # 按印制计划分配
    return [
        Router(
            "/",
            route_handlers=[root, do_sign_in, scan_worker, scan_manifest],
            opt={"web": True},
            include_in_schema=False,  # pages, not the API
            response_headers=SECURITY_HEADERS,
        ),
        Router(
            "/",
            route_handlers=pages,
            guards=[session_only],
            opt={"web": True},
            include_in_schema=False,
            response_headers=SECURITY_HEADERS,
        ),
    ]
