"""The auditors' reports: 收发存汇总表, 明细账, 库存余额, 近效期/已过期, 进村入户率, 在途, 报损率,
the stocktake report, and printable vouchers. Each is a `Report` (see report_formats) that the
API serves as JSON, CSV, XLSX or a print-friendly HTML page.

Reports are views, not use cases: `report(store, …)` reads inside the caller's read
transaction (`database.lookup`), so a report and anything read beside it see one state.

Here: 收发存汇总表, the period summary (opening + in − out = closing per location × item
(× batch), each node's subtree rolled up; figures from the day, month and year movement
totals the posting path keeps, a few sets of them summed by the database for any range and
the rest with numpy: no Python runs per movement or per account), and 报损率,
read from it. The other families: `report_stock` (stock card, on hand, near expiry, coverage, in
transit), `report_audit` (stocktake report, vouchers, the audit sample); `report_common` holds
what they share.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ledger.db import report_queries as rq
from ledger.db.store import LedgerStore
from ledger.model import Item, Location
from ledger.services.report_common import (
    check_range,
    item_id_of,
    totals_per_unit,
)
from ledger.services.report_formats import Column, Report
from ledger.totals import COST, COST_BY_ITEM, pieces

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

    From the movement totals the posting path keeps (ledger/totals.py): what moved before the
    period (its net is the opening balance) and within it, each a few sets of day, month and
    year totals summed by the database, whatever was closed. An account has a line when it had
    moved by the end of the period."""
    check_range(date_from, date_to)
    top = store.location(under, "under")
    item_id = item_id_of(store, item_code)
    connection = store.connection

    weights = COST if by_batch else COST_BY_ITEM

    def moved(first: dt.date, last: dt.date) -> list[rq.Movement]:
        plan = pieces(first, last, weights)
        return rq.totals_moved(connection, top.path, plan, _COLUMNS, item_id, by_batch)

    cells = _Cells(3 if by_batch else 2)
    first = rq.first_totals_day(connection)
    if first is not None:
        # before the period: in the opening balance, and out of the period's columns again
        before = moved(first, date_from - dt.timedelta(days=1))
        cells.moves(before, 1, "start")
        cells.moves(before, 1, "end")
        cells.moves(moved(max(first, date_from), date_to), 1, "end")
    accounts, figures = cells.table()
    had_moved = (figures[:, _MOVED_BEFORE] != 0) | (figures[:, _MOVED_BY_END] != 0)
    accounts, figures = accounts[had_moved], figures[had_moved, :_WIDTH]
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


WRITE_OFF_RATE_LIMIT = 0.005  # policy: 报损率 < 5‰


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
