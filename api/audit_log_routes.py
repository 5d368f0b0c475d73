"""GET /audit/log: the operations log, for the auditors of a root and for admins."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Request, get
from litestar.datastructures import State
from litestar.params import QueryParameter

from api.errors import Forbidden
from api.routes import Limit, Offset, services_of
from api.schemas import Page, page
from ledger.db.oplog import LogEntry, LogFilter, root_code_of
from ledger.services.audit_log import read_log
from ledger.services.users import User
from ledger.settings import office_zone


def log_root(user: User) -> str | None:
    """Whose entries the user reads: a global admin reads every entry; an admin of a city and
    an auditor at a root that root's; nobody else reads the log."""
    if user.is_global:
        return None
    if user.has("admin") or (user.has("auditor") and user.is_root):
        return root_code_of(user.location_path)
    raise Forbidden("操作日志仅限市级审计和管理员查看 (the log is for auditors at the top)")


@get(
    "/audit/log",
    sync_to_thread=True,
    tags=["audit"],
    summary="操作日志: every action that is not a movement, newest first",
)
def audit_log(
    request: Request,
    state: State,
    action: Annotated[
        str | None,
        QueryParameter(
            max_length=40, description="an action or its prefix: user, stocktake.approve"
        ),
    ] = None,
    object_type: Annotated[str | None, QueryParameter(max_length=40)] = None,
    object_key: Annotated[str | None, QueryParameter(max_length=200)] = None,
    user_id: Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)] = None,
    since: Annotated[dt.datetime | None, QueryParameter(description="from this instant")] = None,
    until: Annotated[dt.datetime | None, QueryParameter(description="before this instant")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[LogEntry]:
    root = log_root(request.user)
    entries = read_log(
        services_of(state).database,
        root,
        LogFilter(action, object_type, object_key, user_id, _utc(since), _utc(until)),
        limit=limit + 1,
        offset=offset,
    )
    return page(entries, limit, offset)


def _utc(instant: dt.datetime | None) -> dt.datetime | None:
    """An instant in UTC, as the log keeps them; one given without an offset is the office's
    local time (LEDGER_TIME_ZONE)."""
    if instant is None:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=office_zone())
    return instant.astimezone(dt.UTC)


ROUTES = [audit_log]
