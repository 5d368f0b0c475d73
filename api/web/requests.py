"""申领: allocation requests — the list (by status, only what the user may see), a new request
and the editing of a draft (items with quantities, a unit per line, memo), the request's page
with what the user may do (request_detail), and the actions taken there (request_actions:
submit, cancel, approve, reject, ship, confirm, close). Every page calls the API's use cases
(ledger.services.requests) under the API's reach and role checks (api.policy)."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import MediaType, Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from api.common import services_of
from api.errors import status_of
from api.policy import require_at, roles, scope_path
from api.web.names import REQUEST_STATUS_NAMES
from api.web.render import new_once_key, once, page
from api.web.request_actions import HANDLERS as ACTION_HANDLERS
from api.web.request_detail import detail_page
from api.web.request_suggestions import Suggested, in_packs, prefilled_rows, suggested_for
from api.web.request_views import (
    NEW_FIELDS,
    LineRow,
    error_at,
    filled,
    form_of,
    items_of,
    local_time,
    rows_of,
    unit_options,
    visible_request,
    whole_number,
)
from ledger.limits import offset_max
from ledger.model import Item, Role
from ledger.requests import RequestAction, RequestStatus, check_action
from ledger.rules import LedgerError
from ledger.services import lookups, requests
from ledger.services.request_models import CreateRequest, EditRequest, RequestLineIn
from ledger.services.users import User

PAGE_SIZE = 50
ROWS_MIN = 3  # empty rows a new request's form offers

STATUS_TONES = {
    RequestStatus.submitted: "warn",
    RequestStatus.approved: "ok",
    RequestStatus.rejected: "bad",
}


@get("/requests", sync_to_thread=True)
def list_page(
    request: Request, status: FromQuery[str | None] = None, offset: FromQuery[int] = 0
) -> Template:
    """The requests from or to the user's subtree, oldest first (the order they are dealt
    with), of one status or all."""
    wanted = status if status in REQUEST_STATUS_NAMES else None
    offset = min(max(0, offset), offset_max)
    database = services_of(request.app.state).database
    found = lookups.requests(database, scope_path(request.user), wanted, PAGE_SIZE + 1, offset)
    return page(
        request,
        "requests_list.html",
        "申领",
        found=found[:PAGE_SIZE],
        more=len(found) > PAGE_SIZE,
        offset=offset,
        page_size=PAGE_SIZE,
        status=wanted or "",
        statuses=[("", "全部"), *REQUEST_STATUS_NAMES.items()],
        tones=STATUS_TONES,
        items=items_of(request),
        may_create=_may_create(request.user),
        local_time=local_time,
    )


def _may_create(user: User) -> bool:
    return user.has(Role.requester) or user.has(Role.admin)


# ---- a new request, a draft edited --------------------------------------------------------------


def _form_page(
    request: Request,
    rows: list[LineRow],
    memo: str = "",
    number: str | None = None,
    requester_code: str = "",
    errors: dict | None = None,
    status_code: int = 200,
    prefilled: bool = False,
    suggested: Suggested | None = None,
) -> Template:
    """The form; beside it the ledger's suggested request for the requesting place
    (prefilled: the rows are the suggestion, as a new request starts)."""
    items = items_of(request)
    shown = rows + [LineRow("", "", "")] * max(0, ROWS_MIN - len(rows))
    if suggested is None:  # none until an admin names a place
        suggested = suggested_for(request, requester_code)
    requester_code = requester_code or request.user.location_code
    for code, entry in suggested.by_item.items() if suggested else ():
        items.setdefault(code, entry.item)
    template = page(
        request,
        "requests_form.html",
        f"修改申领单 {number}" if number else "新建申领单",
        number=number,
        rows=shown,
        memo=memo,
        requester_code=requester_code,
        suggested=suggested,
        prefilled=prefilled,
        items=items,
        unit_choices=[unit_options(items.get(row.item_code), items.values()) for row in shown],
        errors=errors or {},
        once=new_once_key(),
    )
    template.status_code = status_code
    return template


@get("/requests/new", sync_to_thread=True, guards=[roles(Role.requester)])
def new_page(request: Request, requester: FromQuery[str] = "") -> Template:
    """A new request, filled in with the suggested request of the user's place (an admin's:
    of `requester`, a place of its reach), each quantity open to change."""
    user: User = request.user
    code = requester.strip()[:100] if user.has(Role.admin) else user.location_code
    suggested = suggested_for(request, code)
    rows = prefilled_rows(suggested)
    return _form_page(request, rows, requester_code=code, prefilled=bool(rows), suggested=suggested)


@get("/requests/units", sync_to_thread=True)
def unit_select(
    request: Request, row: FromQuery[int] = 0, item_code: FromQuery[str] = ""
) -> Response:
    """The unit choice of one row for the item chosen (htmx swaps it in)."""
    items = items_of(request)
    return Template(
        media_type=MediaType.HTML,
        template_name="requests_unit_select.html",
        context={"index": row, "options": unit_options(items.get(item_code), items.values())},
    )


def _lines(rows: list[LineRow]) -> tuple[tuple[RequestLineIn, ...], Any]:
    posted = filled(rows)
    lines = tuple(
        RequestLineIn(
            row.item_code,
            whole_number(row.quantity, f"lines[{index}].quantity", allow_zero=False),
            row.unit or None,
        )
        for index, row in posted.rows
    )
    return lines, posted


def _save(request: Request, form: FormMultiDict, number: str | None) -> Any:
    """Create a draft (number None) or edit one; the request's page, or the form again with
    the refusal beside the row at fault."""
    user: User = request.user
    services = services_of(request.app.state)
    rows = rows_of(form)
    memo = str(form.get("memo", "")).strip()
    requester = str(form.get("requester_code", "") or user.location_code).strip()
    if "more" in form:  # one more empty row, nothing saved
        return _form_page(request, [*rows, LineRow("", "", "")], memo, number, requester)
    posted = None
    try:
        lines, posted = _lines(rows)
        if number is None:
            require_at(user, requester, Role.requester, "申领", services.location)
            command = CreateRequest(requester, lines, memo=memo)
            saved = once(
                request,
                form_of(form),
                lambda: (
                    requests.create(services.database, command, user.id, services.clock()).number
                ),
            )
        else:
            found = visible_request(request, number)
            require_at(user, found.requester_code, Role.requester, "修改申领单", services.location)
            edit = EditRequest(lines, memo)
            saved = once(
                request,
                form_of(form),
                lambda: (
                    requests.edit(services.database, number, edit, user.id, services.clock()).number
                ),
            )
    except LedgerError as error:
        field = posted.field(error.field) if posted else error.field
        shown = NEW_FIELDS if user.has(Role.admin) else NEW_FIELDS.replace("|requester_code", "")
        errors = error_at(error, field, shown)
        return _form_page(request, rows, memo, number, requester, errors, status_of(error))
    return Redirect(path=f"/requests/{saved}", status_code=303)


@post("/requests/new", guards=[roles(Role.requester)], status_code=303)
async def create(request: Request) -> Any:
    form = await request.form()
    return await anyio.to_thread.run_sync(_save, request, form, None)


def _rows_of_request(lines: Any, items: dict[str, Item]) -> list[LineRow]:
    """A draft's lines as the form shows them: in the largest pack that holds the quantity
    exactly, else in base units."""
    return [in_packs(line.item_code, line.requested, items.get(line.item_code)) for line in lines]


@get("/requests/{number:str}/edit", sync_to_thread=True, guards=[roles(Role.requester)])
def edit_page(request: Request, number: FromPath[str]) -> Template:
    found = visible_request(request, number)
    services = services_of(request.app.state)
    require_at(request.user, found.requester_code, Role.requester, "修改申领单", services.location)
    check_action(number, found.status, RequestAction.edit)  # a draft only, as editing asks
    rows = _rows_of_request(found.lines, items_of(request))
    return _form_page(request, rows, found.memo, number, found.requester_code)


@post("/requests/{number:str}/edit", guards=[roles(Role.requester)], status_code=303)
async def edit(request: Request, number: FromPath[str]) -> Any:
    form = await request.form()
    return await anyio.to_thread.run_sync(_save, request, form, number)


@get("/requests/{number:str}", sync_to_thread=True)
def show(request: Request, number: FromPath[str]) -> Template:
    return detail_page(request, number)


HANDLERS: list = [
    list_page,
    new_page,
    unit_select,
    create,
    edit_page,
    edit,
    show,
    *ACTION_HANDLERS,
]
