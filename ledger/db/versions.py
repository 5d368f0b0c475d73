"""Storage of reference-data versions (table `reference_versions`, append-only by triggers).

Version 1 of an item, location or batch is written by the store when the object is created,
of a user by `ledger.services.users.add_user`; each change (ledger/services/reference.py)
writes the next version in the same database transaction as the row it changes. `verify` reads
every current row and every version and checks that each row equals its last version
(`ledger.verify.check_reference`).
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple, Protocol

import msgspec
from sqlalchemy import Connection, func, insert, select

from ledger.db import tables as t
from ledger.history import ReferenceRow, ReferenceVersion
from ledger.model import Batch, Item, ItemKind, Location, LocationLevel, Pack
from ledger.reference import (
    ReferenceKind,
    batch_content,
    item_content,
    location_content,
    user_content,
)


class Writer(Protocol):
    """Where a version is written: a unit of work's connection and when it was recorded (the
    store, or the session its repositories share)."""

    @property
    def connection(self) -> Connection: ...

    @property
    def recorded_at(self) -> dt.datetime: ...


_V = t.reference_versions.c


class VersionRecord(NamedTuple):
    version: int
    valid_from: dt.date
    recorded_at: dt.datetime
    user_id: int | None
    content: str


def write(
    store: Writer,
    kind: ReferenceKind,
    object_id: int,
    version: int,
    content: str,
    valid_from: dt.date,
    user_id: int | None,
) -> None:
    """Insert one version in the store's transaction. A racing writer of the same version
    number fails on the unique (object_type, object_id, version) and is retried whole."""
    store.connection.execute(
        insert(t.reference_versions),
        {
            "object_type": kind.value,
            "object_id": object_id,
            "version": version,
            "valid_from": valid_from,
            "recorded_at": store.recorded_at,
            "user_id": user_id,
            "content": content,
        },
    )


def history(connection: Connection, kind: ReferenceKind, object_id: int) -> list[VersionRecord]:
    """Every version of one object, oldest first."""
    rows = connection.execute(
        select(_V.version, _V.valid_from, _V.recorded_at, _V.user_id, _V.content)
        .where(_V.object_type == kind.value, _V.object_id == object_id)
        .order_by(_V.version)
    )
    return [
        VersionRecord(
            version,
            _day(valid_from),
            recorded_at if recorded_at.tzinfo else recorded_at.replace(tzinfo=dt.UTC),
            user_id,
            content,
        )
        for version, valid_from, recorded_at, user_id, content in rows
    ]


def user_labels(connection: Connection, user_id: int) -> list[tuple[dt.date, str]]:
    """(valid from, label) of every version of a user, in the order they took force."""
    return [
        (record.valid_from, msgspec.json.decode(record.content).get("label", ""))
        for record in sorted(
            history(connection, ReferenceKind.user, user_id),
            key=lambda record: (record.valid_from, record.version),
        )
    ]


def last_number(connection: Connection, kind: ReferenceKind, object_id: int) -> int:
    return connection.execute(
        select(func.coalesce(func.max(_V.version), 0)).where(
            _V.object_type == kind.value, _V.object_id == object_id
        )
    ).scalar_one()


def all_versions(connection: Connection) -> list[ReferenceVersion]:
    return [
        ReferenceVersion(*row)
        for row in connection.execute(select(_V.object_type, _V.object_id, _V.version, _V.content))
    ]


def current_rows(connection: Connection) -> tuple[list[ReferenceRow], list[tuple]]:
    """Every item, location and batch as it is stored now, with the content of its versioned
    fields; and every location's (code, parent code, path)."""
    i, ip, loc, b = t.items.c, t.item_packs.c, t.locations.c, t.batches.c
    packs: dict[int, list[Pack]] = {}
    for item_id, name, base_units in connection.execute(
        select(ip.item_id, ip.name, ip.base_units).order_by(ip.item_id, ip.position)
    ):
        packs.setdefault(item_id, []).append(Pack(name, base_units))
    rows: list[ReferenceRow] = []
    item_codes: dict[int, str] = {}
    for row in connection.execute(
        select(i.id, i.code, i.name, i.kind, i.category, i.base_unit, i.expiry_tracked)
    ):
        item_codes[row.id] = row.code
        item = Item(
            row.code,
            row.name,
            _enum(ItemKind, row.kind),
            row.category,
            row.base_unit,
            tuple(packs.get(row.id, ())),
            bool(row.expiry_tracked),
        )
        rows.append(ReferenceRow(ReferenceKind.item.value, row.id, row.code, item_content(item)))
    parent = t.locations.alias("parent")
    paths = []
    for location_row in connection.execute(
        select(loc.id, loc.code, loc.name, loc.level, parent.c.code, loc.path).outerjoin(
            parent, parent.c.id == loc.parent_id
        )
    ):
        location_id, code, name, level, parent_code, path = location_row
        location = Location(code, name, _enum(LocationLevel, level), parent_code)
        rows.append(
            ReferenceRow(
                ReferenceKind.location.value, location_id, code, location_content(location)
            )
        )
        paths.append((code, parent_code, path))
    for batch_id, item_id, number, produced_on, expires_on in connection.execute(
        select(b.id, b.item_id, b.number, b.produced_on, b.expires_on)
    ):
        item_code = item_codes.get(item_id, f"#{item_id}")
        batch = Batch(item_code, number, _day(produced_on), _day(expires_on))
        rows.append(
            ReferenceRow(
                ReferenceKind.batch.value, batch_id, f"{item_code}/{number}", batch_content(batch)
            )
        )
    return rows, paths


def user_rows(connection: Connection) -> list[tuple[ReferenceRow, str]]:
    """Every user as stored now, with the content of its versioned fields (label, first role,
    location code, and the other roles it holds in `user_roles`), and the path of its location
    (to place it in a root)."""
    u, loc, r = t.users.c, t.locations.c, t.user_roles.c
    held: dict[int, list[str]] = {}
    for user_id, role in connection.execute(select(r.user_id, r.role)):
        held.setdefault(user_id, []).append(role)
    return [
        (
            ReferenceRow(
                ReferenceKind.user.value,
                user_id,
                f"#{user_id}",
                user_content(
                    label,
                    role,
                    code if code is not None else f"#{location_id}",
                    held.get(user_id, ()),
                ),
            ),
            path or "/",
        )
        for user_id, label, role, location_id, code, path in connection.execute(
            select(u.id, u.label, u.role, u.location_id, loc.code, loc.path).outerjoin(
                t.locations, loc.id == u.location_id
            )
        )
    ]


def _enum(kind, value):
    """An enum member, or the stored text itself when someone wrote a value the ledger never
    writes (its content then differs from every version, which is what verify reports)."""
    try:
        return kind(value)
    except ValueError:
        return _Raw(value)


class _Raw(str):
    @property
    def value(self) -> str:
        return str(self)


def _day(value):
    if not isinstance(value, str):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:  # not a date (written outside the ledger): kept as text, unlike any
        return _RawDay(value)


class _RawDay(str):
    def isoformat(self) -> str:
        return str(self)
