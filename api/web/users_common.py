"""What the user pages share: the user an admin may manage, the places and roles its forms
offer, a form's errors beside its fields, and `once` without the form's secrets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from litestar import Request

from api.common import services_of
from api.policy import require_manages, scope_path
from api.web.render import errors_of, once
from ledger.model import Role
from ledger.rules import Code, LedgerError
from ledger.services import lookups
from ledger.services.users import ROLE_NAMES, ROLES, User, get_user

T = TypeVar("T")

ROLE_OPTIONS: tuple[tuple[str, str], ...] = tuple((role, ROLE_NAMES[role]) for role in ROLES)
SECRET_FIELDS = frozenset({"password", "confirm", "current_password"})
PLACES_MAX = 5000  # the places a select offers (a city has a few hundred)

# What a user page says after a change (?done=…): the change was made and the page shows it.
DONE: dict[str, str] = {
    "added": "已新建用户。",
    "changed": "已保存：角色、库点或名称的改动记为该用户的新版本。",
    "unchanged": "没有改动，未记新版本。",
    "login": "登录名已保存。",
    "password": "新密码已设置；该用户已登录的工作台都已退出，要用新密码重新登录。",
    "revoked": "已吊销：该用户的令牌和工作台登录都已失效。",
    "again": "这个表单已经提交过，没有重复办理。令牌和密码只显示一次；没有记下的，请再重置一次。",
}


def admin_of(request: Request) -> User:
    return request.user


def managed_user(request: Request, user_id: int) -> User:
    """The user, when the signed-in admin manages it (403 otherwise: another city's user or a
    global admin is named by nothing); unknown: `unknown_user` (404)."""
    user = get_user(services_of(request.app.state).database, user_id)
    if user is None:
        raise LedgerError(Code.unknown_user, f"没有编号为 {user_id} 的用户 (unknown user)", "id")
    require_manages(admin_of(request), user)
    return user


def place_options(request: Request) -> list[tuple[str, str]]:
    """The physical places in the admin's reach, in tree order, indented by depth:
    [(code, "　金堂县（510121）")]."""
    admin = admin_of(request)
    records = lookups.locations(
        services_of(request.app.state).database, scope_path(admin), None, False, PLACES_MAX, 0
    )
    return [
        (place.code, "　" * (place.path.count("/") - 2) + f"{place.name}（{place.code}）")
        for place in records
    ]


def place_text(user: User) -> str:
    if user.is_global:
        return "全部市（全局管理员）"
    return f"{user.location_name}（{user.location_code}）"


def held_roles(user: User) -> list[str]:
    """The user's roles in the usual order (admin, clerk, requester, approver, auditor)."""
    return [role for role in ROLES if user.has(role)]


def form_errors(error: LedgerError, fields: set[str]) -> dict[str, str]:
    """A refusal beside the field at fault: a role refused names `role` or `roles` (the form
    has one group of boxes, `roles`); a global admin's place refusal goes above the form."""
    if error.field == "role":
        error = LedgerError(error.code, error.message, "roles")
    return errors_of(error, fields)


def once_without_secrets(request: Request, form: dict[str, Any], work: Callable[[], T]) -> T:
    """`once`, claiming the form by what it holds except its passwords (a digest of a
    password could be tried against guesses): only whether each was given."""
    kept = {
        key: ("(given)" if value else "") if key in SECRET_FIELDS else value
        for key, value in form.items()
    }
    return once(request, kept, work)


def is_admin(user: User) -> bool:
    return user.has(Role.admin)
