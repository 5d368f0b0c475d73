"""用户: admins list their users (by place, role, state), add one (roles, place, login name,
first password or a generated one shown once), and open a user's page (api/web/users_actions.py:
change, login name, password, token, revoke). `/account` (api/web/account.py) is every
signed-in user's own page. Only admins reach `/users`; a city's admin sees and changes its
city's users only (api/policy.py, the same rules as `/api/v1/users`)."""

from __future__ import annotations

from typing import Any

import anyio
import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from api.common import services_of
from api.errors import status_of
from api.policy import require_may_add_user, roles, scope_path
from api.web.account import HANDLERS as ACCOUNT_PAGES
from api.web.render import new_once_key, page
from api.web.users_actions import HANDLERS as ACTIONS
from api.web.users_actions import detail
from api.web.users_common import (
    DONE,
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
from ledger.services.lookups import UserFilter
from ledger.services.user_passwords import add_user_with_sign_in, new_password
from ledger.services.users import ROLES, find_users

PAGE_SIZE = 50
ACTIVE = {"1": True, "0": False, "": None}
ADD_FIELDS = {"label", "roles", "location_code", "login", "password", "global_admin"}


@get("/users", include_in_schema=False, guards=[roles()], sync_to_thread=True)
def users_page(
    request: Request,
    location: FromQuery[str] = "",
    role: FromQuery[str] = "",
    active: FromQuery[str] = "1",
    offset: FromQuery[int] = 0,
) -> Template:
    """The users in the admin's reach, filtered by place (at it or below), role and state."""
    admin = admin_of(request)
    services = services_of(request.app.state)
    where = UserFilter(
        scope=scope_path(admin),
        role=role if role in ROLES else None,
        active=ACTIVE.get(active),
    )
    if location:
        entry = services.visible_location(admin, location, "location")
        where = msgspec.structs.replace(where, under=entry.path)
    offset = max(offset, 0)
    rows = find_users(services.database, where, PAGE_SIZE + 1, offset)
    return page(
        request,
        "users_list.html",
        "用户",
        users=rows[:PAGE_SIZE],
        more=len(rows) > PAGE_SIZE,
        offset=offset,
        page_size=PAGE_SIZE,
        filters={"location": location, "role": role, "active": active},
        places=place_options(request),
        role_options=ROLE_OPTIONS,
        held_roles=held_roles,
        place_text=place_text,
    )


@get("/users/new", include_in_schema=False, guards=[roles()], sync_to_thread=True)
def new_user_page(request: Request) -> Template:
    return _new_form(request, {}, {}, [])


def _new_form(
    request: Request, values: dict, errors: dict, chosen: list[str], status: int = 200
) -> Template:
    answer = page(
        request,
        "users_new.html",
        "新建用户",
        values=values,
        chosen=chosen,
        errors=errors,
        places=place_options(request),
        role_options=ROLE_OPTIONS,
        once_key=new_once_key(),
        may_add_global=admin_of(request).is_global,
    )
    answer.status_code = status
    return answer


@post("/users/new", include_in_schema=False, guards=[roles()])
async def add_user_form(request: Request) -> Any:
    form = await request.form()
    values = {
        key: str(form.get(key, "")).strip()
        for key in ("label", "location_code", "login", "global_admin", "once")
    }
    values["password"] = str(form.get("password", ""))
    chosen = [role for role in form.getall("roles", []) if isinstance(role, str)]
    return await anyio.to_thread.run_sync(_add, request, values, chosen)


def _add(request: Request, values: dict, chosen: list[str]) -> Any:
    admin = admin_of(request)
    services = services_of(request.app.state)
    global_admin = values["global_admin"] == "1"
    location_code = None if global_admin else values["location_code"] or None
    login = values["login"] or None
    password = values["password"] or None
    generated = new_password() if login and password is None else None
    shown: dict[str, str] = {}

    def work() -> dict:
        user, token = add_user_with_sign_in(
            services.database,
            values["label"],
            chosen,
            location_code,
            login,
            password or generated,
            actor=admin.id,
            global_admin=global_admin,
        )
        shown.update(token=token, password=generated or "")
        return {"id": user.id}

    try:
        if not global_admin and location_code is None:
            raise LedgerError(
                Code.invalid_field, "请选择库点 (a place is required)", "location_code"
            )
        require_may_add_user(admin, global_admin, location_code, services.location)
        done = once_without_secrets(request, {**values, "roles": ",".join(chosen)}, work)
    except LedgerError as error:
        errors = form_errors(error, ADD_FIELDS)
        kept = {**values, "password": ""}
        return _new_form(request, kept, errors, chosen, status_of(error))
    if not shown:  # the same form again: nothing added, and secrets are shown only once
        return Redirect(path=f"/users/{done['id']}?done=again", status_code=303)
    user = managed_user(request, done["id"])
    return page(
        request,
        "users_secret.html",
        "已新建用户",
        shown_user=user,
        heading="已新建用户",
        token=shown["token"],
        password=shown["password"],
        place_text=place_text,
        held_roles=held_roles,
    )


@get("/users/{user_id:int}", include_in_schema=False, guards=[roles()], sync_to_thread=True)
def user_page(request: Request, user_id: FromPath[int], done: FromQuery[str] = "") -> Template:
    user = managed_user(request, user_id)
    return detail(request, user, {}, notice=DONE.get(done, ""))


HANDLERS: list = [
    users_page,
    new_user_page,
    add_user_form,
    user_page,
    *ACTIONS,
    *ACCOUNT_PAGES,
]
