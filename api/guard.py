"""What a request may carry, checked before any handler runs: no input breaks the server.

Two ASGI middlewares around every route:

- `HeaderGuard` (outermost, before authentication): no header, path or query parameter holds a
  NUL (PostgreSQL refuses it in text); no path or query parameter holds more text than
  `request_text_length_max` (a header's size is bounded by the HTTP server, and the headers the
  ledger reads have their own limits: the bearer token, the 200-character Idempotency-Key); date
  parameters lie between `date_min` and `date_max`; integer parameters fit 32 bits.
- `BodyGuard` (after authentication): a non-empty body is `application/json`, UTF-8, valid JSON,
  nested at most `request_depth_max` deep, with no array longer than `request_array_length_max`,
  no string longer than `request_text_length_max` or holding a NUL, and no integer beyond
  `integer_magnitude_max`. A route that takes a body then decodes it *strictly* into its type:
  integers must be JSON integers (`"10"`, `10.0` and `1e3` are refused, where Litestar's own
  decoding would coerce them), and every date in it lies in the ledger's window.

The body's size is bounded by Litestar's `request_max_body_size` (`request_body_bytes_max`),
which also applies when this module reads the body. A route that takes a spreadsheet
(`opt={"file_upload": True}`: POST /imports/{kind}) has a larger limit of its own
(`import_file_bytes_max`) for a file's body only (multipart/form-data, text/csv, XLSX); any
other body sent to it is held to `request_body_bytes_max` and the JSON checks, then refused.
Litestar caches the body it read, so the handler decodes the same bytes again without reading
the connection twice.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import msgspec
from litestar import Request
from litestar.enums import ScopeType
from litestar.handlers import HTTPRouteHandler
from litestar.params import BodyKwarg, ParameterKwarg
from litestar.types import ASGIApp, Receive, Scope, Send

from api.auth import CSRF_EXPECTED, CSRF_FIELD, check_csrf_token
from ledger.limits import (
    integer_magnitude_max,
    request_array_length_max,
    request_body_bytes_max,
    request_depth_max,
    request_text_length_max,
)
from ledger.rules import Code, LedgerError, check_date

JSON_MEDIA_TYPE = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")
INTEGER = re.compile(r"[+-]?[0-9]+")  # a decimal integer (lax decoding would take 1e3, 10.0)
ERROR_PATH = re.compile(r" - at `\$\.?(.*)`$")


class HeaderGuard:
    """Headers, path and query parameters (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            check_headers(scope)
            handler = scope.get("route_handler")
            if isinstance(handler, HTTPRouteHandler):
                request: Request[Any, Any, Any] = Request(scope, receive)
                check_parameters(handler, request)
        await self.app(scope, receive, send)


class BodyGuard:
    """The body (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            handler = scope.get("route_handler")
            if isinstance(handler, HTTPRouteHandler):
                request: Request[Any, Any, Any] = Request(scope, receive)
                body = await request.body()
                expected = scope["state"].get(CSRF_EXPECTED)
                if expected is not None:  # a page's form, sent with a session (api/auth.py)
                    form = await check_form(request) if body else {}
                    check_csrf_token(form.get(CSRF_FIELD), expected)
                elif body:
                    if handler.opt.get("web"):
                        await check_form(request)
                    elif handler.opt.get("file_upload"):
                        check_upload(handler, request, body)
                    else:
                        check_body(handler, request, body)
        await self.app(scope, receive, send)


# ---- headers and parameters -------------------------------------------------------------------


def check_headers(scope: Scope) -> None:
    for name, value in scope.get("headers", ()):
        if b"\x00" in value:
            raise LedgerError(
                Code.invalid_character,
                "请求头不能含有 NUL 字符 (a header holds a NUL character)",
                name.decode("latin-1"),
            )


def check_parameters(handler: HTTPRouteHandler, request: Request) -> None:
    for name, value in request.path_params.items():
        if isinstance(value, str):
            check_text(value, name)
        elif isinstance(value, int) and not isinstance(value, bool):
            check_integer(value, name)
    query = request.query_params
    for name in query:
        check_text(name, name)
        for value in query.getall(name):
            check_text(value, name)
    for name, kind in typed_parameters(handler).items():
        for value in query.getall(name, []):
            if kind is dt.date:
                try:
                    day = dt.date.fromisoformat(value)
                except ValueError:
                    continue  # not a date: the handler's own decoding refuses it
                check_date(day, name)
            elif INTEGER.fullmatch(value) is None:
                raise LedgerError(
                    Code.integer_required,
                    f"{name} 必须是整数，不能是小数或指数写法 (an integer is required): {value!r}",
                    name,
                )
            else:
                check_integer(int(value), name)


_TYPED: dict[Any, dict[str, type]] = {}  # by the handler's function (apps copy handlers)


def typed_parameters(handler: HTTPRouteHandler) -> dict[str, type]:
    """The handler's query parameters that are dates or integers, by their name in the query."""
    found = _TYPED.get(handler.fn)
    if found is None:
        found = {}
        for field_name, field in handler.parsed_fn_signature.parameters.items():
            definition = field.kwarg_definition
            if isinstance(definition, BodyKwarg) or field_name in ("data", "request", "state"):
                continue
            if isinstance(definition, ParameterKwarg) and (definition.header or definition.cookie):
                continue
            name = (definition.query if isinstance(definition, ParameterKwarg) else None) or (
                field_name
            )
            for kind in (dt.date, int):
                candidates = (field, *field.inner_types)
                if any(c.is_subclass_of(kind) and not c.is_subclass_of(bool) for c in candidates):
                    found[name] = kind
        _TYPED[handler.fn] = found
    return found


def check_text(value: str, field: str) -> None:
    if "\x00" in value:
        raise LedgerError(
            Code.invalid_character, f"{field} 不能含有 NUL 字符 (text holds a NUL character)", field
        )
    if len(value) > request_text_length_max:
        raise LedgerError(
            Code.text_too_long,
            f"{field} 过长：{len(value)} 个字符，最多 {request_text_length_max} "
            f"(text above {request_text_length_max} characters)",
            field,
        )


def check_integer(value: int, field: str) -> None:
    if not -integer_magnitude_max <= value <= integer_magnitude_max:
        raise LedgerError(
            Code.integer_out_of_range,
            f"{field} 超出范围 ±{integer_magnitude_max} (integer out of range): {value}",
            field,
        )


# ---- the body ---------------------------------------------------------------------------------


def check_body(handler: HTTPRouteHandler, request: Request, body: bytes) -> None:
    media_type, options = request.content_type
    charset = options.get("charset", "utf-8").lower()
    if not JSON_MEDIA_TYPE.match(media_type.lower()) or charset not in ("utf-8", "utf8"):
        raise LedgerError(
            Code.unsupported_media_type,
            f"请求体必须是 application/json (UTF-8)，收到 {media_type or '无类型'} "
            "(the body must be application/json)",
        )
    try:
        value = msgspec.json.decode(body)
    except UnicodeDecodeError:
        raise LedgerError(
            Code.invalid_encoding, "请求体不是有效的 UTF-8 文本 (the body is not valid UTF-8)"
        ) from None
    except RecursionError:
        raise too_deep() from None
    except msgspec.DecodeError as error:
        if "utf-8" in str(error).lower():
            raise LedgerError(
                Code.invalid_encoding, "请求体不是有效的 UTF-8 文本 (the body is not valid UTF-8)"
            ) from None
        raise LedgerError(
            Code.malformed_json, f"请求体不是有效的 JSON (malformed JSON): {error}"
        ) from None
    check_json(value)
    refuse_duplicate_keys(body)
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None or not isinstance(data.kwarg_definition, BodyKwarg | type(None)):
        return
    decoded = decode_strictly(data.annotation, body)
    for field, day in dates_in(decoded, ""):
        check_date(day, field)


FORM_MEDIA_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


async def check_form(request: Request) -> Any:
    """A workspace page's form: URL-encoded (or a file's multipart), every value text without
    NUL and within `request_text_length_max` (a file field is the page's to check)."""
    media_type = request.content_type[0].lower()
    if media_type not in FORM_MEDIA_TYPES:
        raise LedgerError(
            Code.unsupported_media_type,
            f"页面表单必须以 application/x-www-form-urlencoded 提交，收到 {media_type or '无类型'} "
            "(a page's form is URL-encoded)",
        )
    form = await request.form()
    for name, value in form.multi_items():
        check_text(name, name)
        if isinstance(value, str):
            check_text(value, name)
    return form


FILE_MEDIA_TYPES = frozenset(
    {
        "multipart/form-data",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)


def check_upload(handler: HTTPRouteHandler, request: Request, body: bytes) -> None:
    """A route that takes a file (`opt={"file_upload": True}`, with a larger
    `request_max_body_size` of its own): a file's body is the route's to read. Any other body
    is held to what every route's is — at most `request_body_bytes_max`, checked as JSON —
    and then refused: it is not a file."""
    if request.content_type[0].lower() in FILE_MEDIA_TYPES:
        return
    if len(body) > request_body_bytes_max:
        raise LedgerError(
            Code.body_too_large,
            f"请求体过大，最多 {request_body_bytes_max} 字节 "
            f"(the body is above {request_body_bytes_max} bytes)",
        )
    media_type = request.content_type[0].lower()
    if JSON_MEDIA_TYPE.match(media_type):
        check_body(handler, request, body)  # held to what every JSON body is, then refused
    raise LedgerError(
        Code.unsupported_media_type,
        "这里只收文件：请以 multipart/form-data 上传（字段 file，.xlsx 或 .csv 文件），或把文件"
        "本身作为请求体发送，Content-Type 为 text/csv 或 application/vnd.openxmlformats-"
        f"officedocument.spreadsheetml.sheet；收到 {media_type or '无类型'} (send the file as "
        "multipart/form-data field `file`, or as a raw text/csv or XLSX body)",
    )


def refuse_duplicate_keys(body: bytes) -> None:
    """A key twice in one object is refused: decoders keep the last, a proxy or a log reading
    the first would see another request (`{"location_code": A, "location_code": B}`). Run after
    check_json, so the nesting is already bounded."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, item in items:
            if key in seen:
                raise LedgerError(
                    Code.duplicate_key,
                    f"请求体中字段 {key[:80]} 出现了两次 (key {key[:80]!r} appears twice)",
                    key[:80],
                )
            seen[key] = item
        return seen

    json.loads(body, object_pairs_hook=pairs)


def too_deep() -> LedgerError:
    return LedgerError(
        Code.body_too_deep,
        f"请求体嵌套过深，最多 {request_depth_max} 层 (nested deeper than {request_depth_max})",
    )


def check_json(value: Any) -> None:
    """Walk the decoded body once (iteratively, so depth costs no recursion)."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        node, depth, path = stack.pop()
        if isinstance(node, dict):
            if depth > request_depth_max:
                raise too_deep()
            for key, item in node.items():
                check_text(key, f"{path}{key}")
                stack.append((item, depth + 1, f"{path}{key}."))
        elif isinstance(node, list):
            if depth > request_depth_max:
                raise too_deep()
            field = path.rstrip(".") or "body"
            if len(node) > request_array_length_max:
                raise LedgerError(
                    Code.array_too_long,
                    f"{field} 最多 {request_array_length_max} 项，收到 {len(node)} 项 "
                    f"(at most {request_array_length_max} items)",
                    field,
                )
            stack.extend((item, depth + 1, f"{field}[{index}].") for index, item in enumerate(node))
        elif isinstance(node, str):
            check_text(node, path.rstrip(".") or "body")
        elif isinstance(node, int) and not isinstance(node, bool):
            check_integer(node, path.rstrip(".") or "body")


_DECODERS: dict[Any, msgspec.json.Decoder] = {}  # by the body's type


def decode_strictly(annotation: Any, body: bytes) -> Any:
    decoder = _DECODERS.get(annotation)
    if decoder is None:
        decoder = _DECODERS[annotation] = msgspec.json.Decoder(annotation, strict=True)
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as error:
        message = str(error)
        match = ERROR_PATH.search(message)
        field = match.group(1) if match else None
        reason = ERROR_PATH.sub("", message)
        if reason.startswith("Expected `int`") or reason.startswith("Expected `int | null`"):
            raise LedgerError(
                Code.integer_required,
                f"{field or '数量'} 必须是 JSON 整数，不能是字符串、小数或指数写法 "
                f"(an integer is required): {reason}",
                field,
            ) from None
        if "Invalid RFC3339 encoded date" in reason:  # 2026-02-30, as api/errors.py says it
            raise LedgerError(
                Code.invalid_request,
                f"{field or '日期'} 不是有效的日期：应写成 YYYY-MM-DD，且是日历上有的一天，如 "
                f"2026-01-01 (not a valid date: {reason})",
                field,
            ) from None
        raise LedgerError(
            Code.invalid_request, f"请求格式有误 (invalid request): {reason}", field
        ) from None


def dates_in(value: Any, path: str):
    """(field, date) for every date in a decoded body."""
    if isinstance(value, dt.date):
        yield path or "body", value
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            yield from dates_in(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from dates_in(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from dates_in(item, f"{path}.{key}" if path else str(key))
