"""Reports over HTTP: each as JSON (`format=json`, the default), CSV, XLSX or a print-friendly
HTML page, with Chinese headers. Everyone reads reports of their own subtree."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.types import ControllerRouterHandler

from api.common import reads_of, services_of
from api.media_types import ExportOperation
from api.policy import require_reads_card, require_sees_transaction
from ledger.limits import audit_sample_size_max, integer_magnitude_max, near_expiry_days_max
from ledger.reconcile import DEFAULT_THRESHOLD
from ledger.services import lookups, report_audit, report_stock, reports, stocktakes
from ledger.services.report_formats import MEDIA_TYPES, Report, render
from ledger.services.users import User

Format = Annotated[
    str, QueryParameter(pattern="^(json|csv|xlsx|html)$", description="json, csv, xlsx or html")
]
Day = Annotated[dt.date, QueryParameter(description="YYYY-MM-DD")]
Days = Annotated[int, QueryParameter(ge=0, le=near_expiry_days_max)]
Rate = Annotated[float, QueryParameter(ge=0, le=1)]
EXPORT_FORMATS = ("csv", "xlsx", "html")


def _visible(state: State, user: User, location_code: str) -> None:
    services_of(state).visible_location(user, location_code, "under")


def answer(report: Report, format: str) -> Response:
    if format == "json":
        return Response(report)
    extension = {"csv": "csv", "xlsx": "xlsx", "html": "html"}[format]
    disposition = "inline" if format == "html" else "attachment"
    return Response(
        render(report, format),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'{disposition}; filename="{report.name}.{extension}"'},
    )


def _read(state: State, work) -> Report:
    return services_of(state).database.lookup(work)


def _report(request: Request, state: State, work) -> Report:
    """A report reads from the replica when there is one (api.common.reads_of)."""
    return reads_of(request, state).lookup(work)


class ReportController(Controller):
    path = "/reports"
    tags = ("reports",)

    @get(
        "/period-summary",
        sync_to_thread=True,
        summary="收发存汇总表 for a period",
        operation_class=ExportOperation,
    )
    def period_summary(
        self,
        request: Request,
        state: State,
        under: FromQuery[str],
        date_from: Day,
        date_to: Day,
        item: FromQuery[str | None] = None,
        by_batch: FromQuery[bool] = False,
        rollup: FromQuery[bool] = True,
        format: Format = "json",
    ) -> Response[Report]:
        _visible(state, request.user, under)
        report = _report(
            request,
            state,
            lambda s: reports.period_summary(s, under, date_from, date_to, item, by_batch, rollup),
        )
        return answer(report, format)

    @get(
        "/stock-card",
        sync_to_thread=True,
        summary="明细账: one account's movements",
        operation_class=ExportOperation,
    )
    def stock_card(
        self,
        request: Request,
        state: State,
        location: FromQuery[str],
        item: FromQuery[str],
        batch: FromQuery[str],
        date_from: Day,
        date_to: Day,
        format: Format = "json",
    ) -> Response[Report]:
        user: User = request.user
        require_reads_card(user, services_of(state).visible_location(user, location, "location"))
        report = _report(
            request,
            state,
            lambda s: report_stock.stock_card(s, location, item, batch, date_from, date_to),
        )
        return answer(report, format)

    @get(
        "/stock-on-hand",
        sync_to_thread=True,
        summary="库存余额, now or as of a day",
        operation_class=ExportOperation,
    )
    def stock_on_hand(
        self,
        request: Request,
        state: State,
        under: FromQuery[str],
        as_of: FromQuery[dt.date | None] = None,
        item: FromQuery[str | None] = None,
        format: Format = "json",
    ) -> Response[Report]:
        _visible(state, request.user, under)
        report = _report(
            request, state, lambda s: report_stock.stock_on_hand(s, under, as_of, item)
        )
        return answer(report, format)

    @get(
        "/near-expiry",
        sync_to_thread=True,
        summary="近效期 / 已过期 batches in stock",
        operation_class=ExportOperation,
    )
    def near_expiry(
        self,
        request: Request,
        state: State,
        under: FromQuery[str],
        days: Days = 90,
        format: Format = "json",
    ) -> Response[Report]:
        _visible(state, request.user, under)
        today = services_of(state).clock()
        report = _report(request, state, lambda s: report_stock.near_expiry(s, under, days, today))
        return answer(report, format)

    @get(
        "/coverage",
        sync_to_thread=True,
        summary="进村入户率: villages that received an item",
        operation_class=ExportOperation,
    )
    def coverage(
        self,
        request: Request,
        state: State,
        under: FromQuery[str],
        item: FromQuery[str],
        date_from: Day,
        date_to: Day,
        format: Format = "json",
    ) -> Response[Report]:
        _visible(state, request.user, under)
        report = _report(
            request, state, lambda s: report_stock.coverage(s, under, item, date_from, date_to)
        )
        return answer(report, format)

    @get(
        "/in-transit",
        sync_to_thread=True,
        summary="在途: unconfirmed shipments, oldest first",
        operation_class=ExportOperation,
    )
    def in_transit(
        self, request: Request, state: State, under: FromQuery[str], format: Format = "json"
    ) -> Response[Report]:
        _visible(state, request.user, under)
        today = services_of(state).clock()
        report = _report(request, state, lambda s: report_stock.in_transit(s, under, today))
        return answer(report, format)

    @get(
        "/write-off-rate",
        sync_to_thread=True,
        summary="报损率 per location and item",
        operation_class=ExportOperation,
    )
    def write_off_rate(
        self,
        request: Request,
        state: State,
        under: FromQuery[str],
        date_from: Day,
        date_to: Day,
        limit: Rate = reports.WRITE_OFF_RATE_LIMIT,
        format: Format = "json",
    ) -> Response[Report]:
        _visible(state, request.user, under)
        report = _report(
            request, state, lambda s: reports.write_off_rate(s, under, date_from, date_to, limit)
        )
        return answer(report, format)

    @get(
        "/audit-sample",
        sync_to_thread=True,
        summary="抽查: a seeded, stratified count sheet",
        operation_class=ExportOperation,
    )
    def audit_sample(
        self,
        request: Request,
        state: State,
        under: FromQuery[str],
        size: Annotated[int, QueryParameter(ge=1, le=audit_sample_size_max)] = 30,
        seed: Annotated[int, QueryParameter(ge=0, le=integer_magnitude_max)] = 0,
        format: Format = "json",
    ) -> Response[Report]:
        _visible(state, request.user, under)
        today = services_of(state).clock()
        report = _report(
            request, state, lambda s: report_audit.audit_sample(s, under, size, seed, today)
        )
        return answer(report, format)


@get(
    "/stocktakes/{number:str}/report",
    sync_to_thread=True,
    tags=["reports"],
    operation_class=ExportOperation,
    summary="盘点报告 with 盘点人 / 监盘人 / 审核人",
)
def stocktake_report(
    request: Request,
    state: State,
    number: FromPath[str],
    threshold: Rate = DEFAULT_THRESHOLD,
    format: Format = "json",
) -> Response[Report]:
    stocktake = stocktakes.get(services_of(state).database, number)
    _visible(state, request.user, stocktake.location_code)
    report = _read(state, lambda s: report_audit.stocktake_report(s, number, threshold))
    return answer(report, format)


@get(
    "/transactions/{number:str}/voucher",
    sync_to_thread=True,
    tags=["reports"],
    operation_class=ExportOperation,
    summary="The printable voucher (入库单, 出库单 …) with 经办人 / 审核人 / 签收人",
)
def voucher(
    request: Request, state: State, number: FromPath[str], format: Format = "html"
) -> Response[Report]:
    services = services_of(state)
    transaction = lookups.transaction(services.database, number)
    require_sees_transaction(request.user, transaction, services.location)
    return answer(_read(state, lambda s: report_audit.voucher(s, number)), format)


ROUTES: list[ControllerRouterHandler] = [ReportController, stocktake_report, voucher]
