"""API users: a role at a location, authenticated by a bearer token stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets

from ledger.db import oplog, versions
from ledger.db import users as stored
from ledger.db.unit_of_work import Database
from ledger.db.users import User
from ledger.reference import ReferenceKind, user_content
from ledger.rules import Code, LedgerError, check_text
from ledger.settings import office_today

ROLES = ("admin", "clerk", "requester", "approver", "auditor")
ROLE_LEVELS: dict[str, frozenset[str]] = {
    "admin": frozenset({"city", "county", "township", "village"}),
    "clerk": frozenset({"city", "county", "township", "village"}),
    "requester": frozenset({"county", "township", "village"}),
    "approver": frozenset({"city", "county", "township"}),
    "auditor": frozenset({"city", "county", "township", "village"}),
}
TOKEN_PREFIX = "lgr_"
# Where a global admin is kept: users.location_id names a location, and a global admin belongs
# to none of the cities; the virtual locations belong to none either (and no other role may be
# at one).
GLOBAL_ADMIN_LOCATION = "supplier"

__all__ = ["ROLES", "User", "add_user", "authenticate", "get_user", "list_users", "revoke_user"]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(
    database: Database,
    label: str,
    role: str,
    location_code: str | None,
    token: str | None = None,
    actor: int | None = None,
    global_admin: bool = False,
) -> tuple[User, str]:
    """Create a user and return it with its bearer token (shown once, never stored).

    token: only the demo passes one (its tokens are printed and documented); otherwise a
    random 256-bit token is made.
    global_admin: an admin of every root (a city's admin reaches only its city); it belongs to
    no city, so it takes no location_code (it is kept at a virtual location).
    """
    check_text(label, "label", 200)
    if role not in ROLES:
        raise LedgerError(
            Code.invalid_field, f"角色必须是 {', '.join(ROLES)} 之一 (unknown role)", "role"
        )
    if global_admin != (location_code is None):
        raise LedgerError(
            Code.invalid_field,
            "全局管理员不属于任何库点，其他用户必须指定库点 "
            "(a global admin takes no location; every other user needs one)",
            "location_code",
        )
    if global_admin and role != "admin":
        raise LedgerError(
            Code.invalid_field, "只有管理员 (admin) 可以是全局的 (only an admin is global)", "role"
        )
    token = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
    if not token.startswith(TOKEN_PREFIX):
        raise LedgerError(Code.invalid_field, f"令牌须以 {TOKEN_PREFIX} 开头", "token")

    def work(store) -> int:
        if global_admin:
            location = store.location(GLOBAL_ADMIN_LOCATION)
            return _insert(store, location, None)
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
        return _insert(store, location, location.path)

    def _insert(store, location, path: str | None) -> int:
        user_id = stored.insert_user(
            store.connection, label, role, location.id, token_digest(token)
        )
        # Version 1 of what vouchers say about the user: their label, role and location.
        content = user_content(label, role, location.location.code)
        versions.write(store, ReferenceKind.user, user_id, 1, content, office_today(), actor)
        oplog.record(
            store,
            "user.add",
            "user",
            str(user_id),
            user_id=actor,
            after={"label": label, "role": role, "location": location_code}
            | ({"global": True} if global_admin else {}),
            location_path=path,  # a global admin's entry is global: read by global admins
        )
        return user_id

    user_id = database.write(work)
    user = get_user(database, user_id)
    assert user is not None
    return user, token


def get_user(database: Database, user_id: int) -> User | None:
    """The user (inside a write of this thread: as that write sees it)."""
    return database.lookup(lambda store: stored.user_by_id(store.connection, user_id))


def list_users(database: Database) -> list[User]:
    with database.read() as connection:
        return stored.all_users(connection)


def revoke_user(database: Database, user_id: int, actor: int | None = None) -> User:
    def work(store) -> None:
        if not stored.revoke(store.connection, user_id):
            raise LedgerError(
                Code.invalid_field, f"没有可吊销的用户 {user_id} (no such active user)", "id"
            )
        user = stored.user_by_id(store.connection, user_id)
        assert user is not None
        oplog.record(
            store,
            "user.revoke",
            "user",
            str(user_id),
            user_id=actor,
            before={"label": user.label, "role": user.role, "location": user.location_code},
            after={"revoked": True},
            location_path=None if user.is_global else user.location_path,
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
        return stored.active_user_by_token_hash(connection, token_digest(token))
