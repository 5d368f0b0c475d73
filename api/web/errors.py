"""How a workspace page answers a refusal: in Chinese, as a page (or, to htmx, a fragment),
never as the API's JSON. A visitor who is not signed in is sent to the sign-in page and back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.types import ExceptionHandlersMap

from api.errors import log, status_of
from api.web.render import FIELD_NAMES, chinese
from ledger.rules import LedgerError

NOT_WEB = ("/api/", "/schema", "/health", "/static/")


def is_web(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(NOT_WEB) and path != "/schema"


def error_page(request: Request, status: int, heading: str, message: str, code: str = "") -> Any:
    user = request.scope.get("user")
    session = request.scope.get("auth")
    if request.headers.get("hx-request"):
        return Template(
            media_type=MediaType.HTML,
            template_name="_error_fragment.html",
            context={"message": message, "code": code},
            status_code=status,
        )
    from api.web.render import menu_of, roles_text

    return Template(
        media_type=MediaType.HTML,
        template_name="error.html",
        context={
            "title": heading,
            "heading": heading,
            "message": message,
            "code": code,
            "user": user if hasattr(user, "label") else None,
            "roles_text": roles_text(user) if hasattr(user, "roles") else "",
            "csrf": getattr(session, "csrf_token", None),
            "menu": menu_of(user) if hasattr(user, "roles") else [],
            "here": request.url.path,
        },
        status_code=status,
    )


def on_web_error(request: Request, error: Exception) -> Any:
    if isinstance(error, NotAuthorizedException):
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        where = "/?next=" + quote(target, safe="/")
        if request.headers.get("hx-request"):
            return Response(b"", status_code=200, headers={"HX-Redirect": where})
        return Redirect(path=where, status_code=303)
    if isinstance(error, LedgerError):
        return error_page(
            request, status_of(error), "无法办理", chinese(error.message), str(error.code)
        )
    if isinstance(error, PermissionDeniedException):
        detail = chinese(error.detail or "") or "您的角色或所在单位无权查看或办理这一项。"
        return error_page(request, 403, "无权操作", detail, "forbidden")
    if isinstance(error, NotFoundException):
        return error_page(
            request, 404, "没有这个页面", "地址有误，或者要找的单据不存在。", "not_found"
        )
    if isinstance(error, ValidationException):
        fields = "、".join(
            FIELD_NAMES.get(str(item.get("key")), str(item.get("key")))
            for item in (error.extra if isinstance(error.extra, list) else [])
            if isinstance(item, dict) and item.get("key")
        )
        return error_page(
            request,
            400,
            "请求有误",
            f"地址或表单中的参数有误{('：' + fields) if fields else ''}。请从页面上的链接或表单进入，"
            "按提示填写。",
            "invalid_request",
        )
    if isinstance(error, HTTPException):
        if error.status_code == 413:
            return error_page(request, 413, "提交的内容过大", "提交的内容过大，请分几次提交。")
        if error.status_code == 405:
            return error_page(request, 405, "不能这样打开", "这个地址不能这样打开，请从菜单进入。")
        return error_page(request, error.status_code, "请求有误", chinese(error.detail or ""))
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return error_page(request, 500, "系统出错", "系统内部出错，已记录；请稍后再试或联系管理员。")


def with_web_pages(handlers: ExceptionHandlersMap) -> ExceptionHandlersMap:
    """The app's handlers, answering workspace pages with pages and the API with problems."""

    def wrap(api_handler: Callable) -> Callable:
        def handler(request: Request, error: Exception) -> Any:
            if is_web(request):
                return on_web_error(request, error)
            return api_handler(request, error)

        return handler

    return {kind: wrap(api_handler) for kind, api_handler in handlers.items()}
