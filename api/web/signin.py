"""Signing in and out of the workspace, and `/`: the sign-in page for a visitor, the home page
(首页) for a signed-in user.

The sign-in form carries a CSRF token of its own: a random value set as a cookie when the page
is shown and sent back in the form (a page of another site can read neither). The session
cookie is HttpOnly, SameSite=Lax and, over HTTPS, Secure."""

from __future__ import annotations

import secrets
from typing import Any

import anyio
from litestar import MediaType, Request, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect, Response, Template

from api.auth import CSRF_FIELD, SESSION_COOKIE
from api.web.render import Form, chinese
from ledger.rules import Code, LedgerError
from ledger.services.web_sign_in import Session, session_of, sign_in, sign_out

PRE_CSRF_COOKIE = "ledger_sign_in"


def local_path(value: str | None) -> str:
    """Where to go after signing in: a path of this site only (never //other.host)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def sign_in_page(
    request: Request,
    error: str = "",
    login: str = "",
    status_code: int = 200,
    notice: str = "",
    next_path: str | None = None,
) -> Template:
    token = secrets.token_urlsafe(24)
    return Template(
        media_type=MediaType.HTML,
        template_name="sign_in.html",
        context={
            "title": "登录",
            "user": None,
            "csrf": None,
            "pre_csrf": token,
            "next": local_path(next_path or request.query_params.get("next")),
            "error": error,
            "notice": notice,
            "login": login,
        },
        status_code=status_code,
        cookies=[
            Cookie(
                key=PRE_CSRF_COOKIE,
                value=token,
                httponly=True,
                samesite="strict",
                secure=secure(request),
                path="/sign-in",
            )
        ],
    )


@get("/", include_in_schema=False, sync_to_thread=True)
def root(request: Request) -> Any:
    """The home page for a signed-in user; the sign-in page otherwise."""
    settings = request.app.state.settings
    cookie = request.cookies.get(SESSION_COOKIE)
    session = (
        session_of(request.app.state.database, cookie, settings.session_idle_minutes)
        if cookie
        else None
    )
    if session is None:
        notice = "已退出，或长时间未操作已自动退出，请重新登录。" if cookie else ""
        return sign_in_page(request, notice=notice)
    request.scope["user"] = session.user
    request.scope["auth"] = session
    from api.web.home import home_page

    return home_page(request)


@post("/sign-in", include_in_schema=False, status_code=303)
async def do_sign_in(request: Request, data: Form) -> Any:
    login = str(data.get("login", ""))[:200]
    next_path = str(data.get("next", ""))
    sent = data.get(CSRF_FIELD)
    expected = request.cookies.get(PRE_CSRF_COOKIE)
    if not isinstance(sent, str) or not expected or not secrets.compare_digest(sent, expected):
        return sign_in_page(
            request, "登录页已过期，请再输入一次登录名和密码。", login, 403, next_path=next_path
        )
    client = request.client.host if request.client else "unknown"
    try:
        signed = await anyio.to_thread.run_sync(
            sign_in, request.app.state.database, login, str(data.get("password", "")), client
        )
    except LedgerError as error:
        status = 429 if error.code == Code.sign_in_locked else 401
        return sign_in_page(request, chinese(error.message), login, status, next_path=next_path)
    response = Redirect(path=local_path(next_path), status_code=303)
    set_session_cookie(response, request, signed.cookie)
    response.delete_cookie(PRE_CSRF_COOKIE, path="/sign-in")
    return response


def set_session_cookie(response: Response, request: Request, cookie: str) -> None:
    """The session's cookie as every sign-in sets it: HttpOnly, SameSite=Lax, the whole site,
    Secure over HTTPS."""
    response.set_cookie(
        SESSION_COOKIE, cookie, httponly=True, samesite="lax", secure=secure(request), path="/"
    )


@post("/sign-out", include_in_schema=False, status_code=303, sync_to_thread=True)
def do_sign_out(request: Request) -> Response:
    session: Session = request.auth
    sign_out(request.app.state.database, session)
    response = Redirect(path="/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
