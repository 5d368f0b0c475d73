"""首页: the signed-in user's to-do list over its subtree and a few key figures with small
charts drawn on the server, the stock alerts of the norms (stock_alerts.py, loaded after the
page); 最低库存 (/minimums): clerks and admins set the least a place
should hold of an item, and the home page lists the places holding less.

Which lists a user sees follows its roles and api/policy.py's rules of reach: an approver (or
an admin) sees the requests it may approve, the clerk of a place the approved requests it
ships, the people of a place (an admin: of every place of its reach) the shipments addressed to
it; everybody the stocktakes, scan documents, near-expiry batches, stock below a minimum and
long journeys in its subtree."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.response import Redirect, Template

from api.common import services_of
from api.errors import status_of
from api.policy import roles, scope_path
from api.web.charts import Bar, Column, bar_chart, column_chart, short_number
from api.web.render import Form, errors_of, new_once_key, once, page
from api.web.stock_alerts import alerts_card, alerts_fragment
from api.web.units import quantity_text
from ledger.model import Role
from ledger.rules import Code, LedgerError
from ledger.services import lookups
from ledger.services.stock_minimums import set_stock_minimum, stock_minimums
from ledger.services.users import User
from ledger.services.work_figures import Coverage, StockHistory, coverage_by_area, stock_by_month
from ledger.services.work_lists import WorkAsk, work_lists

# (list, its 中文 heading, the roles that see it: empty for everybody; an admin sees every list)
LISTS: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("approve", "待我审批的申领单", frozenset({Role.approver})),
    ("ship", "待发货的申领单", frozenset({Role.clerk})),
    ("confirm", "待我签收的发货", frozenset({Role.clerk, Role.requester})),
    ("stocktakes", "进行中的盘点", frozenset({Role.clerk, Role.approver, Role.auditor})),
    ("scans", "未完成的扫码单", frozenset({Role.clerk, Role.requester})),
    ("expiring", "近效期及过期批次", frozenset()),
    ("below_minimum", "低于最低库存", frozenset()),
    ("transit", "在途超期的发货", frozenset()),
)
MINIMUM_FIELDS = frozenset({"location_code", "item_code", "minimum", "unit"})


def lists_of(user: User) -> frozenset[str]:
    """The to-do lists the user's roles see (an admin sees every list)."""
    return frozenset(
        name
        for name, _, wanted in LISTS
        if not wanted or user.has(Role.admin) or any(user.has(role) for role in wanted)
    )


def work_ask(request: Request) -> WorkAsk:
    user: User = request.user
    settings = request.app.state.settings
    return WorkAsk(
        under=scope_path(user),
        lists=lists_of(user),
        own_code=None if user.has(Role.admin) else user.location_code,
        near_days=settings.near_expiry_days,
        transit_days=settings.transit_days_max,
    )


def home_page(request: Request) -> Template:
    user: User = request.user
    services = services_of(request.app.state)
    today = services.clock()
    ask = work_ask(request)
    found = work_lists(services.database, ask, today)
    history = stock_by_month(services.database, ask.under, today)
    coverage = coverage_by_area(
        services.database, ask.under, request.query_params.get("item"), today
    )
    shown = [(name, heading, found[name]) for name, heading, _ in LISTS if name in found]
    return page(
        request,
        "home.html",
        "首页",
        today=today,
        lists=shown,
        due=[(name, heading, found) for name, heading, found in shown if found.entries],
        near_days=ask.near_days,
        transit_days=ask.transit_days,
        may_set_minimums=user.has(Role.admin) or user.has(Role.clerk),
        history=history,
        stock_charts=stock_charts(history),
        coverage=coverage,
        coverage_chart=coverage_chart(coverage),
        alerts=alerts_card(request),
    )


def stock_charts(history: StockHistory) -> list[tuple[Any, Any]]:
    """(item, its column chart) for each item held in the subtree."""
    made = []
    for series in history.series:
        item = series.item
        columns = [
            Column(
                f"{bound.month}月" if index < len(history.bounds) - 1 else "今日",
                value,
                short_number(value),
                f"{bound.isoformat()} 结存 {quantity_text(value, item)}",
            )
            for index, (bound, value) in enumerate(zip(history.bounds, series.values, strict=True))
        ]
        made.append((item, column_chart(f"{item.name} 各月末结存（{item.base_unit}）", columns)))
    return made


def coverage_chart(coverage: Coverage) -> Any:
    if coverage.item is None or not coverage.bars:
        return None
    bars = [
        Bar(
            bar.area.name,
            bar.rate,
            f"{bar.rate * 100:.1f}%",
            f"{bar.rate * 100:.1f}%（送达 {bar.reached} 个村，共 {bar.villages} 个村）",
        )
        for bar in coverage.bars
    ]
    return bar_chart(f"{coverage.item.name} 进村入户率", bars)


@get("/home/coverage", sync_to_thread=True)
def coverage_fragment(request: Request) -> Template:
    """The 进村入户率 card alone, for another item (htmx swaps it in place)."""
    services = services_of(request.app.state)
    coverage = coverage_by_area(
        services.database,
        scope_path(request.user),
        request.query_params.get("item"),
        services.clock(),
    )
    return page(
        request,
        "home_coverage.html",
        "进村入户率",
        coverage=coverage,
        coverage_chart=coverage_chart(coverage),
    )


# ---- 最低库存 ------------------------------------------------------------------------------------------


def minimums_page(
    request: Request,
    form: dict | None = None,
    errors: dict | None = None,
    status_code: int = 200,
    notice: str = "",
) -> Template:
    user: User = request.user
    database = services_of(request.app.state).database
    under = scope_path(user)
    places = lookups.locations(database, under, None, False, 500, 0)
    items = lookups.items(database, 500, 0)
    own = "" if user.is_global else user.location_code
    form = form or {"location_code": own, "once": new_once_key()}
    place_options = [(place.code, f"{place.name}（{place.code}）") for place in places]
    units = sorted({pack.name for item in items for pack in item.packs})
    answer = page(
        request,
        "home_minimums.html",
        "最低库存",
        minimums=stock_minimums(database, under),
        place_options=place_options,
        items_options=[("", "请选择")]
        + [(item.code, f"{item.name}（{item.code}）") for item in items],
        unit_options=[("", "基本单位")] + [(unit, unit) for unit in units],
        form=form,
        errors=errors or {},
        notice=notice,
    )
    answer.status_code = status_code
    return answer


@get("/minimums", sync_to_thread=True, guards=[roles(Role.clerk)])
def minimums(request: Request) -> Template:
    saved = request.query_params.get("saved", "")
    return minimums_page(request, notice="已保存最低库存。" if saved else "")


@post("/minimums", sync_to_thread=True, guards=[roles(Role.clerk)], status_code=303)
def set_minimum(request: Request, data: Form) -> Any:
    """Set a minimum at a place of the user's reach; refused beside the field at fault."""
    user: User = request.user
    services = services_of(request.app.state)
    form = {key: str(data.get(key, "")).strip() for key in (*MINIMUM_FIELDS, "once")}
    try:
        minimum = _whole_number(form["minimum"])
        services.visible_location(user, form["location_code"])
        once(
            request,
            form,
            lambda: set_stock_minimum(
                services.database,
                form["location_code"],
                form["item_code"],
                minimum,
                user.id,
                form["unit"] or None,
            ),
        )
    except PermissionDeniedException:  # a place outside the user's reach
        form["once"] = new_once_key()
        message = "该库点不在您的管辖范围内，不能设置最低库存"
        return minimums_page(request, form, {"location_code": message}, 403)
    except LedgerError as error:
        form["once"] = new_once_key()
        return minimums_page(request, form, errors_of(error, MINIMUM_FIELDS), status_of(error))
    return Redirect(path="/minimums?saved=1", status_code=303)


def _whole_number(text: str) -> int:
    try:
        return int(text.replace(",", ""))
    except ValueError:
        raise LedgerError(Code.invalid_field, "最低库存须为整数 (an integer)", "minimum") from None


HANDLERS: list = [coverage_fragment, alerts_fragment, minimums, set_minimum]
