"""The HTTP service: Litestar, JSON under /api/v1, OpenAPI at /schema, problem-details errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import msgspec
from litestar import Litestar, Router, get
from litestar.datastructures import CacheControlHeader, State
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.response import Response
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from api.auth import PUBLIC_PATHS, Authentication
from api.common import Services
from api.errors import EXCEPTION_HANDLERS, document_problems
from api.guard import BodyGuard, HeaderGuard
from api.read_headers import read_headers
from api.request_log import observe
from api.routes import ROUTES
from api.web import template_config, web_routers
from api.web.errors import with_web_pages
from ledger.labels import LabelKeys
from ledger.limits import request_body_bytes_max
from ledger.services import label_keys as label_key_store
from ledger.services.database import Database, dialect, open_database, open_replica, ping
from ledger.settings import Settings, office_today, office_zone

API_PREFIX = "/api/v1"

# Scripts and styles the pages load, served by the app itself: an office intranet has no
# internet (the vendored files and their licences: api/static/*/README.md).
STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/static"
SWAGGER_UI = f"{STATIC_PATH}/swagger-ui"


class Health(msgspec.Struct, frozen=True):
    """status: ok, or unavailable when the database does not answer."""

    status: str
    database: str
    detail: str = ""


def create_app(
    database: Database | None = None,
    clock: Callable[[], dt.date] | None = None,
    label_keys: LabelKeys | None = None,
    replica: Database | None = None,
) -> Litestar:
    """replica: a read-only copy for reports, balances and verification (by default the one
    at LEDGER_READ_DATABASE_URL, if set)."""
    settings = Settings.from_environment()
    database = database or open_database(settings.database_url)
    if replica is None and settings.read_database_url:
        replica = open_replica(settings.read_database_url)
    office_zone(settings.time_zone)  # an unknown LEDGER_TIME_ZONE stops the start, not a request
    handlers = list(ROUTES)
    document_problems(handlers)

    @get("/health", summary="Service and database health", sync_to_thread=True, tags=["service"])
    def health() -> Response[Health]:
        try:
            ping(database)
        except Exception as error:  # any database failure means "not healthy"
            detail = str(error).splitlines()[0]
            return Response(
                Health("unavailable", dialect(database), detail),
                status_code=HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response(Health("ok", dialect(database)))

    app = Litestar(
        route_handlers=[
            health,
            Router(
                API_PREFIX,
                route_handlers=handlers,
                security=[{"bearer": []}],
                after_request=print_page_headers,
            ),
            *web_routers(),
            create_static_files_router(
                path=STATIC_PATH,
                directories=[STATIC_DIR],
                include_in_schema=False,
                cache_control=CacheControlHeader(max_age=86_400),
            ),
        ],
        state=State(
            {
                "database": database,
                "settings": settings,
                "services": Services(
                    database,
                    clock or office_today,
                    label_keys or label_key_store.load(settings),
                    replica,
                ),
            }
        ),
        # Headers, path and query first (a NUL in a token must not reach the database), then
        # who is asking, then the body (api/guard.py).
        middleware=[
            read_headers,
            HeaderGuard,
            DefineMiddleware(Authentication, exclude=PUBLIC_PATHS),
            BodyGuard,
        ],
        request_max_body_size=request_body_bytes_max,
        exception_handlers=with_web_pages(EXCEPTION_HANDLERS),
        template_config=template_config(),
        openapi_config=openapi_config(),
        on_shutdown=[database.dispose, *([replica.dispose] if replica else [])],
        # No queue-listener logging thread per app (each would outlive the app); errors go
        # to the "ledger.api" logger and each request to "ledger.requests" (api/request_log.py).
        logging_config=None,
    )
    observe(app, settings, dialect(database))  # request ids, the JSON request log, /metrics
    return app


# The API's print forms (a voucher, a report's format=html) are HTML pages of their own: they
# load nothing and run no script, and no other site may frame them.
PRINT_PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


async def print_page_headers(response: Response) -> Response:
    # async: Litestar runs a sync after_request hook in a worker thread, for every answer
    if str(response.media_type).startswith("text/html"):
        response.headers.setdefault("Content-Security-Policy", PRINT_PAGE_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def openapi_config() -> OpenAPIConfig:
    """The OpenAPI document at /schema/openapi.json and its UI at /schema, whose scripts and
    styles the app serves itself (STATIC_DIR)."""
    return OpenAPIConfig(
        title="宣传品与计生药具 stock ledger",
        version="1.0.0",
        description="Double-entry stock ledger for health-publicity materials and free contraceptives.",
        path="/schema",
        render_plugins=[
            SwaggerRenderPlugin(
                js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
                css_url=f"{SWAGGER_UI}/swagger-ui.css",
                standalone_preset_js_url=f"{SWAGGER_UI}/swagger-ui-standalone-preset.js",
                # Litestar's default is fetched from a CDN; the workspace's icon instead
                favicon='<link rel="icon" href="/static/web/icon.svg" type="image/svg+xml">',
            )
        ],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http", scheme="bearer", description="token from `ledger users add`"
                )
            }
        ),
    )
