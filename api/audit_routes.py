"""Audit: the chain head as a checkpoint, verification of a city's ledger, period closes (月结)
and the operations log (操作日志) — for the auditors at the top of a city and for admins."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromQuery, JSONBody, QueryParameter

from api.common import IdempotencyKey, Limit, Offset, idempotent, reads_of, services_of
from api.metrics import observe_verification
from api.policy import audit_root, log_root, require_top_auditor, roles
from api.schemas import Digest, Page, page
from ledger.history import format_checkpoint, parse_checkpoint
from ledger.limits import (
    checkpoints_per_verification_max,
    code_length_max,
    integer_magnitude_max,
    log_action_length_max,
    log_object_key_length_max,
    log_object_type_length_max,
)
from ledger.model import Role
from ledger.rules import Code, LedgerError
from ledger.services import lookups
from ledger.services.audit import (
    PeriodClose,
    VerificationReport,
    close_books,
    period_closes,
    verify_ledger,
)
from ledger.services.audit_log import LogEntry, LogFilter, read_log
from ledger.services.users import User
from ledger.settings import office_zone

Checkpoints = Annotated[
    list[str] | None,
    QueryParameter(
        name="checkpoint",
        description="N:HASH kept outside the database (GET /chain/digest, a period close): "
        "prove the ledger still holds it (checkpoint_missing / checkpoint_mismatch otherwise); "
        f"repeatable, at most {checkpoints_per_verification_max}",
    ),
]
RootCode = Annotated[
    str | None,
    QueryParameter(
        max_length=code_length_max, description="a city (root location); for a global admin"
    ),
]


@get(
    "/chain/digest",
    sync_to_thread=True,
    tags=["audit"],
    summary="The hash chain's head: sequence and hash",
)
def chain_digest(state: State) -> Digest:
    sequence, digest = lookups.chain_head(services_of(state).database)
    return Digest(sequence, digest, format_checkpoint(sequence, digest))


@get(
    "/audit/verification",
    sync_to_thread=True,
    guards=[roles(Role.auditor)],
    tags=["audit"],
    summary="Verify all six invariants over your city's ledger (auditors at the top of the tree)",
    description=(
        "An auditor (or admin) of a city verifies that city: the hash chain, which every city "
        "in the database shares, through every transaction, and the city's own transactions, "
        "accounts and period closes; findings on other cities' transactions are only counted "
        "(one `other_roots` finding), and the counts checked are the city's. A global admin "
        "verifies the whole ledger, or one city with `root`. `since_close` starts at the "
        "city's last period close."
    ),
)
def verification(
    request: Request,
    state: State,
    since_close: FromQuery[bool] = False,
    root: RootCode = None,
    checkpoint: Checkpoints = None,
) -> VerificationReport:
    user: User = request.user
    require_top_auditor(user)
    given = checkpoint or []
    if len(given) > checkpoints_per_verification_max:
        raise LedgerError(
            Code.too_many_lines,
            f"一次最多核验 {checkpoints_per_verification_max} 个核验点 "
            f"(at most {checkpoints_per_verification_max} checkpoints)",
            "checkpoint",
        )
    report = verify_ledger(
        reads_of(request, state),
        since_close=since_close,
        root_code=audit_root(user, root),
        checkpoints=[parse_checkpoint(text) for text in given],
    )
    observe_verification(report)
    return report


@get(
    "/audit/period-closes",
    sync_to_thread=True,
    tags=["audit"],
    summary="月结: your city's period closes, oldest first",
    description=(
        "The closes of the caller's city (and any made for every city before cities were "
        "separate); a global admin reads every close, or one city's with `root`."
    ),
)
def list_period_closes(request: Request, state: State, root: RootCode = None) -> list[PeriodClose]:
    return period_closes(services_of(state).database, audit_root(request.user, root))


class PeriodCloseCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """root_code: the city to close; only a global admin names it (anybody else closes their
    own city), and must when the ledger holds several."""

    period_end: dt.date
    root_code: str | None = None


@post(
    "/audit/period-closes",
    sync_to_thread=True,
    guards=[roles(Role.auditor)],
    tags=["audit"],
    summary="月结: close your city's books through a day (auditors at the top)",
    description=(
        "Closes the caller's city only: nothing at its locations may be posted on or before "
        "that day afterwards; other cities are not touched."
    ),
)
def create_period_close(
    request: Request,
    state: State,
    data: JSONBody[PeriodCloseCreate],
    idempotency_key: IdempotencyKey = None,
) -> Response[PeriodClose]:
    user: User = request.user
    require_top_auditor(user)
    root = audit_root(user, data.root_code)
    services = services_of(state)
    today = services.clock()

    def work(_: str | None) -> PeriodClose:
        return close_books(services.database, data.period_end, user.id, today, root)

    return idempotent(request, state, idempotency_key, data, work)


@get(
    "/audit/log",
    sync_to_thread=True,
    tags=["audit"],
    summary="操作日志: every action that is not a movement, newest first",
)
def audit_log(
    request: Request,
    state: State,
    action: Annotated[
        str | None,
        QueryParameter(
            max_length=log_action_length_max,
            description="an action or its prefix: user, stocktake.approve",
        ),
    ] = None,
    object_type: Annotated[
        str | None, QueryParameter(max_length=log_object_type_length_max)
    ] = None,
    object_key: Annotated[str | None, QueryParameter(max_length=log_object_key_length_max)] = None,
    user_id: Annotated[int | None, QueryParameter(ge=1, le=integer_magnitude_max)] = None,
    since: Annotated[dt.datetime | None, QueryParameter(description="from this instant")] = None,
    until: Annotated[dt.datetime | None, QueryParameter(description="before this instant")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[LogEntry]:
    root = log_root(request.user)
    entries = read_log(
        services_of(state).database,
        root,
        LogFilter(action, object_type, object_key, user_id, _utc(since), _utc(until)),
        limit=limit + 1,
        offset=offset,
    )
    return page(entries, limit, offset)


def _utc(instant: dt.datetime | None) -> dt.datetime | None:
    """An instant in UTC, as the log keeps them; one given without an offset is the office's
    local time (LEDGER_TIME_ZONE)."""
    if instant is None:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=office_zone())
    return instant.astimezone(dt.UTC)


ROUTES = [chain_digest, verification, list_period_closes, create_period_close, audit_log]
