"""我的账号 (`/account`): every signed-in user's own page — its label, place, roles and login
name, and changing its password with the current one (ledger.services.web_sign_in.
change_own_password, as `POST /api/v1/me/password`). A new password ends every session of the
user; this browser is signed in again with it at once (a new session cookie and CSRF token)."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from api.common import services_of
from api.errors import status_of
from api.web.render import Form, errors_of, new_once_key, page
from api.web.signin import set_session_cookie
from api.web.users_common import held_roles, once_without_secrets, place_text
from ledger.rules import Code, LedgerError
from ledger.services.users import User
from ledger.services.web_sign_in import (
    change_own_password,
    check_own_password,
    check_password,
    sign_in,
)

PASSWORD_FIELDS = {"current_password", "password", "confirm"}
DONE = {"password": "密码已修改。其他地方登录的工作台都已退出，要用新密码重新登录。"}


def account_page(
    request: Request, errors: dict[str, str], notice: str = "", status: int = 200
) -> Template:
    answer = page(
        request,
        "users_account.html",
        "我的账号",
        errors=errors,
        notice=notice,
        once_key=new_once_key(),
        held_roles=held_roles,
        place_text=place_text,
    )
    answer.status_code = status
    return answer


@get("/account", include_in_schema=False, sync_to_thread=True)
def account(request: Request, done: FromQuery[str] = "") -> Template:
    return account_page(request, {}, DONE.get(done, ""))


@post("/account/password", include_in_schema=False)
async def password_form(request: Request, data: Form) -> Any:
    user: User = request.user
    current = str(data.get("current_password", ""))
    new = str(data.get("password", ""))
    client = request.client.host if request.client else "unknown"
    database = services_of(request.app.state).database

    def work() -> int:
        change_own_password(database, user.id, current, new, client)
        return user.id

    try:
        if new != str(data.get("confirm", "")):
            raise LedgerError(
                Code.invalid_field, "两次输入的新密码不一样 (the passwords differ)", "confirm"
            )
        check_password(new)
        # checked before `once`: a wrong one is counted (and logged) outside the form's
        # transaction, which a refusal rolls back
        await anyio.to_thread.run_sync(check_own_password, database, user.id, current, client)
        await anyio.to_thread.run_sync(once_without_secrets, request, data, work)
    except LedgerError as error:
        errors = errors_of(error, PASSWORD_FIELDS)
        return account_page(request, errors, status=status_of(error))
    response = Redirect(path="/account?done=password", status_code=303)
    login = user.login or ""
    try:  # this browser goes on with a new session, the old one ended with the others
        signed = await anyio.to_thread.run_sync(sign_in, database, login, new, client)
    except LedgerError:
        return response  # (changed again meanwhile): sign in anew
    set_session_cookie(response, request, signed.cookie)
    return response


HANDLERS: list = [account, password_form]
