"""A user's page and what an admin does there: change its roles, place or label (a new
version), set its login name, set or generate a new password (a generated one is shown once),
reset its API token (shown once), revoke it after a confirm step. The same use cases and
rules of reach as `/api/v1/users` (ledger.services.user_changes, users, web_sign_in;
api.policy.require_manages); each form runs once (`once`)."""

from __future__ import annotations

from typing import Any

import anyio
import msgspec
from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.auth import forget_user
from api.common import services_of
from api.errors import status_of
from api.policy import require_manages, roles
from api.web.render import Form, new_once_key, page
from api.web.users_common import (
    ROLE_OPTIONS,
    admin_of,
    form_errors,
    held_roles,
    managed_user,
    once_without_secrets,
    place_options,
    place_text,
)
from ledger.rules import Code, LedgerError
from ledger.services.user_changes import UserChange, change_user, reset_token
from ledger.services.user_passwords import new_password
from ledger.services.users import User, revoke_user
from ledger.services.web_sign_in import set_sign_in

CHANGE_FIELDS = {"label", "roles", "location_code"}


def detail(
    request: Request,
    user: User,
    errors: dict[str, dict[str, str]],
    notice: str = "",
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    """The user's page; errors: {form: {field: message}} (forms: change, login, password,
    token, revoke); values: what the form at fault held."""
    answer = page(
        request,
        "users_detail.html",
        f"用户 {user.label}",
        shown_user=user,
        errors=errors,
        notice=notice,
        values=values or {},
        chosen=(values or {}).get("roles") or held_roles(user),
        places=[] if user.is_global else place_options(request),
        role_options=ROLE_OPTIONS,
        held_roles=held_roles,
        place_text=place_text,
        once_key=new_once_key,
    )
    answer.status_code = status
    return answer


def _refused(request: Request, user_id: int, form: str, error: LedgerError, fields, values=None):
    user = managed_user(request, user_id)
    errors = {form: form_errors(error, set(fields))}
    return detail(request, user, errors, values=values, status=status_of(error))


def _done(user_id: int, what: str) -> Redirect:
    return Redirect(path=f"/users/{user_id}?done={what}", status_code=303)


@post("/users/{user_id:int}", include_in_schema=False, guards=[roles()])
async def change_form(request: Request, user_id: FromPath[int]) -> Any:
    form = await request.form()
    values = {key: str(form.get(key, "")).strip() for key in ("label", "location_code", "once")}
    chosen = [role for role in form.getall("roles", []) if isinstance(role, str)]
    return await anyio.to_thread.run_sync(_change, request, user_id, values, chosen)


def _change(request: Request, user_id: int, values: dict, chosen: list[str]) -> Any:
    admin = admin_of(request)
    state = request.app.state
    before = managed_user(request, user_id)
    change = UserChange(
        roles=msgspec.UNSET if before.is_global else tuple(chosen),
        location_code=msgspec.UNSET if before.is_global else values["location_code"],
        label=values["label"],
    )

    def work() -> bool:
        after = change_user(
            services_of(state).database,
            user_id,
            change,
            actor=admin.id,
            authorize=lambda user, moves_to: require_manages(admin, user, moves_to),
        )
        return after != before

    try:
        changed = once_without_secrets(request, {**values, "roles": ",".join(chosen)}, work)
    except LedgerError as error:
        kept = {**values, "roles": chosen}
        return _refused(request, user_id, "change", error, CHANGE_FIELDS, kept)
    finally:
        forget_user(state, user_id)
    return _done(user_id, "changed" if changed else "unchanged")


@post("/users/{user_id:int}/login", include_in_schema=False, guards=[roles()], sync_to_thread=True)
def login_form(request: Request, user_id: FromPath[int], data: Form) -> Any:
    admin = admin_of(request)
    login = str(data.get("login", "")).strip()

    def work() -> int:
        set_sign_in(
            services_of(request.app.state).database,
            user_id,
            login,
            None,
            actor=admin.id,
            authorize=lambda user: require_manages(admin, user),
        )
        return user_id

    try:
        once_without_secrets(request, data, work)
    except LedgerError as error:
        return _refused(request, user_id, "login", error, {"login"}, {"login": login})
    return _done(user_id, "login")


@post(
    "/users/{user_id:int}/password", include_in_schema=False, guards=[roles()], sync_to_thread=True
)
def password_form(request: Request, user_id: FromPath[int], data: Form) -> Any:
    """A password typed by the admin, or (the `generate` button) one made here and shown
    once."""
    admin = admin_of(request)
    user = managed_user(request, user_id)
    generate = data.get("generate") == "1"
    typed = str(data.get("password", ""))
    password = new_password() if generate else typed
    done_now: list[bool] = []

    def work() -> int:
        set_sign_in(
            services_of(request.app.state).database,
            user_id,
            None,
            password,
            actor=admin.id,
            authorize=lambda found: require_manages(admin, found),
        )
        done_now.append(True)
        return user_id

    try:
        if not user.login:
            raise LedgerError(
                Code.invalid_field,
                "请先给该用户设登录名，再设密码 (set a login name first)",
                "login",
            )
        once_without_secrets(request, dict(data), work)
    except LedgerError as error:
        form = "login" if error.field == "login" else "password"
        return _refused(request, user_id, form, error, {"password", "login"})
    if not done_now:
        return _done(user_id, "again")
    if not generate:
        return _done(user_id, "password")
    return _secret(request, user_id, "已生成新密码", password=password)


@post("/users/{user_id:int}/token", include_in_schema=False, guards=[roles()], sync_to_thread=True)
def token_form(request: Request, user_id: FromPath[int], data: Form) -> Any:
    admin = admin_of(request)
    state = request.app.state
    shown: list[str] = []

    def work() -> int:
        _, token = reset_token(
            services_of(state).database,
            user_id,
            actor=admin.id,
            authorize=lambda user: require_manages(admin, user),
        )
        shown.append(token)
        return user_id

    try:
        once_without_secrets(request, data, work)
    except LedgerError as error:
        return _refused(request, user_id, "token", error, set())
    finally:
        forget_user(state, user_id)
    if not shown:
        return _done(user_id, "again")
    return _secret(request, user_id, "已重置令牌", token=shown[0])


def _secret(request: Request, user_id: int, heading: str, **shown: str) -> Template:
    """A secret shown this once (the page is not cached; a reload does nothing again)."""
    user = managed_user(request, user_id)
    return page(
        request,
        "users_secret.html",
        heading,
        heading=heading,
        shown_user=user,
        token=shown.get("token", ""),
        password=shown.get("password", ""),
        place_text=place_text,
        held_roles=held_roles,
    )


@get("/users/{user_id:int}/revoke", include_in_schema=False, guards=[roles()], sync_to_thread=True)
def revoke_page(request: Request, user_id: FromPath[int]) -> Template:
    """The confirm step before revoking."""
    user = managed_user(request, user_id)
    return page(
        request,
        "users_revoke.html",
        f"吊销用户 {user.label}",
        shown_user=user,
        errors={},
        once_key=new_once_key(),
        place_text=place_text,
        held_roles=held_roles,
    )


@post("/users/{user_id:int}/revoke", include_in_schema=False, guards=[roles()], sync_to_thread=True)
def revoke_form(request: Request, user_id: FromPath[int], data: Form) -> Any:
    admin = admin_of(request)
    state = request.app.state

    def work() -> int:
        revoke_user(
            services_of(state).database,
            user_id,
            actor=admin.id,
            authorize=lambda user: require_manages(admin, user),
        )
        return user_id

    try:
        once_without_secrets(request, data, work)
    except LedgerError as error:
        user = managed_user(request, user_id)
        answer = page(
            request,
            "users_revoke.html",
            f"吊销用户 {user.label}",
            shown_user=user,
            errors=form_errors(error, set()),
            once_key=new_once_key(),
            place_text=place_text,
            held_roles=held_roles,
        )
        answer.status_code = status_of(error)
        return answer
    finally:
        forget_user(state, user_id)
    return _done(user_id, "revoked")


HANDLERS: list = [
    change_form,
    login_form,
    password_form,
    token_form,
    revoke_page,
    revoke_form,
]
