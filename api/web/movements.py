"""出入库: receipts, issues, distributions, returns, write-offs and reversals (红冲) as forms.

A clerk works at its own location, an admin at any location of its city (`?location=`). Each
form posts the API's command of the same kind through the same use case
(`ledger.services.ledger.execute`) under the same rules of reach (api/policy.py), once per form
(its hidden `once` key), and shows the voucher it posted. A line picks an item, then a batch
from the batches in stock here, earliest expiry first (the batch list follows the item with
htmx, or with the plain 「更新批次和单位」 button); 「再加一行」 adds a line (htmx, or a plain
submit that shows the form again with one more line)."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from api.errors import status_of
from api.policy import roles
from api.web.movement_forms import (
    KINDS,
    ROLE,
    Kind,
    command_of,
    input_of,
    lines_of,
    readable,
    row_count,
    rows_of,
    text,
)
from api.web.movement_pages import (
    RECENT_VOUCHERS,
    form_page,
    line_view,
    location_query,
    place_choices,
    place_name,
    place_of,
    services,
    voucher_path,
)
from api.web.movement_reversal import REVERSAL_HANDLERS
from api.web.render import Form, errors_of, new_once_key, once, page
from ledger.limits import lines_per_transaction_max
from ledger.model import Role
from ledger.rules import Code, LedgerError
from ledger.services import pickers
from ledger.services.ledger import execute
from ledger.services.users import User

FORM_PATH = "/movements/{slug:str}"  # one of KINDS (/movements/line, /reversal are their own)
GUARDS = [roles(ROLE)]


def _kind_of(slug: str) -> Kind:
    kind = KINDS.get(slug)
    if kind is None:
        raise NotFoundException(f"no form {slug!r}")
    return kind


@get("/movements", guards=GUARDS, sync_to_thread=True)
def movements_index(request: Request, location: FromQuery[str | None] = None) -> Template:
    """The forms, and the location's latest vouchers."""
    user: User = request.user
    entry = place_of(request, location, "办理出入库")
    vouchers = pickers.recent_vouchers(
        services(request).database, entry.location.code, RECENT_VOUCHERS
    )
    return page(
        request,
        "movements_index.html",
        "出入库",
        kinds=KINDS,
        place=entry,
        loc_query=location_query(request, entry),
        place_options=[
            (place.code, "\u3000" * (place.path.count("/") - 2) + f"{place.name}（{place.code}）")
            for place in place_choices(request)
        ],
        vouchers=vouchers,
        place_name=lambda code: place_name(request, code),
        is_admin=user.has(Role.admin),
    )


@get(FORM_PATH, guards=GUARDS, sync_to_thread=True)
def movement_form(
    request: Request, slug: FromPath[str], location: FromQuery[str | None] = None
) -> Template:
    """A blank form (a link may fill lines in: `?item_0=NH2014`)."""
    kind = _kind_of(slug)
    entry = place_of(request, location, kind.title)
    data = {name: value for name, value in request.query_params.items() if name != "location"}
    return form_page(request, kind, entry, data, {}, new_once_key())


@post(FORM_PATH, guards=GUARDS, sync_to_thread=True)
def post_movement(request: Request, slug: FromPath[str], data: Form) -> Any:
    """Post the form's voucher once and show it; or, for 「再加一行」/「更新批次和单位」, the
    form again as typed; or the form with the refusal beside its input."""
    kind = _kind_of(slug)
    entry = place_of(request, text(data, "location") or None, kind.title)
    action = text(data, "action")
    if action in ("add_line", "refresh"):
        more = 1 if action == "add_line" else 0
        shown = {**data, "rows": str(min(row_count(data) + more, lines_per_transaction_max))}
        return form_page(request, kind, entry, shown, {}, text(data, "once") or new_once_key())
    user: User = request.user
    found = services(request)
    items = {item.code: item for item in pickers.all_items(found.database)}
    line_rows: list[int] = []
    lines: list = []
    try:
        lines = lines_of(kind, rows_of(data), items, line_rows)
        command = command_of(kind, entry.location.code, data, lines)
        number = once(
            request,
            data,
            lambda: execute(found.database, command, user.id, found.clock()).number,
        )
    except LedgerError as error:
        at = input_of(error, line_rows, lines, items)
        message = readable(error.message, error.field)
        inputs = {at} if at else set()
        errors = errors_of(LedgerError(error.code, message, at or None), inputs)
        return form_page(request, kind, entry, data, errors, new_once_key(), status_of(error))
    return Redirect(voucher_path(request, str(number)), status_code=303)


@get("/movements/line", guards=GUARDS, sync_to_thread=True)
def line_fragment(
    request: Request,
    kind: FromQuery[str],
    row: FromQuery[int],
    location: FromQuery[str | None] = None,
) -> Template:
    """One line's batch picker and units for the item chosen (htmx swaps it in when the item
    changes): `?kind=issue&row=0&item_0=BYT`."""
    if kind not in KINDS or not 0 <= row < lines_per_transaction_max:
        raise LedgerError(Code.invalid_field, "没有这个表单或行", "kind")
    form = KINDS[kind]
    entry = place_of(request, location, form.title)
    data = {name: value for name, value in request.query_params.items()}
    typed = rows_of(data, row + 1)[row]
    items = {item.code: item for item in pickers.all_items(services(request).database)}
    return Template(
        media_type=MediaType.HTML,
        template_name="movements_parts.html",
        context={
            "kind": form,
            "line": line_view(request, form, entry, typed, items),
            "errors": {},
            "values": {},
        },
    )


HANDLERS: list = [
    movements_index,
    movement_form,
    post_movement,
    line_fragment,
    *REVERSAL_HANDLERS,
]
