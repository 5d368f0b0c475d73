"""年度需求计划 (annual demand plan) over HTTP: the report of a subtree for this year or the
next, as JSON, CSV, XLSX or print HTML (api/report_routes.py `answer`). Everyone reads the plan
of the places they may see, as for the 库存预警表 (api/norm_routes.py)."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.params import FromQuery, QueryParameter
from litestar.types import ControllerRouterHandler

from api.common import reads_of, services_of
from api.media_types import ExportOperation
from api.norm_routes import Level, Months
from api.report_routes import Format, answer
from ledger.services import report_demand

Year = Annotated[int, QueryParameter(description="the plan's year: this year or the next")]
Growth = Annotated[
    str | None,
    QueryParameter(
        max_length=8,
        description="growth in percent, -50 to 100, one decimal (default LEDGER_DEMAND_GROWTH)",
    ),
]


@get(
    "/reports/demand-plan",
    sync_to_thread=True,
    summary="年度需求计划: a year's demand, stock and what to request (or print), per place",
    tags=["reports"],
    operation_class=ExportOperation,
)
def demand_plan(
    request: Request,
    state: State,
    under: FromQuery[str],
    year: Year,
    months: Months = None,
    growth: Growth = None,
    level: Level = None,
    format: Format = "json",
) -> Response:
    services = services_of(state)
    services.visible_location(request.user, under, "under")
    today = services.clock()
    report = reads_of(request, state).lookup(
        lambda s: report_demand.demand_plan_asked_report(
            s, under, year, today, months, growth, level
        )
    )
    return answer(report, format)


ROUTES: list[ControllerRouterHandler] = [demand_plan]
