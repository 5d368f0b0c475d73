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
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from api.scan_page import scan_page
from api.web.signin import do_sign_in, do_sign_out, root
from ledger.services.web_sign_in import Session

TEMPLATES = Path(__file__).parent / "templates"


def session_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Pages are for a signed-in browser; a bearer token does not open them."""
    if not isinstance(connection.scope.get("auth"), Session):
        raise NotAuthorizedException("sign in")


def template_config() -> TemplateConfig:
    return TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine)


def web_routers() -> list:
    """The workspace's handlers: `/` and signing in and out are reached by anybody; every
    other page is behind `session_only`."""
    pages: list = [do_sign_out]
    return [
        scan_page,  # still the token form; moves behind the session next
        Router("/", route_handlers=[root, do_sign_in], opt={"web": True}),
        Router("/", route_handlers=pages, guards=[session_only], opt={"web": True}),
    ]
