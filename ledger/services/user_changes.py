"""Changing a user: its roles, location or label (a new dated version), and a new token.

A user's label, roles and location are versioned reference data (`ledger.reference.
user_content`): a change writes the user's next version and an operations-log entry
(`user.change`, with before and after) in the same database transaction as the row it changes,
and `verify` checks that the row still equals its last version. A token reset logs
`user.reset_token` (never the token). Both are refused for a revoked user (`user_revoked`), for
a row changed outside the ledger (`reference_not_as_versioned`), and when they would leave a
city without an active admin (`last_admin`).

A global admin stays a global admin: only its label changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from ledger.db import oplog, versions
from ledger.db import users as stored
from ledger.db.unit_of_work import Database
from ledger.db.users import User
from ledger.limits import user_label_length_max
from ledger.model import Role
from ledger.reference import ReferenceKind, user_content
from ledger.rules import Code, LedgerError, check_text
from ledger.services.users import (
    GLOBAL_ADMIN_LOCATION,
    check_place,
    checked_roles,
    described,
    get_user,
    new_token,
    refuse_last_admin,
    stored_user,
    token_digest,
)
from ledger.settings import office_today

UNSET = msgspec.UNSET
UnsetType = msgspec.UnsetType

# authorize(user as stored, path of the location it moves to or None): the caller's check that
# it may make the change (the API's: a city's admin manages its own city's users only); raises
# to refuse, inside the change's database transaction, before anything about the user or the
# place is looked at (a refusal must not tell another city's names).
Authorize = Callable[[User, str | None], Any]


class UserChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Change a user's roles, location or label. A field left out keeps its value.

    roles: every role the user is to hold at its location (its first role stays first while it
    is among them; otherwise the first listed becomes its first role).
    location_code: the location it moves to (in its city; every role allowed at its level).
    label: what the account is for, e.g. 金堂县仓库保管员 (vouchers name the user by it).
    """

    roles: tuple[str, ...] | UnsetType = UNSET
    location_code: str | UnsetType = UNSET
    label: str | UnsetType = UNSET


def change_user(
    database: Database,
    user_id: int,
    change: UserChange,
    actor: int | None = None,
    authorize: Authorize | None = None,
) -> User:
    """Write the user's next version with the change, and log it; a change that changes
    nothing writes nothing and answers the user as it is."""

    def work(store) -> None:
        check = None if authorize is None else lambda found: authorize(found, None)
        user = stored_user(store, user_id, check)
        label = user.label if change.label is UNSET else change.label
        check_text(label, "label", user_label_length_max)
        roles = _roles(user, change)
        if user.is_global:
            if roles != (Role.admin,) or change.location_code not in (UNSET, None):
                raise LedgerError(
                    Code.global_admin_only,
                    "全局管理员只能改名称：它不属于任何库点，也不兼任其他角色 "
                    "(a global admin changes only its label)",
                    "roles" if roles != (Role.admin,) else "location_code",
                )
            location = store.location(GLOBAL_ADMIN_LOCATION)
        else:
            code = user.location_code if change.location_code is UNSET else change.location_code
            location = store.location(code, "location_code")
            if not location.physical:  # belongs to no city: said before the city check
                check_place(roles, location)
            if authorize is not None and code != user.location_code:
                authorize(user, location.path)
            check_place(roles, location)
        current = user_content(user.label, user.role, user.location_code, user.roles)
        new = user_content(label, roles[0], location.location.code, roles)
        last = versions.history(store.connection, ReferenceKind.user, user_id)
        if not last or last[-1].content != current:
            raise LedgerError(
                Code.reference_not_as_versioned,
                f"用户 {user_id} 的当前资料与其最后一个版本不一致（被绕过版本直接修改过），"
                f"请先运行 ledger verify 查明 (the row differs from its last version)",
                "id",
            )
        if new == current:
            return
        keeps_admin = Role.admin in roles and location.path.startswith(
            "/" + oplog.root_code_of(user.location_path) + "/"
        )
        refuse_last_admin(store, user, keeps_admin)
        if label != user.label or location.location.code != user.location_code:
            stored.set_fields(store.connection, user_id, label=label, location_id=location.id)
        if set(roles) != user.roles or roles[0] != user.role:
            stored.set_roles(store.connection, user_id, roles[0], roles[1:])
        number = last[-1].version + 1
        versions.write(store, ReferenceKind.user, user_id, number, new, office_today(), actor)
        after = stored.user_by_id(store.connection, user_id)
        assert after is not None
        oplog.record(
            store,
            "user.change",
            "user",
            str(user_id),
            user_id=actor,
            before={"version": number - 1, **described(user)},
            after={"version": number, **described(after)},
            location_path=None if after.is_global else after.location_path,
        )

    database.write(work)
    user = get_user(database, user_id)
    assert user is not None
    return user


def _roles(user: User, change: UserChange) -> tuple[str, ...]:
    """The roles after the change, the first role first: the user's own while it keeps it."""
    if change.roles is UNSET:
        return (user.role, *sorted(user.roles - {user.role}))
    asked = checked_roles(change.roles)
    if user.role in asked:
        return (user.role, *(role for role in asked if role != user.role))
    return asked


def reset_token(
    database: Database,
    user_id: int,
    actor: int | None = None,
    authorize: Callable[[User], Any] | None = None,
) -> tuple[User, str]:
    """Give the user a new bearer token (returned once; only its hash is stored): the old one
    stops working (an API process forgets it at once when the reset is made through it; other
    processes within `token_cache_seconds`)."""
    token = new_token()

    def work(store) -> None:
        user = stored_user(store, user_id, authorize)
        stored.set_fields(store.connection, user_id, token_hash=token_digest(token))
        oplog.record(
            store,
            "user.reset_token",
            "user",
            str(user_id),
            user_id=actor,
            before=described(user),
            after={"token_reset": True},
            location_path=None if user.is_global else user.location_path,
        )

    database.write(work)
    user = get_user(database, user_id)
    assert user is not None
    return user, token
