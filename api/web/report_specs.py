"""The reports the workspace offers (报表): each one's Chinese title and description, its
filters exactly as the API takes them (names, bounds, defaults), and the report service the
API's route calls (api/report_routes.py) to build it.

A page reads its filters from the query string as text and checks them here, so that a wrong
value is answered in Chinese beside its field instead of the API's 400; the checked values go
to the same service function as the API's, so no figure is computed twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ledger import demand
from ledger.limits import (
    audit_sample_size_max,
    code_length_max,
    integer_magnitude_max,
    near_expiry_days_max,
)
from ledger.reconcile import DEFAULT_THRESHOLD
from ledger.services import report_audit, report_demand, report_norms, report_stock, reports
from ledger.services.demand_plan import check_level
from ledger.services.report_formats import Report
from ledger.services.suggestions import window_months

API = "/api/v1"


@dataclass(frozen=True)
class Filter:
    """One filter: `name` is the API's query parameter. kind: location, item, batch, date,
    int, rate, bool, stocktake, year (this year or the next) or text. default: the API's
    default as text ("" for none); a required filter without a value leaves the report unrun.
    low/high: bounds of an int or rate. options: (value, 中文) to choose from, shown as a
    select (the value is still checked by its kind, and by the service)."""

    name: str
    label: str
    kind: str
    required: bool = True
    default: str = ""
    low: float = 0
    high: float = 0
    hint: str = ""
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ReportSpec:
    name: str
    title: str
    about: str
    filters: tuple[Filter, ...]
    # (store, checked values, today) -> the report, as the API's route builds it
    build: Callable[[Any, dict[str, Any], dt.date], Report]
    # the filter naming the location whose subtree is read (reach is checked on it)
    place: str = "under"
    # the columns of quantities of the row's item, shown on screen in its packs with the base
    # units beside (the print form and the downloads keep base units)
    quantities: frozenset[str] = frozenset({"on_hand"})
    # (checked values, today) -> None, each raising LedgerError for one filter: run before the
    # report, all of them, so that every wrong filter is named at once
    checks: tuple[Callable[[dict[str, Any], dt.date], object], ...] = ()

    def filter(self, name: str) -> Filter | None:
        return next((f for f in self.filters if f.name == name), None)

    def api_path(self, values: Mapping[str, Any]) -> str:
        if self.name == "stocktake":
            return f"{API}/stocktakes/{values.get('number', '')}/report"
        return f"{API}/reports/{self.name}"


UNDER = Filter("under", "库点（含下级）", "location")
FROM = Filter("date_from", "起始日期", "date", hint="含当日")
TO = Filter("date_to", "截止日期", "date", hint="含当日")
ITEM_ANY = Filter("item", "物资", "item", required=False)
ITEM = Filter("item", "物资", "item")


def _period_summary(store: Any, v: dict[str, Any], _: dt.date) -> Report:
    return reports.period_summary(
        store, v["under"], v["date_from"], v["date_to"], v["item"], v["by_batch"], v["rollup"]
    )


def _demand_plan(store: Any, v: dict[str, Any], today: dt.date) -> Report:
    return report_demand.demand_plan_asked_report(
        store, v["under"], v["year"], today, v["months"], v["growth"], v["level"]
    )


DEMAND_CHECKS: tuple[Callable[[dict[str, Any], dt.date], object], ...] = (
    lambda v, today: demand.check_year(v["year"], today),
    lambda v, _: None if v["months"] is None else window_months(v["months"]),
    lambda v, _: None if v["growth"] is None else demand.parse_growth(v["growth"]),
    lambda v, _: None if v["level"] is None else check_level(v["level"]),
)
DEMAND_MONTHS = (("", "12 个整月（默认）"), ("6", "6 个整月"), ("3", "3 个整月"))
DEMAND_LEVELS = (
    ("", "乡镇（默认）"),
    ("city", "市"),
    ("county", "区县"),
    ("township", "乡镇"),
    ("village", "村（社区）"),
)


def _stock_card(store: Any, v: dict[str, Any], _: dt.date) -> Report:
    return report_stock.stock_card(
        store, v["location"], v["item"], v["batch"], v["date_from"], v["date_to"]
    )


SPECS: tuple[ReportSpec, ...] = (
    ReportSpec(
        "period-summary",
        "收发存汇总表",
        "期初结存 + 本期收入 − 本期发出 = 期末结存，按库点和物资（可分批次），下级逐级汇总。",
        (
            UNDER,
            FROM,
            TO,
            ITEM_ANY,
            Filter("by_batch", "按批次分列", "bool", default="false"),
            Filter("rollup", "下级汇总（小计）", "bool", default="true"),
        ),
        _period_summary,
        quantities=frozenset(reports.SUMMARY_KEYS),
    ),
    ReportSpec(
        "stock-on-hand",
        "库存余额表",
        "各库点、物资、批次的结存和有效期，当前或截至某日日终。",
        (
            UNDER,
            Filter("as_of", "截至日期", "date", required=False, hint="不填为当前"),
            ITEM_ANY,
        ),
        lambda s, v, _: report_stock.stock_on_hand(s, v["under"], v["as_of"], v["item"]),
    ),
    ReportSpec(
        "stock-card",
        "库存明细账",
        "一个库点、一种物资、一个批次的逐笔收发、凭证号、摘要和结存。",
        (
            Filter("location", "库点", "location"),
            ITEM,
            Filter("batch", "批次", "batch"),
            FROM,
            TO,
        ),
        _stock_card,
        place="location",
    ),
    ReportSpec(
        "near-expiry",
        "近效期及过期药具表",
        "在库批次中已过期或将在若干天内到期的，按库点列出结存。",
        (
            UNDER,
            Filter(
                "days",
                "天数",
                "int",
                default="90",
                high=near_expiry_days_max,
                hint="今天起多少天内到期",
            ),
        ),
        lambda s, v, today: report_stock.near_expiry(s, v["under"], v["days"], today),
    ),
    ReportSpec(
        "in-transit",
        "在途物资表",
        "已发出尚未签收的发货，最早发出的在前，含在途天数。",
        (UNDER,),
        lambda s, v, today: report_stock.in_transit(s, v["under"], today),
    ),
    ReportSpec(
        "stock-alerts",
        "库存预警表",
        "按库存定额，现有加在途低于最低库存（补货）或高于最高库存（积压）的库点和物资，含可用月数和建议申领量。",
        (
            UNDER,
            Filter(
                "months",
                "消耗月数",
                "int",
                required=False,
                low=3,
                high=12,
                hint="3、6 或 12 个整月，不填按系统设置",
            ),
        ),
        lambda s, v, today: report_norms.stock_alerts_asked(s, v["under"], today, v["months"]),
        quantities=frozenset({"on_hand", "in_transit", "on_order", "suggested"}),
    ),
    ReportSpec(
        "demand-plan",
        "年度需求计划",
        "各库点各物资上年消耗、月均消耗、计划需求量、最高库存、现有库存和在途，"
        "减去已申领未到，算出应申领（印制）量；区县小计，按物资合计。",
        (
            UNDER,
            Filter("year", "计划年度", "year", hint="今年或明年"),
            Filter(
                "months",
                "月均消耗按",
                "int",
                required=False,
                low=3,
                high=12,
                options=DEMAND_MONTHS,
            ),
            Filter(
                "growth",
                "增长率（%）",
                "text",
                required=False,
                hint="-50 到 100，至多一位小数，不填按系统设置",
            ),
            Filter("level", "分行级别", "text", required=False, options=DEMAND_LEVELS),
        ),
        _demand_plan,
        quantities=frozenset(),
        checks=DEMAND_CHECKS,
    ),
    ReportSpec(
        "write-off-rate",
        "报损率统计表",
        "各库点各物资本期报损数 ÷（期初结存 + 本期收入），对照控制标准判定。",
        (
            UNDER,
            FROM,
            TO,
            Filter(
                "limit",
                "控制标准",
                "rate",
                default=str(reports.WRITE_OFF_RATE_LIMIT),
                high=1,
                hint="比例，0.005 即 5‰",
            ),
        ),
        lambda s, v, _: reports.write_off_rate(
            s, v["under"], v["date_from"], v["date_to"], v["limit"]
        ),
    ),
    ReportSpec(
        "coverage",
        "进村入户率统计表",
        "辖区内各村（社区）本期是否收到某种物资，送达村数 ÷ 村总数。",
        (UNDER, ITEM, FROM, TO),
        lambda s, v, _: report_stock.coverage(
            s, v["under"], v["item"], v["date_from"], v["date_to"]
        ),
    ),
    ReportSpec(
        "audit-sample",
        "抽查盘点表",
        "按市、县、乡、村分层随机抽取在库账户，打印后实地清点；同一随机种子得到同一样本。",
        (
            UNDER,
            Filter("size", "抽查数量", "int", default="30", low=1, high=audit_sample_size_max),
            Filter("seed", "随机种子", "int", default="0", high=integer_magnitude_max),
        ),
        lambda s, v, today: report_audit.audit_sample(s, v["under"], v["size"], v["seed"], today),
    ),
    ReportSpec(
        "stocktake",
        "盘点报告",
        "一次盘点的帐物相符核对表：盘盈、盘亏、帐物相符率，盘点人、监盘人、审核人签字。",
        (
            Filter("number", "盘点单", "stocktake"),
            Filter(
                "threshold",
                "帐物相符率标准",
                "rate",
                default=str(DEFAULT_THRESHOLD),
                high=1,
                hint="比例，0.98 即 98%",
            ),
        ),
        lambda s, v, _: report_audit.stocktake_report(s, v["number"], v["threshold"]),
        place="",
    ),
)
BY_NAME = {spec.name: spec for spec in SPECS}


# ---- reading the filters -------------------------------------------------------------------------


def _date(text: str) -> dt.date:
    if len(text) != 10:
        raise ValueError(text)
    return dt.date.fromisoformat(text)


def _number(text: str, kind: str, low: float, high: float) -> int | float:
    value: int | float = int(text) if kind == "int" else float(text)
    if not low <= value <= high:
        raise ValueError(text)
    return value


def _checked(f: Filter, text: str) -> Any:
    """The value of a filter given as text (raises ValueError with the Chinese reason)."""
    if f.kind == "date":
        try:
            return _date(text)
        except ValueError:
            raise ValueError("日期应为 年-月-日，例如 2026-06-30") from None
    if f.kind == "year":
        if not (text.isdecimal() and len(text) == 4):
            raise ValueError("应为四位数的年份，如 2027")
        return int(text)
    if f.kind in ("int", "rate"):
        try:
            return _number(text, f.kind, f.low, f.high)
        except ValueError:
            what = "整数" if f.kind == "int" else "数"
            high = f"{f.high:,.0f}" if f.kind == "int" else f"{f.high:g}"
            raise ValueError(f"应为 {f.low:g} 到 {high} 之间的{what}") from None
    if f.kind == "bool":
        if text not in ("true", "false"):
            raise ValueError("应为“是”或“否”")
        return text == "true"
    if len(text) > code_length_max * 5:
        raise ValueError("太长了")
    return text


REQUIRED = {
    "location": "请选择库点",
    "item": "请选择物资",
    "batch": "请选择批次",
    "date": "请填写日期",
    "stocktake": "请选择盘点单",
    "text": "请填写",
}


def read_filters(
    spec: ReportSpec, query: Mapping[str, str], defaults: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, Any], dict[str, str]]:
    """(the text each field shows, the checked values, {field: 中文 error}).

    A field missing from the query takes the page's default (`defaults`, e.g. the user's own
    location and this month) or the API's; a required field still empty is an error only
    once the form was sent (some filter is in the query), so the first visit shows the form
    without complaints."""
    sent = any(f.name in query for f in spec.filters)
    texts: dict[str, str] = {}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in spec.filters:
        text = query.get(f.name)
        if text is None:
            text = defaults.get(f.name, f.default)
        text = text.strip()
        texts[f.name] = text
        if not text:
            values[f.name] = None
            if f.required and sent:
                errors[f.name] = REQUIRED.get(f.kind, "请填写")
            continue
        try:
            values[f.name] = _checked(f, text)
        except ValueError as reason:
            errors[f.name] = str(reason)
    return texts, values, errors


def ready(spec: ReportSpec, values: Mapping[str, Any]) -> bool:
    """Every required filter has a value: the report can run."""
    return all(values.get(f.name) is not None for f in spec.filters if f.required)


def api_query(spec: ReportSpec, texts: Mapping[str, str]) -> list[tuple[str, str]]:
    """The filters as the API's query parameters (those with a value; the stocktake's number
    is in the path)."""
    return [
        (f.name, texts[f.name]) for f in spec.filters if texts.get(f.name) and f.name != "number"
    ]
