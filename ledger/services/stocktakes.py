"""Stocktakes (盘点): open a count with a cut-off, enter counts by hand or from scan documents,
close it against the books as of the cut-off, send lines back for recount, approve it (the
盘盈/盘亏 post as stocktake adjustments that name the count).

Movements posted while a count is open do not distort it: the book side is each account's
balance at the end of the cut-off day, and what moved after the cut-off is shown beside it.

A count counts what it says it counts: its location alone, plus the places it names, or its
whole subtree when opened with `include_subtree`. A book line nobody counted is 未盘 (not
counted): reported, never adjusted. It becomes 盘亏 only when counted as 0 — by a count line of
0, or by declaring a place fully counted (`zero_uncounted`: every uncounted line there is 0).
Approval posts only what its preview showed: approve takes the preview's digest.

Here are the use cases, each `verb(database, …, actor, today)` in its own unit of work; the steps
they run are in `stocktake_scope`, `stocktake_counts` and `stocktake_approval`. Every state
change is logged (`stocktake.<action>`).
"""

from __future__ import annotations

import datetime as dt

from ledger.db import oplog
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database
from ledger.reconcile import DEFAULT_THRESHOLD
from ledger.services import stocktake_approval as approval
from ledger.services import stocktake_counts as counts
from ledger.services.stocktake_models import (
    ApprovalPreview,
    ApproveStocktake,
    EnterCounts,
    OpenStocktake,
    Recount,
    Stocktake,
    StocktakeReconciliation,
    ZeroUncounted,
)
from ledger.services.work import day, read, write


def _logged(store: LedgerStore, action: str, stocktake: Stocktake, actor: int | None) -> Stocktake:
    """Write the operations-log entry of a state change; returns the stocktake."""
    oplog.record(
        store,
        action,
        "stocktake",
        stocktake.number,
        user_id=actor,
        after={
            "status": stocktake.status,
            "location": stocktake.location_code,
            "cut_off": stocktake.cut_off.isoformat(),
            "adjustments": list(stocktake.adjustments),
        },
        location_path=store.location(stocktake.location_code).path,
    )
    return stocktake


def open_stocktake(
    database: Database,
    command: OpenStocktake,
    actor: int | None = None,
    today: dt.date | None = None,
) -> Stocktake:
    today = day(today)

    def step(store: LedgerStore) -> Stocktake:
        number = counts.open_stocktake(store, command, actor, today)
        return _logged(store, "stocktake.open", counts.load_stocktake(store, number), actor)

    return write(database, step, actor, today)


def count(
    database: Database,
    number: str,
    command: EnterCounts,
    actor: int | None = None,
    today: dt.date | None = None,
) -> Stocktake:
    def step(store: LedgerStore) -> Stocktake:
        counts.enter_counts(store, number, command, actor)
        return counts.load_stocktake(store, number)

    return write(database, step, actor, day(today))


def zero_uncounted(
    database: Database,
    number: str,
    command: ZeroUncounted,
    actor: int | None = None,
    today: dt.date | None = None,
) -> Stocktake:
    def step(store: LedgerStore) -> Stocktake:
        declared = counts.zero_uncounted(store, number, command, actor)
        stocktake = counts.load_stocktake(store, number)
        oplog.record(
            store,
            "stocktake.zero_uncounted",
            "stocktake",
            number,
            user_id=actor,
            after={"location": command.location_code, "lines_counted_zero": declared},
            location_path=store.location(stocktake.location_code).path,
        )
        return stocktake

    return write(database, step, actor, day(today))


def add_scan_document(
    database: Database,
    number: str,
    document_id: int,
    actor: int | None = None,
    today: dt.date | None = None,
) -> Stocktake:
    def step(store: LedgerStore) -> Stocktake:
        counts.add_scan_document(store, number, document_id, actor)
        return counts.load_stocktake(store, number)

    return write(database, step, actor, day(today))


def close(
    database: Database, number: str, actor: int | None = None, today: dt.date | None = None
) -> StocktakeReconciliation:
    def step(store: LedgerStore) -> StocktakeReconciliation:
        counts.close_stocktake(store, number)
        _logged(store, "stocktake.close", counts.load_stocktake(store, number), actor)
        return approval.reconciliation(store, number)

    return write(database, step, actor, day(today))


def recount(
    database: Database,
    number: str,
    command: Recount,
    actor: int | None = None,
    today: dt.date | None = None,
) -> Stocktake:
    def step(store: LedgerStore) -> Stocktake:
        counts.recount(store, number, command, actor)
        return _logged(store, "stocktake.recount", counts.load_stocktake(store, number), actor)

    return write(database, step, actor, day(today))


def approve(
    database: Database,
    number: str,
    command: ApproveStocktake,
    actor: int | None = None,
    today: dt.date | None = None,
) -> Stocktake:
    today = day(today)

    def step(store: LedgerStore) -> Stocktake:
        approval.approve(store, number, command, actor, today)
        return _logged(store, "stocktake.approve", counts.load_stocktake(store, number), actor)

    return write(database, step, actor, today)


def preview(database: Database, number: str) -> ApprovalPreview:
    return read(database, lambda s: approval.preview(s, number))


def get(database: Database, number: str) -> Stocktake:
    return read(database, lambda s: counts.load_stocktake(s, number))


def reconciliation(
    database: Database, number: str, threshold: float = DEFAULT_THRESHOLD
) -> StocktakeReconciliation:
    return read(database, lambda s: approval.reconciliation(s, number, threshold))
