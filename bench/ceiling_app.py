"""The framework's ceiling for posting an issue: a bare Litestar route that decodes the same
issue body (api.schemas.IssueCreate, msgspec) and answers JSON, nothing else — no
authentication, no database. `bench.api_wrk` serves it with the same uvicorn settings as
`ledger serve` and loads it with the same wrk script, in the same run, as the real route.

    uvicorn --factory bench.ceiling_app:create_app
"""

from __future__ import annotations

from litestar import Litestar, get, post

from api.schemas import IssueCreate


@post("/api/v1/transactions/issues", status_code=201)
async def issue(data: IssueCreate) -> dict:
    return {"source_code": data.source_code, "lines": len(data.lines)}


@get("/health")
async def health() -> dict:
    return {"status": "ok"}


def create_app() -> Litestar:
    return Litestar(route_handlers=[issue, health], logging_config=None)
