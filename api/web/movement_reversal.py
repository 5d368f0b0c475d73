"""红冲 (reversal) as a form: the voucher to reverse shown first, then a reason (its memo, as the
API takes it) and an explicit confirmation; and the page a posted voucher is shown on while the
voucher page (凭证) is not there."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from api.errors import status_of
from api.policy import require_at, require_sees_transaction, roles
from api.web.movement_forms import KINDS, ROLE, parse_date, readable, text
from api.web.movement_pages import location_query, place_name, services, voucher_path
from api.web.render import Form, chinese, errors_of, new_once_key, once, page
from ledger import commands as c
from ledger.model import Transaction, TransactionKind
from ledger.rules import LedgerError
from ledger.services import lookups, pickers
from ledger.services.ledger import execute
from ledger.services.users import User

GUARDS = [roles(ROLE)]
FIELDS = frozenset({"number", "occurred_on", "memo", "confirmed"})


def _voucher(request: Request, number: str) -> Transaction:
    """The voucher, if the user sees it and is the clerk where it was made (or an admin of
    that city): the API's rule for a reversal."""
    found = services(request)
    voucher = lookups.transaction(found.database, number)
    require_sees_transaction(request.user, voucher, found.location)
    require_at(request.user, voucher.location_code, ROLE, "红冲", found.location)
    return voucher


def voucher_context(request: Request, voucher: Transaction) -> dict[str, Any]:
    """What a voucher's summary shows: its places by name and its items (for their units)."""
    items = {item.code: item for item in pickers.all_items(services(request).database)}
    return {
        "voucher": voucher,
        "item_of": items.get,
        "place_name": lambda code: place_name(request, code),
    }


def reversal_page(
    request: Request,
    number: str,
    data: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Template:
    context: dict[str, Any] = {"number": number, "values": data, "errors": errors}
    if number and "number" not in errors:
        voucher = _voucher(request, number)
        context.update(voucher_context(request, voucher))
        context["reversed_by"] = pickers.reversal_of(services(request).database, number)
        context["is_reversal"] = voucher.kind is TransactionKind.reversal
        context["back"] = "/movements" + location_query(
            request, services(request).location(voucher.location_code)
        )
    context["once_key"] = new_once_key()
    context["today"] = services(request).clock().isoformat()
    answer = page(request, "movements_reversal.html", "红冲", **context)
    answer.status_code = status
    return answer


@get("/movements/reversal", guards=GUARDS, sync_to_thread=True)
def reversal_form(request: Request, number: FromQuery[str | None] = None) -> Template:
    """The voucher to reverse (`?number=`) and the form; without a number, a box to type it."""
    number = (number or "").strip()
    if number:
        try:
            lookups.transaction(services(request).database, number)
        except LedgerError as error:
            errors = {"number": chinese(error.message)}
            return reversal_page(request, number, {}, errors, status_of(error))
    return reversal_page(request, number, {}, {})


@post("/movements/reversal", guards=GUARDS, sync_to_thread=True)
def post_reversal(request: Request, data: Form) -> Any:
    number = text(data, "number")
    voucher = _voucher(request, number)  # unknown, unseen, not this clerk's: refused as a page
    if text(data, "confirmed") != "yes":
        errors = {"confirmed": "请核对上面的单据，勾选确认后再红冲"}
        return reversal_page(request, number, data, errors, 422)
    user: User = request.user
    found = services(request)
    try:
        on = parse_date(text(data, "occurred_on"), "occurred_on")
        command = c.Reverse(voucher.number, on, text(data, "memo"))
        made = once(
            request,
            data,
            lambda: execute(found.database, command, user.id, found.clock()).number,
        )
    except LedgerError as error:
        message = readable(error.message, error.field)
        errors = errors_of(LedgerError(error.code, message, error.field), FIELDS)
        return reversal_page(request, number, data, errors, status_of(error))
    return Redirect(voucher_path(request, str(made)), status_code=303)


@get("/movements/done/{number:str}", guards=GUARDS, sync_to_thread=True)
def posted(request: Request, number: FromPath[str]) -> Template:
    """A posted voucher, with the way back to the forms (until the voucher page is there)."""
    found = services(request)
    voucher = lookups.transaction(found.database, number)
    require_sees_transaction(request.user, voucher, found.location)
    return page(
        request,
        "movements_done.html",
        f"已登记 {voucher.number}",
        kinds=KINDS,
        loc_query=location_query(request, found.location(voucher.location_code)),
        **voucher_context(request, voucher),
    )


REVERSAL_HANDLERS: list = [reversal_form, post_reversal, posted]
