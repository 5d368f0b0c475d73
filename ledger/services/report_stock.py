"""Stock reports: 明细账 (one account's movements and running balance), 库存余额, 近效期/已过期,
进村入户率 (coverage), 在途 (in transit)."""

from __future__ import annotations

import datetime as dt

from ledger.db import balance_queries
from ledger.db import report_queries as rq
from ledger.db.store import LedgerStore
from ledger.model import TransactionKind
from ledger.rules import Code, LedgerError
from ledger.services.report_common import (
    VOUCHER_TITLES,
    account_names,
    check_range,
    totals_per_unit,
)
from ledger.services.report_formats import Column, Report


def stock_card(
    store: LedgerStore,
    location_code: str,
    item_code: str,
    batch_number: str,
    date_from: dt.date,
    date_to: dt.date,
) -> Report:
    """明细账: one account's movements in order with voucher numbers, 摘要 and running balance."""
    check_range(date_from, date_to)
    location = store.location(location_code, "location")
    item = store.item(item_code, "item")
    batch = store.batch(item, batch_number, "batch")
    opening, card = rq.stock_card(
        store.connection, location.id, item.id, batch.id, date_from, date_to
    )
    rows: list[tuple[dt.date, str, str, str, int | None, int | None, int]] = [
        (date_from, "", "期初结存", "", None, None, opening)
    ]
    for line in card:
        counterparty = (
            store.location_by_id(line.counterparty_id).location.name if line.counterparty_id else ""
        )
        memo = " ".join(
            part for part in (line.memo, counterparty and f"对方：{counterparty}") if part
        )
        rows.append(
            (
                line.occurred_on,
                line.number,
                memo or VOUCHER_TITLES[TransactionKind(line.kind)],
                store.user_label(line.maker_id, line.chain_version, line.occurred_on),
                line.quantity if line.quantity > 0 else None,
                -line.quantity if line.quantity < 0 else None,
                line.balance_after,
            )
        )
    received = sum(r[4] or 0 for r in rows[1:])
    issued = sum(r[5] or 0 for r in rows[1:])
    closing = rows[-1][6]
    return Report(
        "stock-card",
        "库存明细账",
        f"{location.location.name}　{item.item.name}　批次 {batch.batch.number}　单位：{item.item.base_unit}　{date_from} 至 {date_to}",
        (
            Column("date", "日期", "date"),
            Column("number", "凭证号"),
            Column("memo", "摘要"),
            Column("maker", "制单人"),
            Column("received", "收入", "int"),
            Column("issued", "发出", "int"),
            Column("balance", "结存", "int"),
        ),
        tuple(rows),
        totals=((None, "", "本期合计", "", received, issued, closing),),  # one account: one unit
    )


def stock_on_hand(
    store: LedgerStore, under: str, as_of: dt.date | None = None, item_code: str | None = None
) -> Report:
    """库存余额: on hand by location, item and batch, with expiry (now, or at the end of a day)."""
    top = store.location(under, "under")
    if item_code:
        store.item(item_code, "item")
    lines = balance_queries.balances(
        store.connection, item_code=item_code, as_of=as_of, under_path=top.path
    )
    rows = tuple(
        (
            line.location_code,
            line.location_name,
            line.item_code,
            line.item_name,
            line.batch_number,
            line.expires_on,
            line.unit,
            line.on_hand,
        )
        for line in lines
    )
    return Report(
        "stock-on-hand",
        "库存余额表",
        f"{top.location.name}及下级　截至 {as_of or '当前'}",
        (
            Column("location_code", "库点编码"),
            Column("location_name", "库点"),
            Column("item_code", "物资编码"),
            Column("item_name", "物资名称"),
            Column("batch_number", "批次"),
            Column("expires_on", "有效期至", "date"),
            Column("unit", "单位"),
            Column("on_hand", "结存", "int"),
        ),
        rows,
        totals=totals_per_unit(rows, 6, (7,)),
    )


def near_expiry(store: LedgerStore, under: str, days: int, today: dt.date) -> Report:
    """近效期 / 已过期: stock of batches expiring within `days` days (or already expired)."""
    if not 0 <= days <= 3650:
        raise LedgerError(Code.invalid_field, "天数须在 0 到 3650 之间 (days 0–3650)", "days")
    top = store.location(under, "under")
    rows = []
    for location_id, item_id, batch_id, on_hand, expires_on in rq.expiring(
        store.connection, top.path, today + dt.timedelta(days=days)
    ):
        location, item, batch = account_names(store, (location_id, item_id, batch_id))
        left = (expires_on - today).days
        rows.append(
            (
                location.code,
                location.name,
                item.name,
                batch.number,
                expires_on,
                left,
                on_hand,
                item.base_unit,
                "已过期" if left < 0 else "近效期",
            )
        )
    return Report(
        "near-expiry",
        "近效期及过期药具表",
        f"{top.location.name}及下级　{today} 起 {days} 天内到期",
        (
            Column("location_code", "库点编码"),
            Column("location_name", "库点"),
            Column("item_name", "物资名称"),
            Column("batch_number", "批号"),
            Column("expires_on", "有效期至", "date"),
            Column("days_left", "剩余天数", "int"),
            Column("on_hand", "结存", "int"),
            Column("unit", "单位"),
            Column("status", "状态"),
        ),
        tuple(rows),
        totals=totals_per_unit(tuple(rows), 7, (6,)),
    )


def coverage(
    store: LedgerStore, under: str, item_code: str, date_from: dt.date, date_to: dt.date
) -> Report:
    """进村入户率: of the villages under a node, how many received the item in the period."""
    check_range(date_from, date_to)
    top = store.location(under, "under")
    item = store.item(item_code, "item")
    villages, reached = rq.villages_reached(store.connection, top.path, item.id, date_from, date_to)
    rows = []
    for village_id in villages:
        village = store.location_by_id(village_id)
        parent = store.location(village.location.parent_code or "").location.name
        rows.append(
            (
                village.location.code,
                village.location.name,
                parent,
                "是" if village_id in reached else "否",
            )
        )
    rate = len(reached) / len(villages) if villages else 0.0
    return Report(
        "coverage",
        "进村入户率统计表",
        f"{top.location.name}　{item.item.name}　{date_from} 至 {date_to}",
        (
            Column("village_code", "村(社区)编码"),
            Column("village_name", "村(社区)"),
            Column("township_name", "所属乡镇"),
            Column("reached", "本期已送达"),
        ),
        tuple(rows),
        totals=(
            ("合计", f"{len(villages)} 个村", f"送达 {len(reached)} 个", f"{rate * 100:.2f}%"),
        ),
        notes=(
            f"进村入户率 = 送达村数 ÷ 村总数 = {len(reached)} ÷ {len(villages)} = {rate * 100:.2f}%",
        ),
    )


def in_transit(store: LedgerStore, under: str, today: dt.date) -> Report:
    """在途: shipments not yet confirmed, oldest first, with their age in days."""
    top = store.location(under, "under")
    rows = []
    for shipment in rq.in_transit(store.connection, top.path):
        item = store.item_by_id(shipment.item_id).item
        rows.append(
            (
                shipment.number,
                shipment.occurred_on,
                store.location_by_id(shipment.source_id).location.name,
                store.location_by_id(shipment.destination_id).location.name,
                item.name,
                store.batch_by_id(shipment.batch_id).batch.number,
                shipment.quantity,
                item.base_unit,
                (today - shipment.occurred_on).days,
            )
        )
    return Report(
        "in-transit",
        "在途物资表",
        f"{top.location.name}发出或接收　截至 {today}",
        (
            Column("number", "发货单号"),
            Column("shipped_on", "发出日期", "date"),
            Column("source", "发出单位"),
            Column("destination", "接收单位"),
            Column("item_name", "物资名称"),
            Column("batch_number", "批次"),
            Column("quantity", "数量", "int"),
            Column("unit", "单位"),
            Column("days", "在途天数", "int"),
        ),
        tuple(rows),
        totals=totals_per_unit(tuple(rows), 7, (6,)),
    )
