"""API users: one or more roles at a location, authenticated by a bearer token stored only as a
hash.

A user holds a first role (`users.role`) and may hold more at the same location (`user_roles`:
a county clerk who also approves). Every role must be allowed at the location's level
(`ROLE_LEVELS`). Changes of roles, location or label, token resets and revocation are in
`ledger.services.user_changes`; this module adds, reads, revokes and authenticates.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from typing import Any

from ledger.db import oplog, row_locks, versions
from ledger.db import users as stored
from ledger.db.store import LocationEntry
from ledger.db.unit_of_work import Database
from ledger.db.users import User
from ledger.limits import token_length_max, user_label_length_max
from ledger.model import LocationLevel, Role
from ledger.reference import ReferenceKind, user_content
from ledger.rules import Code, LedgerError, check_text
from ledger.settings import office_today

ROLES = tuple(Role)
_TREE = frozenset(LocationLevel) - {LocationLevel.virtual}  # city, county, township, village
ROLE_LEVELS: dict[str, frozenset[str]] = {
    Role.admin: _TREE,
    Role.clerk: _TREE,
    Role.requester: _TREE - {LocationLevel.city},
    Role.approver: _TREE - {LocationLevel.village},
    Role.auditor: _TREE,
}
ROLE_NAMES: dict[str, str] = {
    Role.admin: "管理员",
    Role.clerk: "保管员",
    Role.requester: "申领人",
    Role.approver: "审批人",
    Role.auditor: "审计",
}
TOKEN_PREFIX = "lgr_"
# Where a global admin is kept: users.location_id names a location, and a global admin belongs
# to none of the cities; the virtual locations belong to none either (and no other role may be
# at one).
GLOBAL_ADMIN_LOCATION = "supplier"

__all__ = [
    "ROLES",
    "User",
    "add_user",
    "authenticate",
    "get_user",
    "list_users",
    "revoke_user",
]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A random 256-bit bearer token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def checked_roles(roles: str | Sequence[str]) -> tuple[str, ...]:
    """The roles asked for, each known, in the order given without repeats (the first is the
    user's first role)."""
    asked = (roles,) if isinstance(roles, str) else tuple(roles)
    if not asked:
        raise LedgerError(Code.invalid_field, "至少要有一个角色 (at least one role)", "roles")
    for role in asked:
        if role not in ROLES:
            raise LedgerError(
                Code.unknown_role,
                f"角色必须是 {', '.join(ROLES)} 之一：{role!r} (unknown role)",
                "roles" if len(asked) > 1 else "role",
            )
    return tuple(dict.fromkeys(asked))


def check_place(roles: Sequence[str], location: LocationEntry) -> None:
    """Every role allowed at the location: a physical place of a level the role belongs to."""
    if not location.physical:
        raise LedgerError(Code.location_must_be_physical, "用户必须属于实体库点", "location_code")
    for role in roles:
        if location.location.level.value not in ROLE_LEVELS[role]:
            raise LedgerError(
                Code.role_not_allowed_at_level,
                f"{ROLE_NAMES[role]} ({role}) 不能设在{location.location.name}这一级 "
                f"(role not allowed at this level)",
                "roles" if len(roles) > 1 else "role",
            )


def described(user: User) -> dict:
    """What the operations log says about a user: label, role(s), location (global: none)."""
    found: dict = {
        "label": user.label,
        "role": user.role,
        "location": None if user.is_global else user.location_code,
    }
    if len(user.roles) > 1:
        found["roles"] = sorted(user.roles)
    if user.is_global:
        found["global"] = True
    return found


def add_user(
    database: Database,
    label: str,
    role: str | Sequence[str],
    location_code: str | None,
    token: str | None = None,
    actor: int | None = None,
    global_admin: bool = False,
    then: Callable[[Any, int], None] | None = None,
) -> tuple[User, str]:
    """Create a user and return it with its bearer token (shown once, never stored).

    role: its role, or its roles (the first is its first role; a county clerk who also
    approves: ("clerk", "approver")), each allowed at the location's level.
    token: only the demo passes one (its tokens are printed and documented); otherwise a
    random 256-bit token is made.
    global_admin: an admin of every root (a city's admin reaches only its city); it belongs to
    no city, so it takes no location_code (it is kept at a virtual location) and holds no other
    role.
    then(store, user_id): more of the same write (a login name and password).
    """
    check_text(label, "label", user_label_length_max)
    roles = checked_roles(role)
    if global_admin != (location_code is None):
        raise LedgerError(
            Code.global_admin_only,
            "全局管理员不属于任何库点，其他用户必须指定库点 "
            "(a global admin takes no location; every other user needs one)",
            "location_code",
        )
    if global_admin and roles != (Role.admin,):
        raise LedgerError(
            Code.global_admin_only,
            "只有管理员 (admin) 可以是全局的 (only an admin is global)",
            "role",
        )
    token = token or new_token()
    if not token.startswith(TOKEN_PREFIX):
        raise LedgerError(Code.invalid_field, f"令牌须以 {TOKEN_PREFIX} 开头", "token")

    def work(store) -> int:
        if global_admin:
            location = store.location(GLOBAL_ADMIN_LOCATION)
            return _insert(store, location, None)
        location = store.location(location_code)
        check_place(roles, location)
        return _insert(store, location, location.path)

    def _insert(store, location, path: str | None) -> int:
        first = roles[0]
        user_id = stored.insert_user(
            store.connection, label, first, location.id, token_digest(token)
        )
        if len(roles) > 1:
            stored.set_roles(store.connection, user_id, first, roles[1:])
        # Version 1 of what vouchers say about the user: their label, role(s) and location.
        content = user_content(label, first, location.location.code, roles)
        versions.write(store, ReferenceKind.user, user_id, 1, content, office_today(), actor)
        after: dict = {"label": label, "role": first, "location": location_code}
        if len(roles) > 1:
            after["roles"] = sorted(roles)
        if global_admin:
            after["global"] = True
        oplog.record(
            store,
            "user.add",
            "user",
            str(user_id),
            user_id=actor,
            after=after,
            location_path=path,  # a global admin's entry is global: read by global admins
        )
        if then is not None:
            then(store, user_id)
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


def find_users(
    database: Database, where: stored.UserFilter, limit: int, offset: int = 0
) -> list[User]:
    """A page of the users `where` selects, in id order."""
    with database.read() as connection:
        return stored.users_page(connection, where, limit, offset)


def stored_user(store, user_id: int, authorize=None) -> User:
    """The user as this write sees it, refused when there is none (`unknown_user`) or it is
    revoked (`user_revoked`). authorize(user): the caller's check that it may manage this user
    (raises to refuse), run before the revocation is looked at."""
    user = stored.user_by_id(store.connection, user_id)
    if user is None:
        raise LedgerError(Code.unknown_user, f"没有编号为 {user_id} 的用户 (unknown user)", "id")
    if authorize is not None:
        authorize(user)
    if user.revoked:
        raise LedgerError(
            Code.user_revoked,
            f"用户 {user_id}（{user.label}）已吊销，不能再修改；需要时请新建用户 (the user is revoked)",
            "id",
        )
    return user


def refuse_last_admin(store, user: User, keeps_admin: bool) -> None:
    """Refuse (`last_admin`) to take the last active admin away from its city: revoked, its
    admin role removed, or moved to another city. Global admins are not a city's. On
    PostgreSQL the city's row is locked first, so that two admins revoking each other at once
    cannot both succeed."""
    if user.is_global or not user.has(Role.admin) or keeps_admin:
        return
    root_code = oplog.root_code_of(user.location_path)
    root = store.location(root_code)
    row_locks.lock_location(store, root.id)
    others = [
        found for found in stored.active_admins(store.connection, root.path) if found != user.id
    ]
    if not others:
        raise LedgerError(
            Code.last_admin,
            f"{user.label} 是{root.location.name}仅有的管理员，不能吊销或去掉其管理员角色；"
            f"请先为本市另设一位管理员 (the last admin of the city)",
            "id",
        )


def revoke_user(database: Database, user_id: int, actor: int | None = None, authorize=None) -> User:
    """Revoke a user: its token stops working (an API process forgets it at once when the
    revocation is made through it; other processes within `token_cache_seconds`). Refused for
    the last active admin of a city (`last_admin`). authorize(user): see `stored_user`."""

    def work(store) -> None:
        user = stored_user(store, user_id, authorize)
        refuse_last_admin(store, user, keeps_admin=False)
        if not stored.revoke(store.connection, user_id):
            raise LedgerError(
                Code.user_revoked, f"用户 {user_id} 已吊销 (the user is revoked)", "id"
            )
        oplog.record(
            store,
            "user.revoke",
            "user",
            str(user_id),
            user_id=actor,
            before=described(user),
            after={"revoked": True},
            location_path=None if user.is_global else user.location_path,
        )

    database.write(work)
    user = get_user(database, user_id)
    assert user is not None
    return user


def authenticate(database: Database, token: str) -> User | None:
    """The active user holding `token`, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > token_length_max:
        return None
    with database.read() as connection:
        return stored.active_user_by_token_hash(connection, token_digest(token))
