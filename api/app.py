"""The HTTP service. Until the API issue lands it serves `/health` and the OpenAPI schema."""

from __future__ import annotations

import msgspec
from litestar import Litestar, get
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.response import Response
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy import text

from ledger.db.unit_of_work import Database
from ledger.settings import Settings


class Health(msgspec.Struct, frozen=True):
    """status: ok, or unavailable when the database does not answer."""

    status: str
    database: str
    detail: str = ""


def create_app(database: Database | None = None) -> Litestar:
    database = database or Database.from_url(Settings.from_environment().database_url)

    @get("/health", summary="Service and database health", sync_to_thread=True)
    def health() -> Response[Health]:
        try:
            with database.read() as connection:
                connection.execute(text("SELECT sequence FROM chain_head")).one()
        except Exception as error:  # any database failure means "not healthy"
            detail = str(error).splitlines()[0]
            return Response(
                Health("unavailable", database.engine.dialect.name, detail),
                status_code=HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response(Health("ok", database.engine.dialect.name))

    return Litestar(
        route_handlers=[health],
        openapi_config=OpenAPIConfig(
            title="宣传品与计生药具 stock ledger",
            version="0.1.0",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        on_shutdown=[database.dispose],
    )
