"""The operations log (操作日志): writing entries inside the caller's database transaction, and
reading them back filtered and paged.

An entry is written on the same connection as the change it records, so the change and its
entry commit together or not at all. The table is append-only (triggers refuse UPDATE and
DELETE). `root_id` scopes an entry to one city: its auditors read it; entries with no root
(e.g. a global admin's user changes) are read by global admins only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

import msgspec
from sqlalchemy import Connection, insert, or_, select

from ledger.db import tables as t
from ledger.entries import LocationEntry

CLI_ACTOR = "命令行"  # entries made from the command line on the server, by whoever ran it
SYSTEM_ACTOR = "系统"

_encoder = msgspec.json.Encoder(order="sorted")


class LogEntry(msgspec.Struct, frozen=True):
    """One entry of the operations log.

    at: when (UTC). user_id / actor: who (actor is the user's label at the time, or 命令行).
    action: a stable dotted code (`user.add`, `period.close`, `stocktake.approve` …).
    object_type / object_key: on which object. root_code: the city it belongs to, if any.
    before / after: the object's relevant fields before and after, as JSON objects.
    """

    id: int
    at: dt.datetime
    user_id: int | None
    actor: str
    action: str
    object_type: str
    object_key: str
    root_code: str | None
    before: Any = None
    after: Any = None


def root_code_of(path: str) -> str:
    """The code of the root a location path ('/510100/510121/') belongs to."""
    return path.split("/")[1]


class Writer(Protocol):
    """What `record` needs of the unit of work it writes in (a `LedgerStore`)."""

    @property
    def connection(self) -> Connection: ...

    def location(self, code: str, field: str = ...) -> LocationEntry: ...


def record(
    store: Writer,
    action: str,
    object_type: str,
    object_key: str,
    *,
    user_id: int | None,
    before: Any = None,
    after: Any = None,
    location_path: str | None = None,
    actor: str | None = None,
) -> None:
    """Write one entry in the store's transaction.

    location_path: the path of the location the object belongs to; its root scopes the entry
    (None: global, read by global admins only).
    actor: overrides the label (e.g. a failed sign-in names the name tried, not a user).
    """
    root_id = None
    if location_path:
        root_id = store.location(root_code_of(location_path)).id
    if actor is None:
        actor = _actor(store.connection, user_id)
    store.connection.execute(
        insert(t.operations_log),
        {
            "at": dt.datetime.now(dt.UTC),
            "user_id": user_id,
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_key": object_key,
            "root_id": root_id,
            "before": _json(before),
            "after": _json(after),
        },
    )


def _actor(connection: Connection, user_id: int | None) -> str:
    if user_id is None:
        return CLI_ACTOR
    label = connection.execute(
        select(t.users.c.label).where(t.users.c.id == user_id)
    ).scalar_one_or_none()
    return label if label is not None else f"#{user_id}"


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return _encoder.encode(value).decode()


class LogFilter(msgspec.Struct, frozen=True):
    """Which entries to read (each field narrows; None leaves it open).

    action: an action or its prefix (`request` finds every request state change).
    since / until: instants in UTC, from `since` and before `until`.
    """

    action: str | None = None
    object_type: str | None = None
    object_key: str | None = None
    user_id: int | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


EVERY_ENTRY = LogFilter()


def read(
    connection: Connection,
    *,
    root_id: int | None,
    everything: bool,
    with_unscoped: bool = False,
    wanted: LogFilter = EVERY_ENTRY,
    limit: int = 50,
    offset: int = 0,
) -> list[LogEntry]:
    """Entries newest first. everything: a global admin's view (every root and the entries tied
    to none); otherwise the entries of `root_id`, and with_unscoped those tied to no root too."""
    o, loc = t.operations_log.c, t.locations.c
    query = select(
        o.id,
        o.at,
        o.user_id,
        o.actor,
        o.action,
        o.object_type,
        o.object_key,
        loc.code,
        o.before,
        o.after,
    ).outerjoin(t.locations, loc.id == o.root_id)
    if not everything:
        mine = o.root_id == root_id
        query = query.where(or_(mine, o.root_id.is_(None)) if with_unscoped else mine)
    if wanted.action is not None:
        query = query.where(o.action.startswith(wanted.action, autoescape=True))
    if wanted.object_type is not None:
        query = query.where(o.object_type == wanted.object_type)
    if wanted.object_key is not None:
        query = query.where(o.object_key == wanted.object_key)
    if wanted.user_id is not None:
        query = query.where(o.user_id == wanted.user_id)
    if wanted.since is not None:
        query = query.where(o.at >= wanted.since)
    if wanted.until is not None:
        query = query.where(o.at < wanted.until)
    rows = connection.execute(query.order_by(o.id.desc()).limit(limit).offset(offset))
    return [
        LogEntry(
            row[0],
            row[1] if row[1].tzinfo else row[1].replace(tzinfo=dt.UTC),
            row[2],
            row[3],
            row[4],
            row[5],
            row[6],
            row[7],
            msgspec.json.decode(row[8]) if row[8] is not None else None,
            msgspec.json.decode(row[9]) if row[9] is not None else None,
        )
        for row in rows
    ]
