"""凭证: any voucher (transaction) by number, printable; a list to find them.

`/vouchers` searches the vouchers in the user's reach (whose own location or counterparty lies
in its subtree, the rule of `GET /api/v1/transactions`), newest first, by part of the number,
kind, location and dates. `/vouchers/{number}` shows one, refused (403) outside the user's reach
and 404 when there is no such voucher, as by `GET /api/v1/transactions/{number}`; its print
form is the API's `/api/v1/transactions/{number}/voucher` (HTML), which a signed-in browser
opens with its session."""

from __future__ import annotations

from contextlib import suppress
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from api.common import services_of
from api.errors import Forbidden
from api.policy import require_at, require_sees_transaction, scope_path
from api.web.confirm import confirm_link
from api.web.names import KIND_NAMES
from api.web.places import user_places
from api.web.render import chinese, page
from api.web.stock_common import From, PageNumber, Query, To, blank, parse_day
from ledger.model import Role, TransactionKind
from ledger.rules import LedgerError
from ledger.services.report_audit import reason_name
from ledger.services.users import User
from ledger.services.vouchers import VoucherSearch, lines_of, search, voucher
from ledger.settings import office_zone

PER_PAGE = 50
SEARCH_FIELDS = ("number", "kind", "location", "from", "to")


def _location_error(request: Request, code: str) -> str | None:
    """The refusal of a location filter the user may not use (unknown, or outside its reach),
    as the API's `location` parameter is refused; None when it may."""
    services = services_of(request.app.state)
    try:
        services.visible_location(request.user, code, "location")
    except LedgerError as error:
        return chinese(error.message)
    except Forbidden as error:
        return chinese(error.detail or "")
    return None


@get("/vouchers", sync_to_thread=True)
def voucher_list(
    request: Request,
    number: Query = None,
    kind: Query = None,
    location: Query = None,
    date_from: From = None,
    date_to: To = None,
    page_number: PageNumber = 1,
) -> Template:
    """Vouchers in the user's reach, newest first, 50 a page."""
    user: User = request.user
    services = services_of(request.app.state)
    errors: dict[str, str] = {}
    start = parse_day(date_from, "from", errors)
    end = parse_day(date_to, "to", errors)
    if start and end and start > end:
        errors["from"] = "起始日期晚于截止日期"
    wanted_kind = blank(kind)
    if wanted_kind is not None and wanted_kind not in KIND_NAMES:
        errors["kind"] = "没有这种单据类型"
    place = blank(location)
    if place is not None:
        refusal = _location_error(request, place)
        if refusal:
            errors["location"] = refusal
    found: list[Any] = []
    if not errors:
        wanted = VoucherSearch(scope_path(user), blank(number), wanted_kind, place, start, end)
        offset = (page_number - 1) * PER_PAGE
        found = search(services.database, wanted, PER_PAGE + 1, offset)
    names = {}
    for transaction in found:
        for code in (transaction.location_code, transaction.counterparty_code):
            if code and code not in names:
                names[code] = services.location(code).location.name
    form = {
        "number": blank(number) or "",
        "kind": wanted_kind or "",
        "location": place or "",
        "from": start.isoformat() if start else (date_from or ""),
        "to": end.isoformat() if end else (date_to or ""),
    }
    answer = page(
        request,
        "voucher_list.html",
        "凭证",
        vouchers=found[:PER_PAGE],
        names=names,
        more=len(found) > PER_PAGE,
        page_number=page_number,
        form=form,
        query=urlencode({key: value for key, value in form.items() if value}),
        kind_options=[("", "全部类型"), *KIND_NAMES.items()],
        places=user_places(request),
        errors=errors,
    )
    answer.status_code = 400 if errors else 200
    return answer


def _may_reverse(request: Request, location_code: str) -> bool:
    """Whether the user may post a reversal of a voucher of this location (the API's rule:
    the clerk there, or an admin of its city)."""
    services = services_of(request.app.state)
    with suppress(Forbidden, LedgerError):
        require_at(request.user, location_code, Role.clerk, "红冲", services.location)
        return True
    return False


@get("/vouchers/{number:str}", sync_to_thread=True)
def voucher_page(request: Request, number: FromPath[str]) -> Template:
    """One voucher: its lines, who made it and when, its reversal or original, print, 红冲."""
    services = services_of(request.app.state)
    view = voucher(services.database, number)
    transaction = view.transaction
    require_sees_transaction(request.user, transaction, services.location)
    reason = reason_name(transaction.kind, transaction.reason) if transaction.reason else ""
    zone = office_zone(request.app.state.settings.time_zone)
    recorded = view.recorded_at.astimezone(zone) if view.recorded_at else None
    return page(
        request,
        "voucher_detail.html",
        f"{KIND_NAMES.get(transaction.kind, transaction.kind)} {transaction.number}",
        view=view,
        t=transaction,
        lines=lines_of(transaction.postings),
        reason=reason,
        recorded=recorded.strftime("%Y-%m-%d %H:%M") if recorded else "",
        may_reverse=view.reversible and _may_reverse(request, transaction.location_code),
        is_reversal=transaction.kind is TransactionKind.reversal,
        label_batches=_label_batches(request, view, lines_of(transaction.postings)),
        confirm_url=confirm_link(request, view),  # 签收, for the receiver while in transit
    )


# Vouchers that bring labelled packs to their location: its clerk prints their labels.
LABELLED_KINDS = frozenset({TransactionKind.receipt, TransactionKind.confirmation})


def _label_batches(request: Request, view, lines) -> list[tuple[str, str]]:
    """(item, batch) of the lines whose label sheet the user may print here: a receipt's or
    an arrival's batches of items with packs, for the clerk at its location (or an admin)."""
    transaction = view.transaction
    if transaction.kind not in LABELLED_KINDS or view.reversed_by:
        return []
    if not _may_reverse(request, transaction.location_code):
        return []
    found = dict.fromkeys(
        (line.item_code, line.batch_number)
        for line in lines
        if line.to_code == transaction.location_code and view.items[line.item_code].packs
    )
    return list(found)


HANDLERS: list = [voucher_list, voucher_page]
