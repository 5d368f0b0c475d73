"""The HTTP service: Litestar, JSON under /api/v1, OpenAPI at /schema, problem-details errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import msgspec
from litestar import Litestar, Router, get
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.datastructures import State
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.response import Response
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from api.audit_log_routes import ROUTES as AUDIT_LOG_ROUTES
from api.auth import PUBLIC_PATHS, BearerAuthentication
from api.errors import EXCEPTION_HANDLERS, document_problems
from api.guard import BodyGuard, HeaderGuard
from api.import_routes import ROUTES as IMPORT_ROUTES
from api.reference_routes import ROUTES as REFERENCE_ROUTES
from api.report_routes import ROUTES as REPORT_ROUTES
from api.routes import ROUTES, Services
from api.scan_page import scan_page
from api.scan_routes import ROUTES as SCAN_ROUTES
from api.stocktake_routes import ROUTES as STOCKTAKE_ROUTES
from api.user_routes import ROUTES as USER_ROUTES
from ledger.db import queries
from ledger.db.unit_of_work import Database
from ledger.labels import LabelKeys
from ledger.rules import request_body_bytes_max
from ledger.services import label_keys as label_key_store
from ledger.services.ledger import Ledger
from ledger.settings import Settings, office_today, office_zone

API_PREFIX = "/api/v1"


class Health(msgspec.Struct, frozen=True):
    """status: ok, or unavailable when the database does not answer."""

    status: str
    database: str
    detail: str = ""


def create_app(
    database: Database | None = None,
    clock: Callable[[], dt.date] | None = None,
    label_keys: LabelKeys | None = None,
) -> Litestar:
    settings = Settings.from_environment()
    database = database or Database.from_url(settings.database_url)
    office_zone(settings.time_zone)  # an unknown LEDGER_TIME_ZONE stops the start, not a request
    ledger = Ledger(database, clock or office_today)
    handlers = (
        ROUTES
        + SCAN_ROUTES
        + STOCKTAKE_ROUTES
        + REPORT_ROUTES
        + AUDIT_LOG_ROUTES
        + REFERENCE_ROUTES
        + IMPORT_ROUTES
        + USER_ROUTES
    )
    document_problems(handlers)

    @get("/health", summary="Service and database health", sync_to_thread=True, tags=["service"])
    def health() -> Response[Health]:
        try:
            with database.read() as connection:
                queries.chain_digest(connection)
        except Exception as error:  # any database failure means "not healthy"
            detail = str(error).splitlines()[0]
            return Response(
                Health("unavailable", database.engine.dialect.name, detail),
                status_code=HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response(Health("ok", database.engine.dialect.name))

    app = Litestar(
        route_handlers=[
            health,
            Router(
                API_PREFIX,
                route_handlers=handlers,
                security=[{"bearer": []}],
            ),
            scan_page,
        ],
        state=State(
            {
                "database": database,
                "services": Services(ledger, label_keys or label_key_store.load(settings)),
            }
        ),
        # Headers, path and query first (a NUL in a token must not reach the database), then
        # who is asking, then the body (api/guard.py).
        middleware=[
            HeaderGuard,
            DefineMiddleware(BearerAuthentication, exclude=PUBLIC_PATHS),
            BodyGuard,
        ],
        request_max_body_size=request_body_bytes_max,
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="宣传品与计生药具 stock ledger",
            version="1.0.0",
            description="Double-entry stock ledger for health-publicity materials and free contraceptives.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http", scheme="bearer", description="token from `ledger users add`"
                    )
                }
            ),
        ),
        on_shutdown=[database.dispose],
        # No queue-listener logging thread per app (each would outlive the app); errors go
        # to the "ledger.api" logger and uvicorn logs requests.
        logging_config=None,
    )
    # The OpenAPI document is built on first request, as Litestar does; ours adds the media types.
    plugin = app.plugins.get(OpenAPIPlugin)
    plugin.__class__ = _DocumentingOpenAPIPlugin
    return app


class _DocumentingOpenAPIPlugin(OpenAPIPlugin):
    __slots__ = ()

    def _build_openapi(self):
        openapi = super()._build_openapi()
        document_formats(openapi)
        return openapi


def document_formats(openapi) -> None:
    """Operations with a `format` parameter answer in more than one media type: say so in the
    OpenAPI document (Litestar declares one per handler)."""
    from litestar.openapi.spec import OpenAPIMediaType as MediaType
    from litestar.openapi.spec import Schema
    from litestar.openapi.spec.enums import OpenAPIType

    text = MediaType(schema=Schema(type=OpenAPIType.STRING))
    binary = MediaType(schema=Schema(type=OpenAPIType.STRING, format="binary"))
    exports = {
        "application/json": None,
        "text/csv": text,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": binary,
        "text/html": text,
    }
    for path, item in (openapi.paths or {}).items():
        operation = item.get
        if operation is None or not operation.parameters or not operation.responses:
            continue
        if "format" not in {getattr(parameter, "name", None) for parameter in operation.parameters}:
            continue
        ok = operation.responses.get("200")
        content = getattr(ok, "content", None)
        if content is None:
            continue
        if path.endswith("/label"):
            content["image/svg+xml"] = text
            continue
        report = content.get("application/json") or next(iter(content.values()))
        content.clear()
        for media_type, media in exports.items():
            content[media_type] = media or report
