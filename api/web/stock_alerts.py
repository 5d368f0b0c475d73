"""库存预警 on the home page: the places of the user's subtree holding less than their minimum
(补货, 急需) or more than their maximum (积压) by the stock norms (docs/norms.md), a few lines,
the most urgent first, with a link to the full 库存预警表 (/reports/stock-alerts).

The home page draws the card empty (`alerts_card`) and htmx fills it from `/home/alerts`
(`alerts_fragment`), so the page never waits for the figures. They are
`ledger.services.alert_summary`'s: the report's own (`suggestions.stock_alerts`), kept between
readings while nothing changed them."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from litestar import Request, get
from litestar.response import Template

from api.common import services_of
from api.policy import root_code
from api.web.render import page
from api.web.report_specs import BY_NAME
from ledger import norms as n
from ledger.model import Role
from ledger.services import report_norms, suggestions
from ledger.services.alert_summary import alert_summary
from ledger.services.suggestions import Position
from ledger.services.users import User


class AlertLine(NamedTuple):
    """One alert as the home page shows it: the position, 补货 or 积压, months of stock as
    text (无消耗 without consumption) and what to ask for (base units, 0 for 积压)."""

    position: Position
    below: bool
    months_of_stock: str


class HomeAlerts(NamedTuple):
    """under_code/under_name: the place whose subtree is read; below/above: how many lines of
    each; lines: the most urgent few (`alert_summary.ALERT_LINES_SHOWN`), 补货 before 积压;
    months: the AMC window. demand_plan: the workspace offers the 年度需求计划 report (linked
    when it does)."""

    under_code: str
    under_name: str
    below: int
    above: int
    lines: list[AlertLine]
    months: int
    demand_plan: bool  # the workspace has the 年度需求计划 report page to link to

    @property
    def more(self) -> bool:
        return self.below + self.above > len(self.lines)


def alerts_place(user: User) -> str | None:
    """The place whose subtree a user's alerts cover: its own; its city for an admin; none
    for a global admin (it reaches every city: the report asks which)."""
    if user.has(Role.admin):
        return root_code(user)
    return user.location_code


def alerts_card(request: Request) -> dict | None:
    """What home.html needs to draw the card before its figures: the place and the report's
    link (the figures come from `alerts_fragment`); None for a global admin."""
    code = alerts_place(request.user)
    if code is None:
        return None
    place = services_of(request.app.state).location(code).location
    return {"under_code": code, "under_name": place.name, "demand_plan": "demand-plan" in BY_NAME}


def home_alerts(request: Request, today: dt.date) -> HomeAlerts | None:
    user: User = request.user
    code = alerts_place(user)
    if code is None:
        return None
    services = services_of(request.app.state)
    months = suggestions.window_months(None)
    found = alert_summary(services.database, code, today, months)
    lines = [
        AlertLine(
            p,
            p.suggestion.alert is n.AlertKind.below_minimum,
            report_norms.decimal(p.suggestion.months_of_stock) or "无消耗",
        )
        for p in found.lines
    ]
    place = services.location(code).location
    return HomeAlerts(
        code,
        place.name,
        found.below,
        found.above,
        lines,
        months,
        "demand-plan" in BY_NAME,
    )


@get("/home/alerts", sync_to_thread=True)
def alerts_fragment(request: Request) -> Template:
    """The 库存预警 card's figures alone: the home page draws the card and htmx loads this into
    it, so the page never waits for the alerts (a city's take seconds when not kept)."""
    user: User = request.user
    return page(
        request,
        "home_alerts.html",
        "库存预警",
        alerts=home_alerts(request, services_of(request.app.state).clock()),
        may_request=user.has(Role.requester),
    )
