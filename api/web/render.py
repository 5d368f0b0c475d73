"""What every page shares: the signed-in user, its CSRF token, the menu its roles see, and
Chinese names for what the ledger stores in English (roles, states, levels)."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import MediaType, Request
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from api.errors import status_of
from ledger.model import Role
from ledger.rules import Code, LedgerError
from ledger.services.exactly_once import Answer, exactly_once
from ledger.services.users import ROLE_NAMES, User
from ledger.services.web_sign_in import Session

T = TypeVar("T")

# A page's form as its handler takes it: `data: Form` (values are text; a repeated name keeps
# its last value; use `await request.form()` and `.getall(name)` for lists).
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

# (path, 中文, roles that see it; empty: everybody)
MENU: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("/", "首页", frozenset()),
    ("/stock", "库存", frozenset()),
    ("/requests", "申领", frozenset()),
    ("/plans", "分配方案", frozenset({Role.clerk, Role.approver})),
    ("/print-plans", "印制计划", frozenset({Role.clerk, Role.approver})),
    ("/movements", "出入库", frozenset({Role.clerk})),
    ("/scan", "扫码", frozenset({Role.clerk, Role.requester})),
    ("/stocktakes", "盘点", frozenset({Role.clerk, Role.auditor})),
    ("/reports", "报表", frozenset()),
    ("/vouchers", "凭证", frozenset()),
    ("/audit", "审计", frozenset({Role.auditor})),
    ("/users", "用户", frozenset({Role.admin})),
    ("/norms", "库存定额", frozenset({Role.admin})),
    ("/schema", "API 文档", frozenset()),
)


# The English gloss the API's messages end with: "… 已吊销 (the user is revoked)".
# The English glosses of the API's messages, wherever they stand: "… 已吊销 (the user is
# revoked)", "数量必须大于零 (quantity must be positive): -3".
_GLOSS = re.compile(r"\s*\([A-Za-z][^()\u4e00-\u9fff]*\)")
# A message that starts with the field's code ("memo 过长：…") names the field in Chinese.
_LEADING_FIELD = re.compile(r"^([a-z_]+)(?:\[\d+\])?(?:\.([a-z_]+))?(?= )")
FIELD_NAMES: dict[str, str] = {
    "memo": "摘要",
    "reason": "原因",
    "note": "说明",
    "label": "名称",
    "login": "登录名",
    "password": "密码",
    "quantity": "数量",
    "payload": "标签内容",
    "batch_number": "批次",
    "item_code": "物资",
    "location_code": "库点",
    "name": "名称",
    "code": "编码",
    "category": "类别",
    "unit": "单位",
    "occurred_on": "业务日期",
    "expires_on": "有效期至",
    "lines": "明细",
}


def chinese(message: str) -> str:
    """A refusal's message as a page shows it: the Chinese, without the English glosses, and
    a field named by its code at the start named in Chinese ("memo 过长" → "摘要 过长")."""
    text = _GLOSS.sub("", message).strip()

    def field(found: re.Match) -> str:
        name = found.group(2) or found.group(1)
        return FIELD_NAMES.get(name, found.group(0))

    return _LEADING_FIELD.sub(field, text) or message


def new_once_key() -> str:
    """The hidden `once` field of a form that changes the ledger: a double click, a reload
    or a retry of the same form does the work once (`once`)."""
    return uuid.uuid4().hex


def once(request: Request, form: dict[str, Any], work: Callable[[], T]) -> T:
    """Run `work` once per form: the form's `once` key (from `new_once_key`) claims the work
    for this user, and a form sent again with the same key and the same content gets the
    first answer (its JSON-encoded result, or the same refusal as a LedgerError) without the
    work being done twice; the same key with other content is refused
    (`idempotency_key_reused`). Re-render a refused form with a new key. Without a key the
    work simply runs. The result must be JSON-encodable (a voucher's number, a path)."""
    key = form.get("once")
    if not isinstance(key, str) or not key:
        return work()
    user: User = request.user
    content = sorted((k, str(v)) for k, v in form.items() if k not in ("_csrf", "once"))
    digest = hashlib.sha256(
        f"{request.method} {request.url.path}\n".encode() + msgspec.json.encode(content)
    ).hexdigest()
    try:
        answer = exactly_once(
            request.app.state.database, user.id, f"web:{key}", digest, work, 200, _refusal
        )
    except LedgerError as error:
        raise once_refused(error) from None
    decoded = msgspec.json.decode(answer.body)
    if answer.status_code >= 400:
        raise LedgerError(Code(decoded["code"]), decoded["detail"], decoded.get("field"))
    return decoded


def once_refused(error: LedgerError) -> LedgerError:
    """A form sent again with its first key but other content: said as a clerk would."""
    if error.code == Code.idempotency_key_reused:
        return LedgerError(
            error.code,
            "这张表单已经提交过；要再办一笔，请重新打开表单填写 (form already sent)",
        )
    return error


def _refusal(error: LedgerError) -> Answer:
    body = {"code": str(error.code), "detail": error.message, "field": error.field}
    return Answer(status_of(error), msgspec.json.encode(body))


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
