"""库存预警 (stock alerts) and 建议申领 (suggested request) as reports: the same figures as
ledger/services/suggestions.py, as a `Report` that renders to JSON, CSV, XLSX and print HTML."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from ledger import norms as n
from ledger.db.store import LedgerStore
from ledger.services.report_formats import Column, Report
from ledger.services.suggestions import Position, stock_alerts, suggested_request, window_months

COLUMNS = (
    Column("location_code", "库点编码"),
    Column("location_name", "库点"),
    Column("item_code", "物资编码"),
    Column("item_name", "物资名称"),
    Column("unit", "单位"),
    Column("consumption", "窗口消耗量", "int"),
    Column("months_counted", "计入月数", "int"),
    Column("stock_out_months", "断货月数", "int"),
    Column("amc", "月均消耗", "decimal"),
    Column("min_months", "最低月数", "int"),
    Column("max_months", "最高月数", "int"),
    Column("norm_source", "定额来源"),
    Column("minimum", "最低库存", "int"),
    Column("maximum", "最高库存", "int"),
    Column("on_hand", "现有库存", "int"),
    Column("in_transit", "在途", "int"),
    Column("on_order", "已申领未到", "int"),
    Column("months_of_stock", "可用月数", "decimal"),
    Column("suggested", "建议申领量", "int"),
    Column("alert", "预警"),
)


def decimal(value: Fraction | None) -> str | None:
    """A rate to one decimal place (half up), as text; None stays None."""
    if value is None:
        return None
    tenths = (value * 10 + Fraction(1, 2)).__floor__()
    return f"{tenths // 10}.{tenths % 10}"


def alert_name(position: Position) -> str:
    alert = position.suggestion.alert
    if alert is None:
        return ""
    return "补货（急需）" if alert is n.AlertKind.below_minimum else n.ALERT_NAMES[alert]


def row(position: Position) -> tuple:
    s = position.suggestion
    months = s.months_of_stock
    return (
        position.location.code,
        position.location.name,
        position.item.code,
        position.item.name,
        position.item.base_unit,
        s.used.total,
        s.used.months,
        s.used.stock_out_months,
        decimal(s.used.amc),
        s.norm.min_months,
        s.norm.max_months,
        n.NORM_SOURCE_NAMES[s.norm.source],
        s.minimum,
        s.maximum,
        s.on_hand,
        s.in_transit,
        s.on_order,
        "无消耗" if months is None else decimal(months),
        s.suggested,
        alert_name(position),
    )


NOTES = (
    "消耗 = 本库点及下级发放 + 破损/霉变、丢失报损（减去其红冲），按整月统计；"
    "药具不计断货月（月末本库点及下级无库存且当月无到货）",
    "最低/最高库存 = 月均消耗 × 定额月数（不低于所设最低库存）；"
    "建议申领量 = 最高库存 − 现有 − 在途 − 已申领未到，按包装向上取整，不为负；"
    "已申领未到 = 已提交待审批的申领量 + 已批准尚未发出的数量",
    "补货：现有加在途低于最低库存（已申领未到不计，货未上架仍缺）；积压：现有加在途高于最高库存；"
    "可用月数 = 现有 ÷ 月均消耗",
)


def stock_alerts_report(
    store: LedgerStore, under: str, today: dt.date, months: int, level: str | None = None
) -> Report:
    """库存预警表: the places under `under` below their minimum (补货) or above their maximum
    (积压), with months of stock."""
    top = store.location(under, "under").location
    rows = tuple(row(p) for p in stock_alerts(store, under, today, months, level))
    first, *_, last = n.window(today, months)
    return Report(
        "stock-alerts",
        "库存预警表",
        f"{top.name}（{top.code}）及下级　截至 {today}　消耗按 {first:%Y-%m} 至 {last:%Y-%m}",
        COLUMNS,
        rows,
        notes=NOTES,
        signatures=("制表人", "审核人"),
    )


def stock_alerts_asked(
    store: LedgerStore, under: str, today: dt.date, months: int | None
) -> Report:
    """The 库存预警表 over the window asked for (None: LEDGER_AMC_MONTHS); a window other than
    3, 6 or 12 months is refused (invalid_field)."""
    return stock_alerts_report(store, under, today, window_months(months))


def suggested_request_report(
    store: LedgerStore, location_code: str, today: dt.date, months: int
) -> Report:
    """建议申领单: each item's suggestion for one location."""
    top = store.location(location_code, "location_code").location
    rows = tuple(row(p) for p in suggested_request(store, location_code, today, months))
    first, *_, last = n.window(today, months)
    return Report(
        "suggested-request",
        "建议申领单",
        f"{top.name}（{top.code}）　{today}　消耗按 {first:%Y-%m} 至 {last:%Y-%m}",
        COLUMNS,
        rows,
        notes=NOTES,
    )
