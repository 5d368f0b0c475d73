"""API users: a role at a location, authenticated by a bearer token stored only as a hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import msgspec
from sqlalchemy import insert, select, update

from ledger.db import tables as t
from ledger.db.unit_of_work import Database
from ledger.rules import Code, LedgerError, check_text

ROLES = ("admin", "clerk", "requester", "approver", "auditor")
ROLE_LEVELS: dict[str, frozenset[str]] = {
    "admin": frozenset({"city", "county", "township", "village"}),
    "clerk": frozenset({"city", "county", "township", "village"}),
    "requester": frozenset({"county", "township", "village"}),
    "approver": frozenset({"city", "county", "township"}),
    "auditor": frozenset({"city", "county", "township", "village"}),
}
TOKEN_PREFIX = "lgr_"


class User(msgspec.Struct, frozen=True):
    """An authenticated user: what they may do (role) and where (their location's subtree).

    location_path: '/510100/510121/' — a location is in the user's subtree when its path starts
    with this. is_root: the user's location is a top of the tree (sees virtual locations too).
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


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(
    database: Database, label: str, role: str, location_code: str, token: str | None = None
) -> tuple[User, str]:
    """Create a user and return it with its bearer token (shown once, never stored).

    token: only the demo passes one (its tokens are printed and documented); otherwise a
    random 256-bit token is made.
    """
    check_text(label, "label", 200)
    if role not in ROLES:
        raise LedgerError(
            Code.invalid_field, f"角色必须是 {', '.join(ROLES)} 之一 (unknown role)", "role"
        )
    token = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
    if not token.startswith(TOKEN_PREFIX):
        raise LedgerError(Code.invalid_field, f"令牌须以 {TOKEN_PREFIX} 开头", "token")

    def work(store) -> int:
        location = store.location(location_code)
        if not location.physical:
            raise LedgerError(
                Code.location_must_be_physical, "用户必须属于实体库点", "location_code"
            )
        if location.location.level.value not in ROLE_LEVELS[role]:
            raise LedgerError(
                Code.invalid_field,
                f"{role} 不能设在{location.location.name}这一级 (role not allowed at this level)",
                "role",
            )
        return store.connection.execute(
            insert(t.users).returning(t.users.c.id),
            {
                "label": label,
                "role": role,
                "location_id": location.id,
                "token_hash": token_digest(token),
                "created_at": dt.datetime.now(dt.UTC),
                "revoked_at": None,
            },
        ).scalar_one()

    user_id = database.write(work)
    user = get_user(database, user_id)
    assert user is not None
    return user, token


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


def get_user(database: Database, user_id: int) -> User | None:
    with database.read() as connection:
        row = connection.execute(_users_query().where(t.users.c.id == user_id)).one_or_none()
    return _user(row) if row else None


def list_users(database: Database) -> list[User]:
    with database.read() as connection:
        return [_user(row) for row in connection.execute(_users_query().order_by(t.users.c.id))]


def revoke_user(database: Database, user_id: int) -> User:
    def work(store) -> None:
        result = store.connection.execute(
            update(t.users)
            .where(t.users.c.id == user_id, t.users.c.revoked_at.is_(None))
            .values(revoked_at=dt.datetime.now(dt.UTC))
        )
        if result.rowcount == 0:
            raise LedgerError(
                Code.invalid_field, f"没有可吊销的用户 {user_id} (no such active user)", "id"
            )

    database.write(work)
    user = get_user(database, user_id)
    assert user is not None
    return user


def authenticate(database: Database, token: str) -> User | None:
    """The active user holding `token`, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with database.read() as connection:
        row = connection.execute(
            _users_query().where(
                t.users.c.token_hash == token_digest(token), t.users.c.revoked_at.is_(None)
            )
        ).one_or_none()
    return _user(row) if row else None
