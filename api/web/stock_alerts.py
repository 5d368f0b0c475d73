"""库存预警 on the home page: the places of the user's subtree holding less than their minimum
(补货, 急需) or more than their maximum (积压) by the stock norms (docs/norms.md), a few lines,
the most urgent first, with a link to the full 库存预警表 (/reports/stock-alerts).

The figures are `ledger.services.suggestions.stock_alerts`, the report's own; only the choice of
lines shown is made here."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import NamedTuple

from litestar import Request

from api.common import services_of
from api.policy import root_code
from api.web.report_specs import BY_NAME
from ledger import norms as n
from ledger.model import Role
from ledger.services import report_norms, suggestions
from ledger.services.suggestions import Position
from ledger.services.users import User

ALERT_LINES_SHOWN = 8


class AlertLine(NamedTuple):
    """One alert as the home page shows it: the position, 补货 or 积压, months of stock as
    text (无消耗 without consumption) and what to ask for (base units, 0 for 积压)."""

    position: Position
    below: bool
    months_of_stock: str


class HomeAlerts(NamedTuple):
    """under_code/under_name: the place whose subtree is read; below/above: how many lines of
    each; lines: the first `ALERT_LINES_SHOWN`, 补货 before 积压; months: the AMC window.
    demand_plan: the workspace offers the 年度需求计划 report (linked when it does)."""

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


def urgency(position: Position) -> tuple:
    """补货 first, the emptiest (position ÷ minimum) first; then 积压, the most months of
    stock first (stock with no consumption at all before any)."""
    s = position.suggestion
    if s.alert is n.AlertKind.below_minimum:
        return (0, 0, Fraction(s.position, s.minimum or 1))
    months = s.months_of_stock
    return (1, 0, 0) if months is None else (1, 1, -months)


def home_alerts(request: Request, today: dt.date) -> HomeAlerts | None:
    user: User = request.user
    code = alerts_place(user)
    if code is None:
        return None
    services = services_of(request.app.state)
    months = suggestions.window_months(None)
    found = services.database.lookup(
        lambda store: suggestions.stock_alerts(store, code, today, months)
    )
    below = [p for p in found if p.suggestion.alert is n.AlertKind.below_minimum]
    shown = sorted(found, key=urgency)[:ALERT_LINES_SHOWN]
    lines = [
        AlertLine(
            p,
            p.suggestion.alert is n.AlertKind.below_minimum,
            report_norms.decimal(p.suggestion.months_of_stock) or "无消耗",
        )
        for p in shown
    ]
    place = services.location(code).location
    return HomeAlerts(
        code,
        place.name,
        len(below),
        len(found) - len(below),
        lines,
        months,
        "demand-plan" in BY_NAME,
    )
