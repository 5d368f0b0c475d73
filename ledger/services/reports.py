"""The auditors' reports: 收发存汇总表, 明细账, 库存余额, 近效期/已过期, 进村入户率, 在途, 报损率,
the stocktake report, and printable vouchers. Each is a `Report` (see report_formats) that the
API serves as JSON, CSV, XLSX or a print-friendly HTML page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np

from ledger.commands import SHORTAGE_REASON_NAMES
from ledger.db import closes, queries
from ledger.db import report_queries as rq
from ledger.db.store import LedgerStore
from ledger.model import WRITE_OFF_REASON_NAMES, Item, Location, TransactionKind
from ledger.rules import Code, LedgerError
from ledger.services.report_formats import Column, Report
from ledger.services.stocktakes import reconciliation as stocktake_reconciliation

WRITE_OFF_RATE_LIMIT = 0.005  # policy: 报损率 < 5‰

# The columns of the period summary: (key, title, incoming?, transaction kind).
SUMMARY_IN = (
    ("opened", "期初建账", "opening"),
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
    TransactionKind.opening: "期初建账单",
}


def _range(date_from: dt.date, date_to: dt.date) -> None:
    if date_from > date_to:
        raise LedgerError(Code.invalid_field, "起始日期晚于截止日期 (from after to)", "date_from")


def _names(store: LedgerStore, key: tuple[int, int, int]):
    location = store.location_by_id(key[0]).location
    item = store.item_by_id(key[1]).item
    batch = store.batch_by_id(key[2]).batch
    return location, item, batch


def totals_per_unit(
    rows: tuple[tuple, ...], unit_at: int, sums_at: tuple[int, ...], label: str = "合计"
) -> tuple[tuple, ...]:
    """One total row per unit, in the order the units first appear: `label` in the first
    column, the unit in its column, each of the `sums_at` columns summed over that unit's rows
    (figures in different units are never added together)."""
    sums: dict[str, list[int]] = {}
    for row in rows:
        unit_sums = sums.setdefault(row[unit_at], [0] * len(sums_at))
        for index, at in enumerate(sums_at):
            unit_sums[index] += row[at] or 0
    totals = []
    for unit, figures in sums.items():
        total: list = [None] * (len(rows[0]) if rows else 0)
        total[0], total[unit_at] = label, unit
        for at, figure in zip(sums_at, figures, strict=True):
            total[at] = figure
        totals.append(tuple(total))
    return tuple(totals)


def _item_id(store: LedgerStore, item_code: str | None) -> int | None:
    return store.item(item_code, "item").id if item_code else None


_AT = {name: index for index, name in enumerate(SUMMARY_KEYS)}
_OPENING, _TOTAL_IN, _TOTAL_OUT, _CLOSING = (
    _AT["opening"],
    _AT["total_in"],
    _AT["total_out"],
    _AT["closing"],
)
_WIDTH = len(SUMMARY_KEYS)
# The column each movement adds into, worked out by the database: by direction, kind -> column.
_COLUMNS: rq.Columns = {
    True: {kind: _AT[key] for key, _, kind in SUMMARY_IN},
    False: {kind: _AT[key] for key, _, kinds in SUMMARY_OUT for kind in kinds.split()},
}
# Two scratch columns after the figures: how much had moved by the day before the period and
# by its last day (an account with neither had not moved by the end of the period).
_MOVED_BEFORE, _MOVED_BY_END = _WIDTH, _WIDTH + 1


# Combinations of ranks below this fit one int64: three columns of up to 1.6 million values each.
_RANKS_LIMIT = 2**62


def _distinct(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of an integer matrix, in order, and for each row its distinct row's
    index. (np.unique over rows sorts them as opaque bytes, several times slower than this:
    each column becomes ranks, and the ranks one number.)"""
    combined = np.zeros(len(rows), np.int64)
    span = 1
    for column in rows.T:
        values, rank = np.unique(column, return_inverse=True)
        span *= len(values)
        if span >= _RANKS_LIMIT:
            distinct, index = np.unique(rows, axis=0, return_inverse=True)
            return distinct, index.ravel()
        combined = combined * len(values) + rank.ravel()
    _, first, index = np.unique(combined, return_index=True, return_inverse=True)
    return rows[first], index.ravel()


class _Cells:
    """Figures per account, gathered as (account, column, amount) additions and summed in one
    go with numpy at the end: no Python runs per movement or per account."""

    def __init__(self, key_width: int) -> None:
        self.key_width = key_width  # 2: location × item; 3: by batch
        self.parts: list[tuple[np.ndarray, np.ndarray | int, np.ndarray]] = []

    def balances(self, balances: dict[tuple[int, int, int], int], column: int) -> None:
        """Balances of accounts (location, item, batch) put in `column`."""
        if balances:
            keys = np.array(list(balances), dtype=np.int64)[:, : self.key_width]
            self.parts.append((keys, column, np.fromiter(balances.values(), np.int64)))

    def moves(self, rows: list[rq.Movement], sign: int = 1, side: str | None = None) -> None:
        """Movements (*account, column, quantity) added (sign 1) or taken away (sign -1) in
        their column and their direction's total. With a `side` they count towards the
        cumulative totals up to the day before the period ('start') or to its last day ('end'):
        the period's figures are the end's less the start's, and each side nets into the
        opening or the closing balance."""
        if not rows:
            return
        moved = np.array(rows, dtype=np.int64)
        keys, column = moved[:, : self.key_width], moved[:, self.key_width]
        quantity = moved[:, self.key_width + 1] * sign
        if (column == rq.UNMAPPED).any():
            raise AssertionError("a movement's kind has no column in the period summary")
        incoming = column < _TOTAL_IN
        within = -quantity if side == "start" else quantity
        self.parts.append((keys, column, within))
        self.parts.append((keys, np.where(incoming, _TOTAL_IN, _TOTAL_OUT), within))
        if side is not None:
            balance, moved_by = (
                (_OPENING, _MOVED_BEFORE) if side == "start" else (_CLOSING, _MOVED_BY_END)
            )
            self.parts.append((keys, balance, np.where(incoming, quantity, -quantity)))
            self.parts.append((keys, moved_by, quantity))

    def table(self) -> tuple[np.ndarray, np.ndarray]:
        """(accounts, figures): one row per account, in account order; the figures are the
        SUMMARY_KEYS columns and the two scratch columns."""
        width = _WIDTH + 2
        if not self.parts:
            return np.zeros((0, self.key_width), np.int64), np.zeros((0, width), np.int64)
        keys = np.concatenate([keys for keys, _, _ in self.parts])
        columns = np.concatenate(
            [np.broadcast_to(column, len(keys)) for keys, column, _ in self.parts]
        )
        amounts = np.concatenate([amounts for _, _, amounts in self.parts])
        accounts, account_of = _distinct(keys)
        figures = np.zeros(len(accounts) * width, np.int64)
        np.add.at(figures, account_of * width + columns, amounts)
        return accounts, figures.reshape(len(accounts), width)


def _cumulative(
    store: LedgerStore,
    recorded: list[closes.CloseRow],
    cells: _Cells,
    side: str,
    path: str,
    day: dt.date,
    item_id: int | None,
    by_batch: bool,
) -> None:
    """Everything dated up to the end of `day` into `cells` as `side`, taken from the nearest
    of the `recorded` period closes (there must be some) and the postings between it and `day`."""
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

    def kept(close) -> list[rq.Movement]:
        return rq.close_movements(connection, close.id, path, _COLUMNS, item_id, by_batch)

    def dated(since: dt.date, through: dt.date) -> list[rq.Movement]:
        return rq.dated_movements(connection, path, since, through, _COLUMNS, item_id, by_batch)

    if backward is None or forward <= backward:
        if before is not None:
            cells.moves(kept(before), 1, side)
        cells.moves(dated(start, day), 1, side)
    else:  # nearer the next close: what it keeps less what was dated after `day`
        cells.moves(kept(after), 1, side)
        cells.moves(dated(day, after.period_end), -1, side)


def _summary_figures(
    store: LedgerStore,
    under: str,
    date_from: dt.date,
    date_to: dt.date,
    item_code: str | None,
    by_batch: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """(accounts, figures): the (location id, item id[, batch id]) of each account, in that
    order, and its SUMMARY_KEYS figures.

    Over closed periods the figures are the difference of two cumulative totals (each from the
    nearest period close plus the days between it and the boundary); without closes they are
    the as-of balances at both ends and the postings in the period."""
    _range(date_from, date_to)
    top = store.location(under, "under")
    item_id = _item_id(store, item_code)
    day_before = date_from - dt.timedelta(days=1)
    cells = _Cells(3 if by_batch else 2)
    # the closes of the root `under` belongs to (its own and those of every root)
    recorded = closes.closes(store.connection, store.location(top.path.split("/")[1]).id)
    if recorded:
        _cumulative(store, recorded, cells, "start", top.path, day_before, item_id, by_batch)
        _cumulative(store, recorded, cells, "end", top.path, date_to, item_id, by_batch)
        accounts, figures = cells.table()
        # an account that had not moved by the end of the period has no line
        moved = (figures[:, _MOVED_BEFORE] != 0) | (figures[:, _MOVED_BY_END] != 0)
        accounts, figures = accounts[moved], figures[moved]
    else:
        connection = store.connection
        item_ids = None if item_id is None else [item_id]
        for column, day in ((_OPENING, day_before), (_CLOSING, date_to)):
            cells.balances(rq.physical_accounts_as_of(connection, top.path, day, item_ids), column)
        cells.moves(
            rq.dated_movements(
                connection, top.path, day_before, date_to, _COLUMNS, item_id, by_batch
            )
        )
        accounts, figures = cells.table()
    figures = figures[:, :_WIDTH]
    sums = figures[:, _OPENING] + figures[:, _TOTAL_IN] - figures[:, _TOTAL_OUT]
    wrong = np.flatnonzero(sums != figures[:, _CLOSING])
    if len(wrong):
        account = tuple(accounts[wrong[0]].tolist())
        raise AssertionError(
            f"period summary does not add up for {account}: {figures[wrong[0]].tolist()}"
        )
    return accounts, figures


def period_summary_rows(
    store: LedgerStore,
    under: str,
    date_from: dt.date,
    date_to: dt.date,
    item_code: str | None = None,
    by_batch: bool = False,
) -> dict[tuple, dict[str, int]]:
    """Per (location id, item id[, batch id]): opening, each kind in and out, closing."""
    accounts, figures = _summary_figures(store, under, date_from, date_to, item_code, by_batch)
    return {
        tuple(account): dict(zip(SUMMARY_KEYS, values, strict=True))
        for account, values in zip(accounts.tolist(), figures.tolist(), strict=True)
    }


def _roll_up(
    store: LedgerStore, accounts: np.ndarray, figures: np.ndarray, top_path: str, rollup: bool
) -> tuple[list[tuple[str, tuple[int, ...]]], np.ndarray, set[str]]:
    """The summary's lines, in (node path, item id[, batch id]) order: each account's figures
    added into its own place's line and, when `rollup`, into every ancestor's under `top_path`.
    Returns (each line's node path and item id[, batch id], their figures, the nodes with
    something below them)."""
    if not len(accounts):
        return [], np.zeros((0, _WIDTH), np.int64), set()
    places = np.unique(accounts[:, 0])
    store.cache_locations(ids=places.tolist())
    chains = []
    for place in places.tolist():
        path = store.location_by_id(place).path
        chains.append(_ancestors(path, top_path) if rollup else [path])
    nodes = sorted({node for chain in chains for node in chain})
    store.cache_locations(codes=[_code_at(node) for node in nodes])
    rank = {node: index for index, node in enumerate(nodes)}
    ancestry = np.full((len(places), max(map(len, chains))), -1, np.int64)
    for row, chain in enumerate(chains):
        ancestry[row, : len(chain)] = [rank[node] for node in chain]
    place_of = np.searchsorted(places, accounts[:, 0])
    rests, rest_of = _distinct(accounts[:, 1:])
    width = len(rests)
    sources, keys = [], []  # for each (account, line it adds into): the account, the line
    for depth in range(ancestry.shape[1]):
        node = ancestry[place_of, depth]
        has = np.flatnonzero(node >= 0)
        sources.append(has)
        keys.append(node[has] * width + rest_of[has])
    source, key = np.concatenate(sources), np.concatenate(keys)
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    totals = np.add.reduceat(figures[source[order]], starts, axis=0)
    rest_tuples = [tuple(rest) for rest in rests.tolist()]
    lines = [(nodes[line // width], rest_tuples[line % width]) for line in key[starts].tolist()]
    parents = {chain[index] for chain in chains for index in range(len(chain) - 1)}
    return lines, totals, parents


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
    accounts, figures = _summary_figures(store, under, date_from, date_to, item_code, by_batch)
    lines, totals, parents = _roll_up(store, accounts, figures, store.location(under).path, rollup)
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
    items: dict[int, Item] = {}
    for (node, rest), values in zip(lines, totals.tolist(), strict=True):
        location = places.get(node) or places.setdefault(node, _location_at(store, node))
        item = items.get(rest[0]) or items.setdefault(rest[0], store.item_by_id(rest[0]).item)
        scope = "含下级" if node in parents else "本级"
        row = [location.code, location.name, scope, item.code, item.name]
        if by_batch:
            row.append(store.batch_by_id(rest[1]).batch.number)
        row += [item.base_unit, *values]
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


def _code_at(path: str) -> str:
    return path.strip("/").split("/")[-1]


def _location_at(store: LedgerStore, path: str):
    return store.location(_code_at(path)).location


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
    rows = [(date_from, "", "期初结存", "", None, None, opening)]
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
        totals=totals_per_unit(tuple(rows), 7, (6,)),
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
                item.base_unit,
                handled,
                figures["written_off"],
                rate,
                "超标" if rate >= limit else "正常",
            )
        )
    totals = []
    for total in totals_per_unit(tuple(rows), 3, (4, 5)):
        rate = total[5] / total[4]
        totals.append((*total[:6], rate, "超标" if rate >= limit else "正常"))
    top = store.location(under).location
    return Report(
        "write-off-rate",
        "报损率统计表",
        f"{top.name}及下级　{date_from} 至 {date_to}　控制标准：< {limit * 1000:g}‰",
        (
            Column("location_code", "库点编码"),
            Column("location_name", "库点"),
            Column("item_name", "物资名称"),
            Column("unit", "单位"),
            Column("handled", "期初+收入", "int"),
            Column("written_off", "报损", "int"),
            Column("rate", "报损率", "rate"),
            Column("status", "判定"),
        ),
        tuple(rows),
        totals=tuple(totals),
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


def reason_name(kind: TransactionKind, reason: str) -> str:
    """A voucher's reason in words: 报损原因, 短少原因 on a confirmation, 盘点 …"""
    if kind is TransactionKind.write_off:
        return WRITE_OFF_REASON_NAMES.get(reason, reason)
    if kind is TransactionKind.confirmation:
        if reason == "short_delivery":  # recorded before the reason was asked for
            return "短少"
        return SHORTAGE_REASON_NAMES.get(reason, reason)  # type: ignore[call-overload]
    if kind is TransactionKind.stocktake and reason == "stocktake":
        return "盘点盈亏"
    return reason


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
        notes.append(f"原因：{reason_name(transaction.kind, transaction.reason)}")
    receiver = transaction.receiver
    if transaction.kind in (TransactionKind.issue, TransactionKind.transfer):
        confirmation = store.active_confirmation(transaction.sequence)
        if confirmation is not None:  # the shipment's 签收人 signed its confirmation
            receiver = store.transaction_by_number(confirmation).receiver
            notes.append(f"签收单：{confirmation}")
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
        signatures=(
            f"制单人：{transaction.maker}",
            f"审核人：{transaction.approver or ''}",
            f"签收人：{receiver or ''}",
        ),
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
