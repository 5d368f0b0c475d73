"""库存定额 over HTTP: a location's suggested request (建议申领) and the stock alerts report
(库存预警表). Everyone reads them for the places they may see: a township's requester its own
township (and its villages), an office its subtree. Norms are set with `ledger norms set`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.types import ControllerRouterHandler

from api.common import reads_of, services_of
from api.media_types import ExportOperation
from api.report_routes import Format, answer
from ledger import norms as n
from ledger.services import report_norms, suggestions
from ledger.services.suggestions import Position

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
    transit, the suggested quantity (base units, whole packs of `pack_size`), urgent (急需:
    on hand + in transit below the minimum) and the alert (below_minimum, above_maximum)."""

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


ROUTES: list[ControllerRouterHandler] = [suggested_request, stock_alerts]
