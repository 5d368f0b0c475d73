"""操作日志: the operations log (`GET /api/v1/audit/log`'s use case) with its filters and pages,
actions and objects named in Chinese, times in the office's time zone. Who reads it is
`log_root`'s rule: the auditors at the top of a city and admins."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, get
from litestar.response import Template

from api.common import services_of
from api.policy import log_root, roles, root_path
from api.web.audit_names import ACTION_CHOICES, OBJECT_TYPE_NAMES, action_name
from api.web.render import page
from ledger.limits import (
    integer_magnitude_max,
    log_action_length_max,
    log_object_key_length_max,
    log_object_type_length_max,
    offset_max,
)
from ledger.model import Role
from ledger.services.audit_log import LogEntry, LogFilter, read_log
from ledger.services.users import User, list_users
from ledger.settings import office_zone

LOG_PAGE = 50  # entries a page shows
USERS_MAX = 500  # users the filter lists; beyond, the id is typed
DETAIL_MAX = 300  # characters of an entry's before/after shown
FIELDS = ("action", "object_type", "object_key", "user_id", "since", "until")


def local_time(instant: dt.datetime) -> str:
    """An instant as the office reads it: YYYY-MM-DD HH:MM:SS in its time zone."""
    return instant.astimezone(office_zone()).strftime("%Y-%m-%d %H:%M:%S")


def _start_of(day: dt.date) -> dt.datetime:
    """The first instant of an office day, in UTC (as the log keeps instants)."""
    return dt.datetime.combine(day, dt.time(), office_zone()).astimezone(dt.UTC)


def _day(text: str) -> dt.date:
    if len(text) != 10:
        raise ValueError(text)
    return dt.date.fromisoformat(text)


def read_filter(query: dict[str, str]) -> tuple[LogFilter, dict[str, str]]:
    """The filter the form asks for, and {field: 中文 error} for what cannot be read. `until`
    is a day included whole (the log is read before the next day's start)."""
    errors: dict[str, str] = {}
    limits = {
        "action": log_action_length_max,
        "object_type": log_object_type_length_max,
        "object_key": log_object_key_length_max,
    }
    for name, longest in limits.items():
        if len(query[name]) > longest:
            errors[name] = f"最多 {longest} 个字符"
    user_id = None
    if query["user_id"]:
        if query["user_id"].isdecimal() and 1 <= int(query["user_id"]) <= integer_magnitude_max:
            user_id = int(query["user_id"])
        else:
            errors["user_id"] = "应为用户编号（正整数）"
    days: dict[str, dt.date | None] = {"since": None, "until": None}
    for name in days:
        if query[name]:
            try:
                days[name] = _day(query[name])
            except ValueError:
                errors[name] = "日期应为 年-月-日，例如 2026-06-30"
    since, until = days["since"], days["until"]
    if since and until and since > until:
        errors["since"] = "起始日期晚于截止日期"
    wanted = LogFilter(
        query["action"] or None,
        query["object_type"] or None,
        query["object_key"] or None,
        user_id,
        _start_of(since) if since else None,
        _start_of(until + dt.timedelta(days=1)) if until else None,
    )
    return wanted, errors


def _detail(value: Any) -> str:
    """An entry's before/after as short text: key：value pairs."""
    if value is None:
        return ""
    if isinstance(value, dict):
        text = "；".join(f"{key}：{_detail(item) or '—'}" for key, item in value.items())
    elif isinstance(value, list):
        text = "、".join(_detail(item) for item in value)
    elif isinstance(value, str):
        text = value
    else:
        text = msgspec.json.encode(value).decode()
    return text if len(text) <= DETAIL_MAX else text[: DETAIL_MAX - 1] + "…"


def entry_row(entry: LogEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": local_time(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "action_name": action_name(entry.action),
        "object": OBJECT_TYPE_NAMES.get(entry.object_type, entry.object_type),
        "key": entry.object_key,
        "before": _detail(entry.before),
        "after": _detail(entry.after),
    }


def user_options(request: Request) -> list[tuple[str, str]] | None:
    """The users whose entries the reader may ask for (its city's), or None when there are
    too many for a select."""
    reader: User = request.user
    everyone = list_users(services_of(request.app.state).database)
    if not reader.is_global:
        everyone = [u for u in everyone if u.location_path.startswith(root_path(reader))]
    if len(everyone) > USERS_MAX:
        return None
    return [("", "全部用户")] + [(str(u.id), f"{u.label}（#{u.id}）") for u in everyone]


def _with(options: list[tuple[str, str]], value: str) -> list[tuple[str, str]]:
    if value and all(code != value for code, _ in options):
        return [*options, (value, value)]
    return options


@get("/audit/log", guards=[roles(Role.auditor)], sync_to_thread=True)
def audit_log_page(request: Request) -> Template:
    root = log_root(request.user)
    query = {name: request.query_params.get(name, "").strip() for name in FIELDS}
    text = request.query_params.get("page", "1")
    number = int(text) if text.isdecimal() and len(text) < 7 else 1
    number = max(1, min(number, offset_max // LOG_PAGE))
    wanted, errors = read_filter(query)
    entries: list[LogEntry] = []
    if not errors:
        entries = read_log(
            services_of(request.app.state).database,
            root,
            wanted,
            limit=LOG_PAGE + 1,
            offset=(number - 1) * LOG_PAGE,
        )
    users = user_options(request)
    template = page(
        request,
        "audit_log.html",
        "操作日志",
        query=query,
        errors=errors,
        rows=[entry_row(entry) for entry in entries[:LOG_PAGE]],
        page_number=number,
        more=len(entries) > LOG_PAGE,
        page_query=urlencode([(name, value) for name, value in query.items() if value]),
        action_choices=_with(list(ACTION_CHOICES), query["action"]),
        object_choices=_with(
            [("", "全部对象"), *sorted(OBJECT_TYPE_NAMES.items())], query["object_type"]
        ),
        user_choices=None if users is None else _with(users, query["user_id"]),
    )
    template.status_code = 422 if errors else 200
    return template
