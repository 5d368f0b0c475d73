"""库存定额 over HTTP: a location's suggested request (建议申领) and the stock alerts report
(库存预警表). Everyone reads them for the places they may see: a township's requester its own
township (and its villages), an office its subtree.

Norms are read by everyone (`GET /norms`: the level norms and those of the places of the
caller's reach) and set by an admin (`POST /norms`, as `ledger norms set` does, dated and
logged): a location's norm by an admin of its city; a level's norm for a city by an admin of
that city (its own city, named or not) or a global admin; a level's norm for every city
(no `city_code`), which the places of a city follow where their city has none, by a global
admin only (as items and batches, shared by every city)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from api.common import IdempotencyKey, idempotent, reads_of, services_of
from api.errors import Forbidden
from api.media_types import ExportOperation
from api.policy import roles, root_code
from api.report_routes import Format, answer
from ledger import norms as n
from ledger.model import Role
from ledger.services import norms, report_norms, suggestions
from ledger.services.suggestions import Position
from ledger.services.users import User

Months = Annotated[
    int | None, QueryParameter(description="AMC window: 3, 6 or 12 whole months (default 6)")
]
Level = Annotated[
    str | None,
    QueryParameter(pattern="^(city|county|township|village)$", description="only this level"),
]


class SuggestedLine(msgspec.Struct, frozen=True):
    """One item: consumption over the window (base units), AMC and months of stock (one
    decimal, as text), the norm in months and where it comes from, min/max stock, on hand, in
    transit, on order (已申领未到: what the location's submitted requests ask and its approved
    ones still expect, not yet shipped), the suggested quantity (max − on hand − in transit −
    on order; base units, whole packs of `pack_size`), urgent (急需: on hand + in transit below
    the minimum) and the alert (below_minimum, above_maximum; on order does not lift them)."""

    item_code: str
    item_name: str
    unit: str
    consumption: int
    months_counted: int
    stock_out_months: int
    amc: str
    min_months: int
    max_months: int
    norm_source: str
    minimum: int
    maximum: int
    on_hand: int
    in_transit: int
    months_of_stock: str | None
    suggested: int
    pack_size: int | None
    urgent: bool
    alert: str | None
    on_order: int


class SuggestedRequest(msgspec.Struct, frozen=True):
    """A location's suggestion per item; prefill a request (POST /requests) with the lines
    whose `suggested` is above 0 (quantity = suggested, in base units)."""

    location_code: str
    location_name: str
    as_of: dt.date
    months: int
    window_from: dt.date
    window_to: dt.date
    lines: list[SuggestedLine]


def line(position: Position) -> SuggestedLine:
    s = position.suggestion
    return SuggestedLine(
        position.item.code,
        position.item.name,
        position.item.base_unit,
        s.used.total,
        s.used.months,
        s.used.stock_out_months,
        report_norms.decimal(s.used.amc) or "0.0",
        s.norm.min_months,
        s.norm.max_months,
        s.norm.source.value,
        s.minimum,
        s.maximum,
        s.on_hand,
        s.in_transit,
        report_norms.decimal(s.months_of_stock),
        s.suggested,
        s.pack_size,
        s.urgent,
        None if s.alert is None else s.alert.value,
        s.on_order,
    )


@get(
    "/locations/{code:str}/suggested-request",
    sync_to_thread=True,
    summary="建议申领: each item's suggested request quantity for a location",
    tags=["norms"],
    operation_class=ExportOperation,
)
def suggested_request(
    request: Request,
    state: State,
    code: FromPath[str],
    months: Months = None,
    format: Format = "json",
) -> Response:
    services = services_of(state)
    place = services.visible_location(request.user, code, "code")
    window = suggestions.window_months(months)
    today = services.clock()
    if format != "json":
        report = reads_of(request, state).lookup(
            lambda s: report_norms.suggested_request_report(s, code, today, window)
        )
        return answer(report, format)
    positions = reads_of(request, state).lookup(
        lambda s: suggestions.suggested_request(s, code, today, window)
    )
    first, *_, last = n.window(today, window)
    return Response(
        SuggestedRequest(
            place.location.code,
            place.location.name,
            today,
            window,
            first,
            (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1),
            [line(p) for p in positions],
        )
    )


@get(
    "/reports/stock-alerts",
    sync_to_thread=True,
    summary="库存预警表: places below their minimum (补货) or above their maximum (积压)",
    tags=["reports"],
    operation_class=ExportOperation,
)
def stock_alerts(
    request: Request,
    state: State,
    under: FromQuery[str],
    months: Months = None,
    level: Level = None,
    format: Format = "json",
) -> Response:
    services = services_of(state)
    services.visible_location(request.user, under, "under")
    window = suggestions.window_months(months)
    today = services.clock()
    report = reads_of(request, state).lookup(
        lambda s: report_norms.stock_alerts_report(s, under, today, window, level)
    )
    return answer(report, format)


# ---- the norms -------------------------------------------------------------------------------


class NormSet(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A norm to set: for a `level` (city, county, township, village: every place of it,
    every item; in the city `city_code`, a root location — a city's admin: its own city,
    the default — or, from a global admin without one, in every city) or for a
    `location_code` (every item, or `item_code`); whole months 0–36, max at least min and
    above 0; valid from `valid_from` (default today, never before)."""

    min_months: int
    max_months: int
    level: str | None = None
    city_code: str | None = None
    location_code: str | None = None
    item_code: str | None = None
    valid_from: dt.date | None = None


class NormSetting(msgspec.Struct, frozen=True):
    """A norm as set: its scope (a level, in the city `city_code` or in every city when
    null; or a location, maybe one item), months, the day it is valid from, who set it and
    when."""

    id: int
    level: str | None
    city_code: str | None
    location_code: str | None
    item_code: str | None
    min_months: int
    max_months: int
    valid_from: dt.date
    set_by: str
    set_at: dt.datetime


def setting_of(found: norms.NormOut) -> NormSetting:
    return NormSetting(*found)


def require_may_set_norm(user: User, state: State, data: NormSet) -> str | None:
    """The city a norm is set for, when the admin may set it: a location of its reach (the
    city goes with the place: none is named); a level's norm for its own city (named or
    not), or a global admin's for the city it names or, naming none, for every city."""
    if data.location_code is not None and data.level is None:
        services_of(state).visible_location(user, data.location_code, "location_code")
        return data.city_code
    if data.level is None or data.location_code is not None or user.is_global:
        return data.city_code  # the use case refuses a scope that is not one
    own = root_code(user)
    if data.city_code is not None and data.city_code != own:
        raise Forbidden(
            f"只能为本市（{own}）设级别定额，不能为 {data.city_code} 设 "
            "(a city's admin sets its own city's level norms)"
        )
    return own


@get(
    "/norms",
    sync_to_thread=True,
    summary="库存定额 as set: the level norms and the places' own",
    tags=["norms"],
)
def list_norms(
    request: Request, state: State, under: FromQuery[str | None] = None
) -> list[NormSetting]:
    """Every norm set, in the order set: the level norms and those of the places under
    `under` (default: the caller's reach)."""
    user: User = request.user
    services = services_of(state)
    if under is not None:
        services.visible_location(user, under, "under")
    place = under or (user.location_code if not user.has(Role.admin) else root_code(user))
    return [setting_of(found) for found in norms.norms_set(services.database, place)]


@post(
    "/norms",
    sync_to_thread=True,
    guards=[roles(Role.admin)],
    summary="Set a stock norm (admin; a level's: for the admin's city, or every city's by a "
    "global admin)",
    tags=["norms"],
    description="As `ledger norms set`: a new dated setting, logged (`stock_norm.set`); days "
    "before `valid_from` keep the norm in force on them. Refusals: `norm_months_invalid`, "
    "`norm_scope_invalid`, `norm_date_in_past`, `location_must_be_physical`, `unknown_location`, "
    "`unknown_item`; 403 for a place outside the caller's reach or a level's norm for a city not "
    "the caller's. A city's admin sets a level's norm for its own city (`city_code` left out or "
    "its own); a global admin names a city or leaves it out for every city.",
)
def set_norm(
    request: Request,
    state: State,
    data: JSONBody[NormSet],
    idempotency_key: IdempotencyKey = None,
) -> Response[NormSetting]:
    user: User = request.user
    services = services_of(state)
    city_code = require_may_set_norm(user, state, data)
    return idempotent(
        request,
        state,
        idempotency_key,
        data,
        lambda _: setting_of(
            norms.set_norm(
                services.database,
                data.min_months,
                data.max_months,
                level=data.level,
                city_code=city_code,
                location_code=data.location_code,
                item_code=data.item_code,
                valid_from=data.valid_from,
                actor=user.id,
                today=services.clock(),
            )
        ),
    )


ROUTES: list[ControllerRouterHandler] = [suggested_request, stock_alerts, list_norms, set_norm]
