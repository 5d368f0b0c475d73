"""Approving a closed stocktake, inside a unit of work: the reconciliation of counts against
the books, the preview of what approval will post (and its digest), and the approval that
posts exactly that as stocktake adjustments (盘盈/盘亏) naming the count."""

from __future__ import annotations

import datetime as dt
import hashlib

import msgspec

from ledger import commands as c
from ledger.db import stocktakes as db
from ledger.db.store import LedgerStore
from ledger.limits import approval_reason_length_max, lines_per_transaction_max
from ledger.model import StocktakeStatus
from ledger.reconcile import DEFAULT_THRESHOLD, OUTCOME_NAMES, OUTCOMES, Lines, reconcile
from ledger.rules import Code, LedgerError, check_text
from ledger.services.checks import check_composed_memo
from ledger.services.movements import adjust as post_adjustment
from ledger.services.stocktake_models import (
    ApprovalPreview,
    ApproveStocktake,
    LocationRate,
    ReconciliationLine,
    StocktakeReconciliation,
    UnitTotal,
)
from ledger.services.stocktake_scope import (
    require_status,
    stocktake_row,
)


def reconciliation(
    store: LedgerStore, number: str, threshold: float = DEFAULT_THRESHOLD
) -> StocktakeReconciliation:
    row = stocktake_row(store, number)
    if row.status not in (StocktakeStatus.closed, StocktakeStatus.approved):
        require_status(row, StocktakeStatus.closed, "出具盘点报告")
    book_rows = db.book(store, row.id)
    after = {(loc, item, batch): moved for loc, item, batch, _, moved in book_rows}
    counted = db.live_counts(store, row.id)
    result = reconcile(
        Lines.of((loc, item, batch, quantity) for loc, item, batch, quantity, _ in book_rows),
        Lines.of((c.location_id, c.item_id, c.batch_id, c.quantity) for c in counted),
        threshold,
        missing_counts_are_zero=False,  # 未盘 stays 未盘: only a count of 0 makes a loss
    )
    lines = []
    for loc, item_id, batch_id, book, count, difference, outcome in zip(
        result.location.tolist(),
        result.item.tolist(),
        result.batch.tolist(),
        result.book.tolist(),
        result.counted.tolist(),
        result.difference.tolist(),
        result.outcome.tolist(),
        strict=True,
    ):
        location = store.location_by_id(loc).location
        item = store.item_by_id(item_id).item
        lines.append(
            ReconciliationLine(
                location.code,
                location.name,
                item.code,
                item.name,
                store.batch_by_id(batch_id).batch.number,
                item.base_unit,
                book,
                after.get((loc, item_id, batch_id), 0),
                count,
                difference,
                OUTCOMES[outcome],
                OUTCOME_NAMES[outcome],
            )
        )
    rates = []
    for summary in result.by_location:
        location = store.location_by_id(summary.location).location
        rates.append(
            LocationRate(
                location.code,
                location.name,
                summary.lines,
                summary.matched,
                summary.gains,
                summary.losses,
                summary.not_counted,
                summary.not_on_books,
                summary.rate,
                summary.passed,
            )
        )
    return StocktakeReconciliation(
        row.number,
        row.status,
        row.cut_off,
        threshold,
        tuple(lines),
        tuple(rates),
        result.lines,
        result.matched,
        result.rate,
        result.passed,
    )


def approve(
    store: LedgerStore, number: str, command: ApproveStocktake, actor: int | None, today: dt.date
) -> list[str]:
    """Post the differences as stocktake adjustments (one or more per location)."""
    row = stocktake_row(store, number, lock=True)
    require_status(row, StocktakeStatus.closed, "审核")
    check_text(command.reason, "reason", approval_reason_length_max)
    shown = preview(store, number)
    if not command.preview_digest.strip():
        raise LedgerError(
            Code.approval_preview_stale,
            f"审核前须先查看审核预览（approval-preview），并带上预览的 digest；"
            f"本次将过账 {len(shown.adjustments)} 行 (approve with the preview's digest)",
            "preview_digest",
        )
    if command.preview_digest.strip() != shown.digest:
        raise LedgerError(
            Code.approval_preview_stale,
            f"盘点单 {number} 的调整内容与所看预览不一致（预览后有复盘或重新结束），"
            f"请重新预览后再审核 (the adjustments differ from the preview)",
            "preview_digest",
        )
    by_location: dict[str, list[c.AdjustLine]] = {}
    for line in shown.adjustments:
        by_location.setdefault(line.location_code, []).append(
            c.AdjustLine(line.item_code, line.batch_number, line.difference)
        )
    posted = []
    for location_code, lines in by_location.items():
        for start in range(0, len(lines), lines_per_transaction_max):
            adjust = c.Adjust(
                location_code,
                tuple(lines[start : start + lines_per_transaction_max]),
                "stocktake",
                today,
                check_composed_memo(f"盘点 {number}：{command.reason}", "审核意见"),
            )
            with store.approved_by(actor):  # the approver of the count is the vouchers' 审核人
                transaction = post_adjustment(store, adjust, today)
            store.flush()
            db.add_adjustment(store, row.id, transaction.sequence)
            posted.append(transaction.number)
    db.set_status(
        store,
        row.id,
        StocktakeStatus.approved,
        approved_by=actor,
        approved_at=dt.datetime.now(dt.UTC),
        approval_reason=command.reason,
    )
    return posted


def preview(store: LedgerStore, number: str) -> ApprovalPreview:
    """What approving the closed count will post (and what it will leave as 未盘)."""
    row = stocktake_row(store, number)
    require_status(row, StocktakeStatus.closed, "预览审核")
    report = reconciliation(store, number)
    adjustments = tuple(line for line in report.lines if line.difference)
    not_counted = tuple(line for line in report.lines if line.outcome == "not_counted")
    units: dict[str, list[int]] = {}
    for line in adjustments:
        gain_loss = units.setdefault(line.unit, [0, 0])
        gain_loss[0 if line.difference > 0 else 1] += abs(line.difference)
    totals = tuple(UnitTotal(unit, gain, loss, gain - loss) for unit, (gain, loss) in units.items())
    per_location: dict[str, int] = {}
    for line in adjustments:
        per_location[line.location_code] = per_location.get(line.location_code, 0) + 1
    vouchers = sum(-(-n // lines_per_transaction_max) for n in per_location.values())
    content = [
        number,
        [(x.location_code, x.item_code, x.batch_number, x.difference) for x in adjustments],
        [(x.location_code, x.item_code, x.batch_number, x.book) for x in not_counted],
    ]
    digest = hashlib.sha256(msgspec.json.encode(content)).hexdigest()
    return ApprovalPreview(
        row.number, row.status, row.cut_off, adjustments, totals, vouchers, not_counted, digest
    )
