"""POST /api/v1/imports/{kind}: the spreadsheet imports of `ledger import` over HTTP (admins).

The file is sent as multipart/form-data, field `file` (its name's extension, .xlsx or .csv,
says the format), or as the raw body with Content-Type `text/csv` or the XLSX media type. It
may be up to `import_file_bytes_max` (this route's own limit; every other body stays within
`request_body_bytes_max`). The file is checked whole first: a file with problems answers 422
`import_invalid` with `problems` (row, column, message) and imports nothing. A city's admin
imports only rows of its city (locations under its root, openings at its places, new items);
any other row refuses the whole file with 403. A global admin imports anywhere. The import is
written in one database transaction with its operations-log entries, made by the signed-in
user; an `Idempotency-Key` replays the first answer, and a file already imported changes
nothing (its rows come back as unchanged or skipped).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Annotated

import anyio
from litestar import Request, Response, post
from litestar.datastructures import State, UploadFile
from litestar.exceptions import NotFoundException
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.params import FromPath, QueryParameter

from api.common import IdempotencyKey, idempotent, services_of
from api.errors import Forbidden
from api.policy import own_root_path, roles
from ledger.limits import file_name_length_max, import_file_bytes_max
from ledger.rules import Code, LedgerError
from ledger.services.import_common import Imported, OutsideScope, unreadable
from ledger.services.imports import KINDS, import_upload
from ledger.services.users import User

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MULTIPART = "multipart/form-data"
RAW_TYPES = {"text/csv": ".csv", XLSX: ".xlsx"}
FILE_MEDIA_TYPES = frozenset({MULTIPART, *RAW_TYPES})


@dataclass
class UploadOperation(Operation):
    """The operation's request body as OpenAPI should say it (the handler reads the body
    itself: a form or a raw file)."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            description=(
                "the file: multipart/form-data field `file` (.xlsx or .csv); or the raw body "
                f"with Content-Type text/csv or {XLSX}"
            ),
            required=True,
            content={
                MULTIPART: OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.OBJECT,
                        properties={
                            "file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
                        },
                        required=["file"],
                    )
                )
            },
        )


AsOf = Annotated[
    dt.date | None,
    QueryParameter(
        description="建账日期: the opening's day (opening-balances only, required there)"
    ),
]


@post(
    "/imports/{kind:str}",
    guards=[roles()],
    status_code=200,
    request_max_body_size=import_file_bytes_max,
    opt={"file_upload": True},
    operation_class=UploadOperation,
    tags=["imports"],
    summary="Import locations, items or opening balances from a spreadsheet (admin)",
    description=(
        "`kind`: locations, items or opening-balances (with `as_of`). Answers what was added, "
        "updated, left unchanged, and for opening balances the voucher posted per location "
        "(`posted`) and the locations already opened as in the file (`skipped`). 422 "
        "`import_invalid` lists `problems` (row, column, message), nothing imported; 422 "
        "`import_file_unreadable` for a file that cannot be read; 403 for rows outside the "
        f"admin's city. Files up to {import_file_bytes_max // 1_048_576} MiB."
    ),
)
async def import_spreadsheet(
    request: Request,
    state: State,
    kind: FromPath[str],
    as_of: AsOf = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[Imported]:
    if kind not in KINDS:
        raise NotFoundException(f"没有 {kind} 这种导入：可导入 {'、'.join(KINDS)} (unknown import)")
    if kind == "opening-balances" and as_of is None:
        raise LedgerError(
            Code.invalid_field,
            "导入期初余额需要建账日期 as_of，如 ?as_of=2026-01-01 (as_of is required)",
            "as_of",
        )
    name, data = await _upload(request)
    user: User = request.user
    services = services_of(state)
    scope = own_root_path(user)
    fingerprint = {
        "kind": kind,
        "as_of": as_of.isoformat() if as_of and kind == "opening-balances" else None,
        "name": name,
        "sha256": hashlib.sha256(data).hexdigest(),
    }

    def work(_key: str | None) -> Imported:
        try:
            return import_upload(
                services.database,
                kind,
                name,
                data,
                user.id,
                scope,
                services.clock,
                as_of if kind == "opening-balances" else None,
            )
        except OutsideScope as error:
            raise Forbidden(str(error)) from None

    return await anyio.to_thread.run_sync(
        lambda: idempotent(request, state, idempotency_key, fingerprint, work, 200)
    )


async def _upload(request: Request) -> tuple[str, bytes]:
    """The file's name and content, from a form's `file` field or the raw body."""
    media_type = request.content_type[0].lower()
    body = await request.body()  # read once (the guard did): the form below is parsed from it
    if media_type in RAW_TYPES:
        name, data = "上传文件" + RAW_TYPES[media_type], body
    elif media_type == MULTIPART:
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise unreadable("表单中没有文件字段 file (no form field `file` holding a file)")
        data = await upload.read()
        name = _file_name(upload.filename, upload.content_type)
    else:
        raise LedgerError(
            Code.unsupported_media_type,
            f"请以 multipart/form-data（字段 file）上传文件，或以 text/csv、{XLSX} 发送文件本身，"
            f"收到 {media_type or '无类型'} (send the file as a form field or a raw body)",
        )
    if not data:
        raise unreadable("文件是空的 (the file is empty)")
    return name, data


def _file_name(given: str | None, content_type: str | None) -> str:
    """The uploaded file's own name (shown in vouchers' memos and the log), without folders
    or control characters; its extension from the part's type when it has none."""
    name = PurePosixPath((given or "").replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable())[-file_name_length_max:]
    if not name.lower().endswith((".csv", ".xlsx")):
        suffix = RAW_TYPES.get((content_type or "").split(";")[0].strip().lower())
        if suffix:
            name = (name or "上传文件") + suffix
    return name or "上传文件"


ROUTES = [import_spreadsheet]
