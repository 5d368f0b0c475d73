"""The auditors' reports: 收发存汇总表, 明细账, 库存余额, 近效期/已过期, 进村入户率, 在途, 报损率,
the stocktake report, and printable vouchers. Each is a `Report` (see report_formats) that the
API serves as JSON, CSV, XLSX or a print-friendly HTML page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np

from ledger.db import closes, queries
from ledger.db import report_queries as rq
from ledger.db.store import LedgerStore
from ledger.model import Location, TransactionKind
from ledger.rules import Code, LedgerError
from ledger.services.report_formats import Column, Report
from ledger.services.stocktakes import reconciliation as stocktake_reconciliation

WRITE_OFF_RATE_LIMIT = 0.005  # policy: 报损率 < 5‰

# The columns of the period summary: (key, title, incoming?, transaction kind).
SUMMARY_IN = (
    ("received", "入库", "receipt"),
    ("arrived", "签收调入", "confirmation"),
    ("returned_in", "退回收到", "return"),
    ("gained", "盘盈", "stocktake"),
    ("reversed_in", "红冲收入", "reversal"),
)
SUMMARY_OUT = (
    ("issued", "出库/调拨", "issue transfer"),
    ("distributed", "发放", "distribution"),
    ("written_off", "报损", "write_off"),
    ("returned_out", "退回上级", "return"),
    ("lost", "盘亏", "stocktake"),
    ("reversed_out", "红冲发出", "reversal"),
)
SUMMARY_KEYS = (
    "opening",
    *(key for key, _, _ in SUMMARY_IN),
    "total_in",
    *(key for key, _, _ in SUMMARY_OUT),
    "total_out",
    "closing",
)
VOUCHER_TITLES = {
    TransactionKind.receipt: "入库单",
    TransactionKind.issue: "出库单",
    TransactionKind.transfer: "调拨单",
    TransactionKind.confirmation: "签收单",
    TransactionKind.distribution: "发放单",
    TransactionKind.return_: "退回单",
    TransactionKind.write_off: "报损单",
    TransactionKind.stocktake: "盘点单",
    TransactionKind.reversal: "红冲单",
}


def _range(date_from: dt.date, date_to: dt.date) -> None:
    if date_from > date_to:
        raise LedgerError(Code.invalid_field, "起始日期晚于截止日期 (from after to)", "date_from")


def _names(store: LedgerStore, key: tuple[int, int, int]):
    location = store.location_by_id(key[0]).location
    item = store.item_by_id(key[1]).item
    batch = store.batch_by_id(key[2]).batch
    return location, item, batch


def _item_id(store: LedgerStore, item_code: str | None) -> int | None:
    return store.item(item_code, "item").id if item_code else None


_AT = {name: index for index, name in enumerate(SUMMARY_KEYS)}
_COLUMN_IN = {kind: _AT[key] for key, _, kind in SUMMARY_IN}
_COLUMN_OUT = {kind: _AT[key] for key, _, kinds in SUMMARY_OUT for kind in kinds.split()}
_OPENING, _TOTAL_IN, _TOTAL_OUT, _CLOSING = (
    _AT["opening"],
    _AT["total_in"],
    _AT["total_out"],
    _AT["closing"],
)
Figures = dict[tuple[int, ...], list[int]]  # account -> SUMMARY_KEYS figures


def _add_moves(figures: Figures, moves: list[rq.Movement], sign: int) -> None:
    """Add (sign 1) or take away (sign -1) movements into each account's in and out columns."""
    width = len(SUMMARY_KEYS)
    for account, kind, incoming, quantity in moves:
        row = figures.get(account)
        if row is None:
            row = figures[account] = [0] * width
        if incoming:
            row[_COLUMN_IN[kind]] += sign * quantity
            row[_TOTAL_IN] += sign * quantity
        else:
            row[_COLUMN_OUT[kind]] += sign * quantity
            row[_TOTAL_OUT] += sign * quantity


def _cumulative(
    store: LedgerStore, path: str, day: dt.date, item_id: int | None, by_batch: bool
) -> Figures | None:
    """Everything dated up to the end of `day`, per account in the in and out columns, taken
    from the nearest period close and the postings between it and `day`; None without closes."""
    recorded = closes.closes(store.connection)
    if not recorded:
        return None
    connection = store.connection
    before = next((c for c in reversed(recorded) if c.period_end <= day), None)
    after = next((c for c in recorded if c.period_end >= day), None)
    if before is not None:
        start = before.period_end
    else:  # the day before the ledger's first acts as a close that holds nothing
        first = rq.first_day(connection)
        start = first - dt.timedelta(days=1) if first is not None else day
    forward = (day - start).days
    backward = (after.period_end - day).days if after is not None else None
    figures: Figures = {}
    if backward is None or forward <= backward:
        if before is not None:
            _add_moves(
                figures, rq.close_movements(connection, before.id, path, item_id, by_batch), 1
            )
        _add_moves(figures, rq.dated_movements(connection, path, start, day, item_id, by_batch), 1)
        return figures
    _add_moves(figures, rq.close_movements(connection, after.id, path, item_id, by_batch), 1)
    _add_moves(
        figures, rq.dated_movements(connection, path, day, after.period_end, item_id, by_batch), -1
    )
    # an account first moved after `day` is left all zero: it had not moved by then
    return {account: row for account, row in figures.items() if row[_TOTAL_IN] or row[_TOTAL_OUT]}


def _summary_figures(
    store: LedgerStore,
    under: str,
    date_from: dt.date,
    date_to: dt.date,
    item_code: str | None,
    by_batch: bool,
) -> Figures:
    """Per (location id, item id[, batch id]): the SUMMARY_KEYS figures, in that order.

    Over closed periods the figures are the difference of two cumulative totals (each from the
    nearest period close plus the days between it and the boundary); without closes they are
    the as-of balances at both ends and the postings in the period."""
    _range(date_from, date_to)
    top = store.location(under, "under")
    item_id = _item_id(store, item_code)
    day_before = date_from - dt.timedelta(days=1)
    start = _cumulative(store, top.path, day_before, item_id, by_batch)
    end = _cumulative(store, top.path, date_to, item_id, by_batch) if start is not None else None
    if start is not None and end is not None:
        rows = end  # cumulative to the end, less cumulative to the day before the start
        for row in rows.values():
            row[_CLOSING] = row[_TOTAL_IN] - row[_TOTAL_OUT]
        width = len(SUMMARY_KEYS)
        for account, earlier in start.items():
            row = rows.get(account)
            if row is None:
                row = rows[account] = [0] * width
            for index in range(width):
                row[index] -= earlier[index]
            row[_OPENING] = earlier[_TOTAL_IN] - earlier[_TOTAL_OUT]
    else:
        rows = {}
        connection = store.connection
        item_ids = None if item_id is None else [item_id]
        for index, day in ((_OPENING, day_before), (_CLOSING, date_to)):
            for account, balance in rq.physical_accounts_as_of(
                connection, top.path, day, item_ids
            ).items():
                key = account if by_batch else account[:2]
                row = rows.get(key)
                if row is None:
                    row = rows[key] = [0] * len(SUMMARY_KEYS)
                row[index] += balance
        _add_moves(
            rows,
            rq.dated_movements(connection, top.path, day_before, date_to, item_id, by_batch),
            1,
        )
    for key, figures in rows.items():
        if figures[_OPENING] + figures[_TOTAL_IN] - figures[_TOTAL_OUT] != figures[_CLOSING]:
            raise AssertionError(f"period summary does not add up for {key}: {figures}")
    return rows


def period_summary_rows(
    store: LedgerStore,
    under: str,
    date_from: dt.date,
    date_to: dt.date,
    item_code: str | None = None,
    by_batch: bool = False,
) -> dict[tuple, dict[str, int]]:
    """Per (location id, item id[, batch id]): opening, each kind in and out, closing."""
    figures = _summary_figures(store, under, date_from, date_to, item_code, by_batch)
    return {key: dict(zip(SUMMARY_KEYS, values, strict=True)) for key, values in figures.items()}


def period_summary(
    store: LedgerStore,
    under: str,
    date_from: dt.date,
    date_to: dt.date,
    item_code: str | None = None,
    by_batch: bool = False,
    rollup: bool = True,
) -> Report:
    """收发存汇总表: opening + in − out = closing per location × item (× batch), with each
    node's subtree rolled up (rows marked 小计) when `rollup`."""
    figures = _summary_figures(store, under, date_from, date_to, item_code, by_batch)
    top_path = store.location(under).path
    lines: dict[tuple, int] = {}  # (node path, item id[, batch id]) -> line
    sources: list[int] = []  # for each (line, row) pair: the row
    targets: list[int] = []  # ... and the line it adds into
    nodes: dict[int, list[str]] = {}
    for index, key in enumerate(figures):
        chain = nodes.get(key[0])
        if chain is None:
            path = store.location_by_id(key[0]).path
            chain = nodes[key[0]] = _ancestors(path, top_path) if rollup else [path]
        for node in chain:
            line = (node, *key[1:])
            target = lines.get(line)
            if target is None:
                target = lines[line] = len(lines)
            sources.append(index)
            targets.append(target)
    totals = np.zeros((len(lines), len(SUMMARY_KEYS)), dtype=np.int64)
    if sources:
        np.add.at(totals, np.array(targets), np.array(list(figures.values()))[sources])
    parents = {chain[index] for chain in nodes.values() for index in range(len(chain) - 1)}
    columns = [
        Column("location_code", "库点编码"),
        Column("location_name", "库点"),
        Column("scope", "范围"),
        Column("item_code", "物资编码"),
        Column("item_name", "物资名称"),
    ]
    if by_batch:
        columns.append(Column("batch_number", "批次"))
    columns += [Column("unit", "单位"), Column("opening", "期初结存", "int")]
    columns += [Column(key, f"收入·{title}", "int") for key, title, _ in SUMMARY_IN]
    columns.append(Column("total_in", "收入合计", "int"))
    columns += [Column(key, f"发出·{title}", "int") for key, title, _ in SUMMARY_OUT]
    columns += [Column("total_out", "发出合计", "int"), Column("closing", "期末结存", "int")]
    out = []
    places: dict[str, Location] = {}
    for (node, *rest), target in sorted(lines.items()):
        location = places.get(node) or places.setdefault(node, _location_at(store, node))
        item = store.item_by_id(rest[0]).item
        scope = "含下级" if node in parents else "本级"
        row = [location.code, location.name, scope, item.code, item.name]
        if by_batch:
            row.append(store.batch_by_id(rest[1]).batch.number)
        row += [item.base_unit, *totals[target].tolist()]
        out.append(tuple(row))
    top = store.location(under).location
    return Report(
        "period-summary",
        "收发存汇总表",
        f"{top.name}（{top.code}）{'及下级' if rollup else ''}　{date_from} 至 {date_to}",
        tuple(columns),
        tuple(out),
        notes=("期初结存 + 收入合计 − 发出合计 = 期末结存（每行核对）",),
        signatures=("制表人", "审核人"),
    )


def _ancestors(path: str, top_path: str) -> list[str]:
    """The node itself and every ancestor down from `top_path` (paths like /510100/510121/)."""
    parts = [part for part in path.strip("/").split("/") if part]
    prefixes = ["/" + "/".join(parts[: n + 1]) + "/" for n in range(len(parts))]
    return [prefix for prefix in prefixes if prefix.startswith(top_path)]


def _location_at(store: LedgerStore, path: str):
    code = path.strip("/").split("/")[-1]
    return store.location(code).location


def stock_card(
    store: LedgerStore,
    location_code: str,
    item_code: str,
    batch_number: str,
    date_from: dt.date,
    date_to: dt.date,
) -> Report:
    """明细账: one account's movements in order with voucher numbers, 摘要 and running balance."""
    _range(date_from, date_to)
    location = store.location(location_code, "location")
    item = store.item(item_code, "item")
    batch = store.batch(item, batch_number, "batch")
    opening, card = rq.stock_card(
        store.connection, location.id, item.id, batch.id, date_from, date_to
    )
    rows = [(date_from, "", "期初结存", None, None, opening)]
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
                line.quantity if line.quantity > 0 else None,
                -line.quantity if line.quantity < 0 else None,
                line.balance_after,
            )
        )
    received = sum(r[3] or 0 for r in rows[1:])
    issued = sum(r[4] or 0 for r in rows[1:])
    closing = rows[-1][5]
    return Report(
        "stock-card",
        "库存明细账",
        f"{location.location.name}　{item.item.name}　批次 {batch.batch.number}　单位：{item.item.base_unit}　{date_from} 至 {date_to}",
        (
            Column("date", "日期", "date"),
            Column("number", "凭证号"),
            Column("memo", "摘要"),
            Column("received", "收入", "int"),
            Column("issued", "发出", "int"),
            Column("balance", "结存", "int"),
        ),
        tuple(rows),
        totals=(None, "", "本期合计", received, issued, closing),
    )


def stock_on_hand(
    store: LedgerStore, under: str, as_of: dt.date | None = None, item_code: str | None = None
) -> Report:
    """库存余额: on hand by location, item and batch, with expiry (now, or at the end of a day)."""
    top = store.location(under, "under")
    if item_code:
        store.item(item_code, "item")
    lines = queries.balances(
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
        totals=("合计", "", "", "", "", None, "", sum(row[-1] for row in rows)),
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
        location, item, batch = _names(store, (location_id, item_id, batch_id))
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
    )


def coverage(
    store: LedgerStore, under: str, item_code: str, date_from: dt.date, date_to: dt.date
) -> Report:
    """进村入户率: of the villages under a node, how many received the item in the period."""
    _range(date_from, date_to)
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
        totals=("合计", f"{len(villages)} 个村", f"送达 {len(reached)} 个", f"{rate * 100:.2f}%"),
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
    )


def write_off_rate(
    store: LedgerStore,
    under: str,
    date_from: dt.date,
    date_to: dt.date,
    limit: float = WRITE_OFF_RATE_LIMIT,
) -> Report:
    """报损率 per location and item: written off ÷ (opening + received) in the period, against
    the policy limit."""
    rows_by_key = period_summary_rows(store, under, date_from, date_to)
    rows = []
    for (location_id, item_id), figures in sorted(rows_by_key.items()):
        handled = figures["opening"] + figures["total_in"]
        if not handled:
            continue
        location = store.location_by_id(location_id).location
        item = store.item_by_id(item_id).item
        rate = figures["written_off"] / handled
        rows.append(
            (
                location.code,
                location.name,
                item.name,
                handled,
                figures["written_off"],
                rate,
                "超标" if rate >= limit else "正常",
            )
        )
    top = store.location(under).location
    return Report(
        "write-off-rate",
        "报损率统计表",
        f"{top.name}及下级　{date_from} 至 {date_to}　控制标准：< {limit * 1000:g}‰",
        (
            Column("location_code", "库点编码"),
            Column("location_name", "库点"),
            Column("item_name", "物资名称"),
            Column("handled", "期初+收入", "int"),
            Column("written_off", "报损", "int"),
            Column("rate", "报损率", "rate"),
            Column("status", "判定"),
        ),
        tuple(rows),
    )


def stocktake_report(store: LedgerStore, number: str, threshold: float) -> Report:
    """盘点报告: the reconciliation with 盘盈/盘亏 per line and signature fields."""
    result = stocktake_reconciliation(store, number, threshold)
    rows = tuple(
        (
            line.location_code,
            line.location_name,
            line.item_name,
            line.batch_number,
            line.unit,
            line.book,
            line.counted,
            line.difference,
            line.after_cut_off,
            line.outcome_name,
        )
        for line in result.lines
    )
    rates = "；".join(f"{r.location_name} {r.rate * 100:.2f}%" for r in result.by_location)
    return Report(
        "stocktake",
        "盘点报告（帐物相符核对表）",
        f"盘点单 {result.number}　截止 {result.cut_off}　帐物相符率 {result.rate * 100:.2f}%"
        f"（标准 ≥ {threshold * 100:g}%，{'达标' if result.passed else '未达标'}）",
        (
            Column("location_code", "库点编码"),
            Column("location_name", "库点"),
            Column("item_name", "物资名称"),
            Column("batch_number", "批次"),
            Column("unit", "单位"),
            Column("book", "账面数", "int"),
            Column("counted", "实盘数", "int"),
            Column("difference", "盈亏数", "int"),
            Column("after_cut_off", "截止后变动", "int"),
            Column("outcome", "结果"),
        ),
        rows,
        notes=(f"各库点帐物相符率：{rates}",) if rates else (),
        signatures=("盘点人", "监盘人", "审核人"),
    )


def voucher(store: LedgerStore, number: str) -> Report:
    """A printable voucher (入库单, 出库单, 调拨单, 发放单, 报损单, 盘点单 …) for one transaction."""
    transaction = store.transaction_by_number(number)
    location = store.location(transaction.location_code).location
    counterparty = (
        store.location(transaction.counterparty_code).location.name
        if transaction.counterparty_code
        else ""
    )
    rows = []
    for posting in transaction.postings:
        item = store.item(posting.item_code).item
        rows.append(
            (
                store.location(posting.location_code).location.name,
                item.name,
                posting.batch_number,
                posting.quantity,
                item.base_unit,
            )
        )
    subtitle = f"单号 {transaction.number}　日期 {transaction.occurred_on}　单位 {location.name}"
    if counterparty:
        subtitle += f"　对方 {counterparty}"
    notes = [f"摘要：{transaction.memo}"] if transaction.memo else []
    if transaction.reason:
        notes.append(f"原因：{transaction.reason}")
    return Report(
        "voucher",
        VOUCHER_TITLES[transaction.kind],
        subtitle,
        (
            Column("location", "库点"),
            Column("item_name", "物资名称"),
            Column("batch_number", "批次"),
            Column("quantity", "数量（正为收、负为发）", "int"),
            Column("unit", "单位"),
        ),
        tuple(rows),
        notes=tuple(notes),
        signatures=("经办人", "审核人", "签收人"),
    )


REPORTS: dict[str, Callable] = {
    "period-summary": period_summary,
    "stock-card": stock_card,
    "stock-on-hand": stock_on_hand,
    "near-expiry": near_expiry,
    "coverage": coverage,
    "in-transit": in_transit,
    "write-off-rate": write_off_rate,
}


def audit_sample(store: LedgerStore, under: str, size: int, seed: int, today: dt.date) -> Report:
    """抽查: a reproducible random sample of `size` accounts in stock under a node, stratified by
    level (county, township, village: each level's share of the sample follows its share of
    the accounts, at least one where it has any), as a count sheet with an empty 实盘数 column."""
    import random

    if not 1 <= size <= 1000:
        raise LedgerError(Code.invalid_field, "抽查数量须在 1 到 1000 之间 (size 1–1000)", "size")
    top = store.location(under, "under")
    lines = queries.balances(store.connection, under_path=top.path)
    strata: dict[str, list] = {}
    for line in lines:
        level = store.location(line.location_code).location.level.value
        strata.setdefault(level, []).append(line)
    total = sum(len(group) for group in strata.values())
    rng = random.Random(seed)
    chosen = []
    order = ("city", "county", "township", "village")
    shares = {
        level: max(1, round(size * len(strata[level]) / total)) if strata.get(level) else 0
        for level in order
    }
    wanted = min(size, total)
    while sum(shares.values()) > wanted:  # rounding up the small strata overshot
        biggest = max(shares, key=lambda level: shares[level])
        shares[biggest] -= 1
    while sum(shares.values()) < wanted:  # or rounding down fell short
        roomiest = max(order, key=lambda level: len(strata.get(level, [])) - shares[level])
        shares[roomiest] += 1
    for level in order:
        group = sorted(
            strata.get(level, []), key=lambda b: (b.location_code, b.item_code, b.batch_number)
        )
        chosen += rng.sample(group, min(shares[level], len(group)))
    rows = tuple(
        (
            line.location_code,
            line.location_name,
            store.location(line.location_code).location.level.value,
            line.item_name,
            line.batch_number,
            line.unit,
            line.on_hand,
            None,
        )
        for line in sorted(chosen, key=lambda b: (b.location_code, b.item_code, b.batch_number))
    )
    return Report(
        "audit-sample",
        "抽查盘点表",
        f"{top.location.name}及下级　抽查 {len(rows)} 个账户（共 {total} 个）　随机种子 {seed}　{today}",
        (
            Column("location_code", "库点编码"),
            Column("location_name", "库点"),
            Column("level", "层级"),
            Column("item_name", "物资名称"),
            Column("batch_number", "批次"),
            Column("unit", "单位"),
            Column("book", "账面数", "int"),
            Column("counted", "实盘数", "int"),
        ),
        rows,
        notes=("同一随机种子得到同一样本；各层级按账户数比例抽取。",),
        signatures=("盘点人", "监盘人", "审核人"),
    )
