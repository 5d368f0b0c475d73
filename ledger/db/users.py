"""Storage of API users: rows of `users` joined with their location."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import Connection, insert, select, update

from ledger.db import tables as t


class User(msgspec.Struct, frozen=True):
    """An authenticated user: what they may do (role) and where (their location's subtree).

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

    @property
    def is_global(self) -> bool:
        return self.role == "admin" and self.location_level == "virtual"


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
    ).join(t.locations, loc.id == u.location_id)


def _user(row) -> User:
    return User(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]), bool(row[8]))


def user_by_id(connection: Connection, user_id: int) -> User | None:
    row = connection.execute(_users_query().where(t.users.c.id == user_id)).one_or_none()
    return _user(row) if row else None


def all_users(connection: Connection) -> list[User]:
    return [_user(row) for row in connection.execute(_users_query().order_by(t.users.c.id))]


def active_user_by_token_hash(connection: Connection, token_hash: str) -> User | None:
    row = connection.execute(
        _users_query().where(t.users.c.token_hash == token_hash, t.users.c.revoked_at.is_(None))
    ).one_or_none()
    return _user(row) if row else None


def revoke(connection: Connection, user_id: int) -> bool:
    """Mark an active user revoked; False when there is no such active user."""
    result = connection.execute(
        update(t.users)
        .where(t.users.c.id == user_id, t.users.c.revoked_at.is_(None))
        .values(revoked_at=dt.datetime.now(dt.UTC))
    )
    return result.rowcount > 0
