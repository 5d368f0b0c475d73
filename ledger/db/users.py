"""Storage of API users: rows of `users` joined with their location, and the roles they hold
besides their first (`user_roles`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import msgspec
from sqlalchemy import Connection, delete, exists, insert, or_, select, update

from ledger.db import tables as t
from ledger.model import LocationLevel, Role


class User(msgspec.Struct, frozen=True):
    """An authenticated user: what they may do (roles) and where (their location's subtree).

    role: the user's first role (`users.role`); roles: every role it holds at its location,
    the first included (a county clerk who also approves: {clerk, approver}). Ask `has(role)`.
    location_path: '/510100/510121/' — a location is in the user's subtree when its path starts
    with this. is_root: the user's location is a top of the tree (sees virtual locations too).
    A global admin (reaches every root) is an admin at a virtual location: none of the cities.
    """

    id: int
    label: str
    role: str
    location_code: str
    location_name: str
    location_level: str
    location_path: str
    is_root: bool
    revoked: bool = False
    roles: frozenset[str] = frozenset()
    login: str | None = None  # the name it signs in to the web workspace with, if any

    def __post_init__(self) -> None:
        if self.role not in self.roles:
            msgspec.structs.force_setattr(self, "roles", self.roles | {self.role})

    def has(self, role: str) -> bool:
        """The user holds `role` (its first role or another)."""
        return role in self.roles

    @property
    def is_global(self) -> bool:
        return self.has(Role.admin) and self.location_level == LocationLevel.virtual


def insert_user(
    connection: Connection, label: str, role: str, location_id: int, token_hash: str
) -> int:
    return connection.execute(
        insert(t.users).returning(t.users.c.id),
        {
            "label": label,
            "role": role,
            "location_id": location_id,
            "token_hash": token_hash,
            "created_at": dt.datetime.now(dt.UTC),
            "revoked_at": None,
        },
    ).scalar_one()


def _users_query():
    u, loc = t.users.c, t.locations.c
    return select(
        u.id,
        u.label,
        u.role,
        loc.code,
        loc.name,
        loc.level,
        loc.path,
        loc.parent_id.is_(None).label("is_root"),
        u.revoked_at.is_not(None).label("revoked"),
        u.login,
    ).join(t.locations, loc.id == u.location_id)


def _user(row, extra: Iterable[str] = ()) -> User:
    return User(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        bool(row[7]),
        bool(row[8]),
        frozenset({row[2], *extra}),
        row[9],
    )


def _with_roles(connection: Connection, rows) -> list[User]:
    rows = list(rows)
    extra = extra_roles(connection, [row[0] for row in rows])
    return [_user(row, extra.get(row[0], ())) for row in rows]


def extra_roles(connection: Connection, user_ids: list[int] | None = None) -> dict[int, set[str]]:
    """The roles in `user_roles` of these users (of every user when None), by user id."""
    r = t.user_roles.c
    query = select(r.user_id, r.role)
    if user_ids is not None:
        if not user_ids:
            return {}
        query = query.where(r.user_id.in_(user_ids))
    found: dict[int, set[str]] = {}
    for user_id, role in connection.execute(query):
        found.setdefault(user_id, set()).add(role)
    return found


def user_by_id(connection: Connection, user_id: int) -> User | None:
    found = _with_roles(
        connection, connection.execute(_users_query().where(t.users.c.id == user_id))
    )
    return found[0] if found else None


def all_users(connection: Connection) -> list[User]:
    return _with_roles(connection, connection.execute(_users_query().order_by(t.users.c.id)))


class UserFilter(msgspec.Struct, frozen=True):
    """Which users a list holds. scope: a path prefix (the users at or under it; None: every
    user, global admins too); location: the users at exactly this location (by id); under: at
    or under this path; role: holding this role; active: only active (True) or only revoked
    (False) users."""

    scope: str | None = None
    location_id: int | None = None
    under: str | None = None
    role: str | None = None
    active: bool | None = None


def users_page(connection: Connection, where: UserFilter, limit: int, offset: int) -> list[User]:
    """A page of users in id order."""
    u, loc, r = t.users.c, t.locations.c, t.user_roles.c
    query = _users_query()
    for prefix in (where.scope, where.under):
        if prefix is not None:
            query = query.where(loc.path.startswith(prefix, autoescape=True))
    if where.location_id is not None:
        query = query.where(u.location_id == where.location_id)
    if where.role is not None:
        held = exists().where(r.user_id == u.id, r.role == where.role)
        query = query.where(or_(u.role == where.role, held))
    if where.active is not None:
        query = query.where(u.revoked_at.is_(None) if where.active else u.revoked_at.is_not(None))
    rows = connection.execute(query.order_by(u.id).limit(limit).offset(offset))
    return _with_roles(connection, rows)


def active_user_by_token_hash(connection: Connection, token_hash: str) -> User | None:
    rows = connection.execute(
        _users_query().where(t.users.c.token_hash == token_hash, t.users.c.revoked_at.is_(None))
    )
    found = _with_roles(connection, rows)
    return found[0] if found else None


def active_admins(connection: Connection, root_path: str) -> list[int]:
    """The active users at or under a root (a city) who hold the admin role."""
    u, loc, r = t.users.c, t.locations.c, t.user_roles.c
    held = exists().where(r.user_id == u.id, r.role == Role.admin)
    return list(
        connection.execute(
            select(u.id)
            .join(t.locations, loc.id == u.location_id)
            .where(
                loc.path.startswith(root_path, autoescape=True),
                u.revoked_at.is_(None),
                or_(u.role == Role.admin, held),
            )
            .order_by(u.id)
        ).scalars()
    )


def set_roles(connection: Connection, user_id: int, first: str, others: Iterable[str]) -> None:
    """Make `first` the user's first role and `others` the roles it holds besides."""
    connection.execute(update(t.users).where(t.users.c.id == user_id).values(role=first))
    connection.execute(delete(t.user_roles).where(t.user_roles.c.user_id == user_id))
    rows = [{"user_id": user_id, "role": role} for role in sorted(set(others) - {first})]
    if rows:
        connection.execute(insert(t.user_roles), rows)


def set_fields(connection: Connection, user_id: int, **values) -> None:
    """Write the user's label, location_id or token_hash."""
    connection.execute(update(t.users).where(t.users.c.id == user_id).values(**values))


def revoke(connection: Connection, user_id: int) -> bool:
    """Mark an active user revoked; False when there is no such active user."""
    result = connection.execute(
        update(t.users)
        .where(t.users.c.id == user_id, t.users.c.revoked_at.is_(None))
        .values(revoked_at=dt.datetime.now(dt.UTC))
    )
    return result.rowcount > 0
