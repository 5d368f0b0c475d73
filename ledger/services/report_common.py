"""What the reports share: voucher titles, the date range check, an account's names, totals per
unit (figures in different units are never added together)."""

from __future__ import annotations

import datetime as dt

from ledger.db.store import LedgerStore
from ledger.model import TransactionKind
from ledger.rules import Code, LedgerError

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


def check_range(date_from: dt.date, date_to: dt.date) -> None:
    if date_from > date_to:
        raise LedgerError(
            Code.date_range_invalid, "起始日期晚于截止日期 (from after to)", "date_from"
        )


def account_names(store: LedgerStore, key: tuple[int, int, int]):
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


def item_id_of(store: LedgerStore, item_code: str | None) -> int | None:
    return store.item(item_code, "item").id if item_code else None
