"""The forms that change a count (盘点), each the API's route of the same name with the same
checks of role and reach (api/stocktake_routes.py): enter counts (the table of book lines, or
one line by hand), import a finished count scan document, declare a place fully counted, close,
send lines back for recount, and approve after the approval preview (its digest).

Each form posts once (`once`); a refusal re-renders the page with the message beside the
field at fault and what the user typed kept."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.common import services_of
from api.errors import status_of
from api.policy import roles
from api.web.render import Form, chinese, new_once_key, once, page
from api.web.stocktake_view import (
    COUNTERS,
    OFFICE,
    REVIEWERS,
    detail_page,
    field_errors,
    items_of,
    line_error,
    many,
    split_key,
    stocktake_in_reach,
)
from ledger.rules import Code, LedgerError
from ledger.services import scanning, stocktakes
from ledger.services.stocktake_models import (
    AccountRef,
    ApproveStocktake,
    CountLine,
    EnterCounts,
    Recount,
    ZeroUncounted,
)
from ledger.services.users import User

ROW_FIELD = re.compile(r"^q-(\d+)$")
WHOLE = re.compile(r"^[0-9]{1,12}$")


def _done(number: str, what: str) -> Redirect:
    return Redirect(path=f"/stocktakes/{number}?done={what}", status_code=303)


def _refused(
    request: Request, number: str, form: str, data: dict, errors: dict[str, str], status: int
) -> Template:
    return detail_page(
        request,
        number,
        status_code=status,
        errors=errors,
        failed=form,
        values=data,
        checked=many(data, "line"),
    )


def _run(request: Request, data: dict, work: Callable[[], Any]) -> Any:
    return once(request, data, work)


def _whole(text: str, field: str) -> int:
    if not WHOLE.fullmatch(text):
        raise LedgerError(Code.invalid_field, "盘点数必须是 0 或正整数 (a whole number)", field)
    return int(text)


def _table_lines(data: dict) -> tuple[list[CountLine], list[int]]:
    """The filled rows of the count table (`k-i` names the account, `q-i` the count, `u-i`
    its unit); an empty count is skipped. Returns the lines and each one's table row."""
    lines, rows = [], []
    for name in sorted(data, key=lambda n: int(n[2:]) if ROW_FIELD.match(n) else -1):
        found = ROW_FIELD.match(name)
        text = str(data[name]).strip()
        if not found or not text:
            continue
        row = int(found.group(1))
        account = split_key(str(data.get(f"k-{row}", "")))
        if account is None:
            continue
        quantity = _whole(text, f"q-{row}")
        unit = str(data.get(f"u-{row}", "")).strip() or None
        lines.append(CountLine(*account, quantity=quantity, unit=unit))
        rows.append(row)
    return lines, rows


@post("/stocktakes/{number:str}/counts", sync_to_thread=True, guards=[roles(*COUNTERS)])
def enter_counts(request: Request, number: FromPath[str], data: Form) -> Any:
    """Counts from the table (POST /api/v1/stocktakes/{number}/counts)."""
    user: User = request.user
    services = services_of(request.app.state)
    stocktake_in_reach(request, number)
    rows: list[int] = []
    try:
        lines, rows = _table_lines(data)
        if not lines:
            raise LedgerError(Code.invalid_field, "请至少填写一行盘点数 (no counts)", "lines")
        for line in lines:
            services.visible_location(user, line.location_code)
        command = EnterCounts(tuple(lines))
        _run(
            request,
            data,
            lambda: bool(
                stocktakes.count(services.database, number, command, user.id, services.clock())
            ),
        )
    except LedgerError as error:
        if error.field and error.field.startswith("q-"):
            errors = {error.field: chinese(error.message)}
        else:
            errors = line_error(error, rows)
        return _refused(request, number, "counts", data, errors, status_of(error))
    return _done(number, "counted")


LINE_FIELDS = frozenset({"location_code", "item_code", "batch_number", "quantity", "unit"})


@post("/stocktakes/{number:str}/count-line", sync_to_thread=True, guards=[roles(*COUNTERS)])
def enter_one_line(request: Request, number: FromPath[str], data: Form) -> Any:
    """One counted line typed by hand: a blind count, or stock found that is not on the books."""
    user: User = request.user
    services = services_of(request.app.state)
    stocktake_in_reach(request, number)
    try:
        text = {name: str(data.get(f"line_{name}", "")).strip() for name in LINE_FIELDS}
        services.visible_location(user, text["location_code"])
        line = CountLine(
            text["location_code"],
            text["item_code"],
            text["batch_number"],
            _whole(text["quantity"], "line_quantity"),
            text["unit"] or None,
        )
        _run(
            request,
            data,
            lambda: bool(
                stocktakes.count(
                    services.database, number, EnterCounts((line,)), user.id, services.clock()
                )
            ),
        )
    except LedgerError as error:
        field = re.sub(r"^lines\[0\]\.", "", error.field or "")
        names = {name: f"line_{name}" for name in LINE_FIELDS}
        errors = field_errors(
            LedgerError(error.code, error.message, field), names, set(names.values())
        )
        return _refused(request, number, "line", data, errors, status_of(error))
    return _done(number, "counted")


@post("/stocktakes/{number:str}/scan-document", sync_to_thread=True, guards=[roles(*COUNTERS)])
def import_scan_document(request: Request, number: FromPath[str], data: Form) -> Any:
    """A finished count scan document's totals become counts (POST
    /api/v1/stocktakes/{number}/scan-documents)."""
    user: User = request.user
    services = services_of(request.app.state)
    stocktake_in_reach(request, number)
    try:
        text = str(data.get("document", "")).strip()
        if not WHOLE.fullmatch(text) or int(text) < 1:
            raise LedgerError(Code.invalid_field, "请选择或填写扫描单号 (a document)", "document")
        document = scanning.document(services.database, int(text))
        services.visible_location(user, document.location_code)
        _run(
            request,
            data,
            lambda: bool(
                stocktakes.add_scan_document(
                    services.database, number, int(text), user.id, services.clock()
                )
            ),
        )
    except LedgerError as error:
        errors = field_errors(error, None, {"document"})
        return _refused(request, number, "import", data, errors, status_of(error))
    return _done(number, "imported")


@post("/stocktakes/{number:str}/zero-uncounted", sync_to_thread=True, guards=[roles(*COUNTERS)])
def zero_uncounted(request: Request, number: FromPath[str], data: Form) -> Any:
    """Declare a place fully counted: its uncounted book lines count as 0."""
    user: User = request.user
    services = services_of(request.app.state)
    stocktake_in_reach(request, number)
    try:
        command = ZeroUncounted(str(data.get("zero_location", "")).strip())
        services.visible_location(user, command.location_code)
        _run(
            request,
            data,
            lambda: bool(
                stocktakes.zero_uncounted(
                    services.database, number, command, user.id, services.clock()
                )
            ),
        )
    except LedgerError as error:
        errors = field_errors(error, {"location_code": "zero_location"}, {"zero_location"})
        return _refused(request, number, "zero", data, errors, status_of(error))
    return _done(number, "zeroed")


@post("/stocktakes/{number:str}/close", sync_to_thread=True, guards=[roles(*OFFICE)])
def close(request: Request, number: FromPath[str], data: Form) -> Any:
    """Close the count: the book side as of the cut-off, the reconciliation."""
    user: User = request.user
    services = services_of(request.app.state)
    stocktake_in_reach(request, number)
    try:
        _run(
            request,
            data,
            lambda: stocktakes.close(services.database, number, user.id, services.clock()).rate,
        )
    except LedgerError as error:
        errors = {"": chinese(error.message)}
        return _refused(request, number, "close", data, errors, status_of(error))
    return _done(number, "closed")


@post("/stocktakes/{number:str}/recount", sync_to_thread=True, guards=[roles(*REVIEWERS)])
def recount(request: Request, number: FromPath[str], data: Form) -> Any:
    """Send lines back for recount (their counts are superseded; the count reopens)."""
    user: User = request.user
    services = services_of(request.app.state)
    stocktake_in_reach(request, number)
    try:
        accounts = [split_key(key) for key in many(data, "line")]
        refs = tuple(AccountRef(*account) for account in accounts if account is not None)
        command = Recount(refs, str(data.get("reason", "")).strip())
        _run(
            request,
            data,
            lambda: bool(
                stocktakes.recount(services.database, number, command, user.id, services.clock())
            ),
        )
    except LedgerError as error:
        errors = field_errors(error, {"lines": "line"}, {"line", "reason"})
        return _refused(request, number, "recount", data, errors, status_of(error))
    return _done(number, "recount")


def approval_page(
    request: Request,
    number: str,
    errors: dict[str, str] | None = None,
    reason: str = "",
    status_code: int = 200,
) -> Template:
    """The approval preview: what approving will post (盘盈/盘亏 per account, totals per unit,
    vouchers) and the 未盘 lines it leaves; the form approves exactly this (its digest)."""
    database = services_of(request.app.state).database
    stocktake = stocktake_in_reach(request, number)
    preview = stocktakes.preview(database, number)
    lines = (*preview.adjustments, *preview.not_counted)
    result = page(
        request,
        "stocktakes_approve.html",
        f"审核盘点 {number}",
        st=stocktake,
        preview=preview,
        line_items=items_of(database, (line.item_code for line in lines)),
        errors=errors or {},
        reason=reason,
        once_key=new_once_key(),
    )
    result.status_code = status_code
    return result


@get("/stocktakes/{number:str}/approve", sync_to_thread=True, guards=[roles(*REVIEWERS)])
def approval_preview(request: Request, number: FromPath[str]) -> Template:
    return approval_page(request, number)


@post("/stocktakes/{number:str}/approve", sync_to_thread=True, guards=[roles(*REVIEWERS)])
def approve(request: Request, number: FromPath[str], data: Form) -> Any:
    """Approve with the digest of the preview the approver looked at: if the adjustments
    changed since (a recount, a new close), the preview is shown again, refreshed."""
    user: User = request.user
    services = services_of(request.app.state)
    stocktake_in_reach(request, number)
    reason = str(data.get("reason", "")).strip()
    command = ApproveStocktake(reason, str(data.get("preview_digest", "")).strip())
    try:
        _run(
            request,
            data,
            lambda: list(
                stocktakes.approve(
                    services.database, number, command, user.id, services.clock()
                ).adjustments
            ),
        )
    except LedgerError as error:
        errors = field_errors(error, {"preview_digest": ""}, {"reason"})
        if error.code == Code.stocktake_state:
            return _refused(request, number, "approve", data, errors, status_of(error))
        return approval_page(request, number, errors, reason, status_of(error))
    return _done(number, "approved")


HANDLERS: list = [
    enter_counts,
    enter_one_line,
    import_scan_document,
    zero_uncounted,
    close,
    recount,
    approval_preview,
    approve,
]
