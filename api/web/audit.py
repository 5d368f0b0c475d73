"""审计: verification, chain checkpoints, period closes, the operations log.

For auditors and admins (the menu's 审计), through the API's use cases and rules of reach:
the verification and period closes are for the auditors at the top of a city
(`require_top_auditor`), over their own city (`audit_root`); the log is `log_root`'s.

`/audit` shows the chain head to write down and starts a verification with htmx (the button
shows 正在核验… while it runs; without scripts the form opens `/audit/verification` as a
page); checkpoints written down earlier are proved by the same form. `/audit/closes` lists the
period closes and closes a month after a confirmation page; `/audit/log` is in audit_log.py.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any

from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from api.common import services_of
from api.errors import status_of
from api.metrics import observe_verification
from api.policy import audit_root, require_top_auditor, roles
from api.web.audit_log import audit_log_page, local_time
from api.web.audit_names import FINDING_NAMES, INVARIANT_NAMES
from api.web.render import Form, errors_of, new_once_key, once, page
from ledger.history import Checkpoint, format_checkpoint, parse_checkpoint
from ledger.limits import checkpoints_per_verification_max
from ledger.model import Role
from ledger.rules import Code, LedgerError
from ledger.services import lookups
from ledger.services.audit import (
    VerificationReport,
    close_books,
    period_closes,
    transactions_to_verify,
    verify_ledger,
)
from ledger.services.close_months import months_to_close
from ledger.services.users import User

AUDITORS = [roles(Role.auditor)]
_SEPARATORS = re.compile(r"[\s,，;；]+")


def _top(user: User) -> bool:
    return user.has(Role.admin) or user.is_root


# ---- verification and checkpoints ------------------------------------------------------------------


def _checkpoints(request: Request) -> tuple[str, list[Checkpoint]]:
    """The checkpoints to prove: the form's text (one per line) and any `checkpoint=`
    parameters as the API takes them. Refused like the API: a malformed one, or too many."""
    texts = [request.query_params.get("checkpoints", "")[:20_000]]
    texts += request.query_params.getall("checkpoint", [])
    given = [part for text in texts for part in _SEPARATORS.split(text) if part]
    shown = "\n".join(given)
    if len(given) > checkpoints_per_verification_max:
        raise LedgerError(
            Code.too_many_lines,
            f"一次最多核验 {checkpoints_per_verification_max} 个核验点",
            "checkpoints",
        )
    return shown, [parse_checkpoint(text, "checkpoints") for text in given]


def finding_rows(report: VerificationReport) -> list[dict[str, Any]]:
    return [
        {
            "invariant": f"{finding.invariant} {INVARIANT_NAMES.get(finding.invariant, '')}",
            "code": finding.code,
            "name": FINDING_NAMES.get(finding.code, finding.code),
            "subject": finding.subject,
            "message": finding.message,
            "expected": finding.expected or "",
            "found": finding.found or "",
        }
        for finding in report.findings
    ]


def proved(report: VerificationReport) -> list[tuple[str, bool]]:
    """Each checkpoint given, and whether the ledger still holds it."""
    wrong = {finding.subject for finding in report.findings}
    return [(text, f"checkpoint {text}" not in wrong) for text in report.checkpoints]


def _card(request: Request, **context: Any) -> dict[str, Any]:
    """What the verification card shows besides a result: how much a run reads."""
    user: User = request.user
    database = services_of(request.app.state).database
    context.setdefault("errors", {})
    context.setdefault("since_close", "")
    context.setdefault("checkpoints", "")
    if "to_check" not in context:
        context["to_check"] = transactions_to_verify(database, root_code=audit_root(user, None))
    return context


@get("/audit", guards=AUDITORS, sync_to_thread=True)
def audit_index(request: Request) -> Template:
    user: User = request.user
    database = services_of(request.app.state).database
    sequence, digest = lookups.chain_head(database)
    context: dict[str, Any] = {
        "head": format_checkpoint(sequence, digest),
        "head_sequence": sequence,
        "top": _top(user),
    }
    if context["top"]:
        closes = period_closes(database, audit_root(user, None))
        context["last_close"] = closes[-1] if closes else None
        context.update(_card(request))
    return page(request, "audit_index.html", "审计", **context)


@get("/audit/verification", guards=AUDITORS, sync_to_thread=True)
def verification_page(request: Request) -> Template:
    """Run the verification (the API's `GET /audit/verification`) and show its findings: to
    htmx the card alone, otherwise as a page."""
    user: User = request.user
    require_top_auditor(user)
    database = services_of(request.app.state).database
    since_close = request.query_params.get("since_close", "") in ("1", "true")
    context: dict[str, Any] = {"since_close": "1" if since_close else ""}
    status = 200
    try:
        context["checkpoints"], checkpoints = _checkpoints(request)
        report = verify_ledger(
            database,
            since_close=since_close,
            root_code=audit_root(user, None),
            checkpoints=checkpoints,
        )
        observe_verification(report)
        context.update(report=report, findings=finding_rows(report), proved=proved(report))
    except LedgerError as error:
        context["checkpoints"] = request.query_params.get("checkpoints", "")[:20_000]
        context["errors"] = errors_of(error, {"checkpoints", "since_close"})
        status = status_of(error)
    context = _card(request, **context)
    if request.headers.get("hx-request"):
        template = page(request, "audit_verify_card.html", "全账核验", **context)
    else:
        template = page(request, "audit_verification.html", "全账核验", **context)
    template.status_code = status
    return template


# ---- period closes ---------------------------------------------------------------------------------


def month_end(text: str) -> dt.date:
    """The last day of a month given as YYYY-MM (an <input type="month">)."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}", text):
            raise ValueError(text)
        year, month = int(text[:4]), int(text[5:])
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    except ValueError:
        raise LedgerError(
            Code.invalid_field, "月份应为 年-月，例如 2026-05 (month YYYY-MM)", "month"
        ) from None


def month_errors(error: LedgerError) -> dict[str, str]:
    """A refusal of a close beside the month field (the API names it `period_end`)."""
    errors = errors_of(error, {"month", "period_end"})
    if "period_end" in errors:
        errors["month"] = errors.pop("period_end")
    return errors


def _months(request: Request) -> tuple[list[str], dict[str, str]]:
    """The months the form offers (YYYY-MM, newest first: ended, after the last close, not
    before the ledger's first movement), or none and why (a ledger of several cities and a
    global auditor who names none)."""
    services = services_of(request.app.state)
    try:
        ends = months_to_close(services.database, audit_root(request.user, None), services.clock())
    except LedgerError as error:
        return [], errors_of(error, {"month"})
    return [end.strftime("%Y-%m") for end in ends], {}


def _closes_page(
    request: Request, month: str = "", errors: dict | None = None, status: int = 200
) -> Template:
    user: User = request.user
    require_top_auditor(user)
    services = services_of(request.app.state)
    closes = period_closes(services.database, audit_root(user, None))
    months, refusal = _months(request)
    options = [(text, text) for text in months]
    if month and month not in months:  # what was asked stays beside its refusal
        options.append((month, month))
    closed = request.query_params.get("closed", "")
    template = page(
        request,
        "audit_closes.html",
        "月结",
        closes=list(reversed(closes)),
        month=month or (months[0] if months else ""),
        month_options=options,
        errors=errors or refusal,
        just_closed=next((c for c in closes if c.period_end.isoformat() == closed), None),
        local_time=local_time,
    )
    template.status_code = status
    return template


@get("/audit/closes", guards=AUDITORS, sync_to_thread=True)
def closes_page(request: Request) -> Template:
    return _closes_page(request)


@get("/audit/closes/confirm", guards=AUDITORS, sync_to_thread=True)
def close_confirm_page(request: Request, month: FromQuery[str] = "") -> Template:
    """The confirmation step: what closing the month means, before it is done."""
    user: User = request.user
    require_top_auditor(user)
    try:
        period_end = month_end(month.strip()[:20])
    except LedgerError as error:
        return _closes_page(request, month[:20], month_errors(error), status_of(error))
    database = services_of(request.app.state).database
    closes = period_closes(database, audit_root(user, None))
    return page(
        request,
        "audit_close_confirm.html",
        "确认月结",
        month=month.strip(),
        period_end=period_end,
        last_close=closes[-1] if closes else None,
        once_key=new_once_key(),
        root_name=user.location_name if not user.is_global else "",
    )


@post("/audit/closes", guards=AUDITORS, sync_to_thread=True)
def close_month(request: Request, data: Form) -> Any:
    """月结 as the API's `POST /audit/period-closes` makes it; refusals beside the month."""
    user: User = request.user
    require_top_auditor(user)
    services = services_of(request.app.state)
    month = str(data.get("month", "")).strip()[:20]
    try:
        period_end = month_end(month)
        root = audit_root(user, None)
        today = services.clock()
        closed = once(
            request,
            data,
            lambda: close_books(services.database, period_end, user.id, today, root).checkpoint,
        )
    except LedgerError as error:
        return _closes_page(request, month, month_errors(error), status_of(error))
    assert isinstance(closed, str)
    return Redirect(f"/audit/closes?closed={period_end.isoformat()}", status_code=303)


HANDLERS: list = [
    audit_index,
    verification_page,
    closes_page,
    close_confirm_page,
    close_month,
    audit_log_page,
]
