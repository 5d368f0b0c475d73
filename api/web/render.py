"""What every page shares: the signed-in user, its CSRF token, the menu its roles see, and
Chinese names for what the ledger stores in English (roles, states, levels)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import MediaType, Request
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from ledger.model import Role
from ledger.rules import LedgerError
from ledger.services.users import ROLE_NAMES, User
from ledger.services.web_sign_in import Session

# A page's form as its handler takes it: `data: Form` (values are text; a repeated name keeps
# its last value; use `await request.form()` and `.getall(name)` for lists).
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

# (path, 中文, roles that see it; empty: everybody)
MENU: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("/", "首页", frozenset()),
    ("/stock", "库存", frozenset()),
    ("/requests", "申领", frozenset()),
    ("/plans", "分配方案", frozenset({Role.clerk, Role.approver})),
    ("/movements", "出入库", frozenset({Role.clerk})),
    ("/scan", "扫码", frozenset({Role.clerk, Role.requester})),
    ("/stocktakes", "盘点", frozenset({Role.clerk, Role.auditor})),
    ("/reports", "报表", frozenset()),
    ("/vouchers", "凭证", frozenset()),
    ("/audit", "审计", frozenset({Role.auditor})),
    ("/users", "用户", frozenset({Role.admin})),
    ("/schema", "API 文档", frozenset()),
)


# The English gloss the API's messages end with: "… 已吊销 (the user is revoked)".
_GLOSS = re.compile(r"\s*\([A-Za-z][^()\u4e00-\u9fff]*\)\s*$")


def chinese(message: str) -> str:
    """A refusal's message as a page shows it: the Chinese, without the English gloss."""
    return _GLOSS.sub("", message).strip() or message


def errors_of(error: LedgerError, fields: set[str] | frozenset[str] = frozenset()) -> dict:
    """A refusal as a form shows it: {field: message} beside the field at fault when the form
    has that field, else {"": message} above the form."""
    key = error.field if error.field in fields else ""
    return {key: chinese(error.message)}


def menu_of(user: User) -> list[tuple[str, str]]:
    """The menu the user's roles see (an admin sees everything)."""
    return [
        (path, name)
        for path, name, roles in MENU
        if not roles or user.has(Role.admin) or any(user.has(role) for role in roles)
    ]


def roles_text(user: User) -> str:
    return "、".join(ROLE_NAMES[role] for role in sorted(user.roles, key=list(ROLE_NAMES).index))


def page(request: Request, template: str, title: str, **context: Any) -> Template:
    """A workspace page for the signed-in user: base.html's menu, who is signed in, and the
    CSRF token every form and htmx request carries."""
    session: Session = request.auth
    user: User = request.user
    return Template(
        media_type=MediaType.HTML,
        template_name=template,
        context={
            "title": title,
            "user": user,
            "roles_text": roles_text(user),
            "csrf": session.csrf_token,
            "menu": menu_of(user),
            "here": request.url.path,
            **context,
        },
    )
