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
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import NamedTuple

import msgspec

from ledger import commands as c
from ledger.db import oplog
from ledger.db import scans as scan_db
from ledger.db import stocktakes as db
from ledger.db.moments import as_utc
from ledger.db.store import LedgerStore, LocationEntry
from ledger.reconcile import DEFAULT_THRESHOLD, OUTCOME_NAMES, OUTCOMES, Lines, reconcile, uncounted
from ledger.rules import Code, LedgerError, check_text, lines_per_transaction_max
from ledger.services.checks import (
    base_units,
    business_date,
    check_composed_memo,
    check_memo,
    physical,
)
from ledger.services.ledger import run_command
from ledger.services.stocktake_models import (
    AccountRef,  # noqa: F401 (re-exported: callers import every stocktake name from here)
    ApprovalPreview,
    ApproveStocktake,
    CountedLine,
    CountLine,
    EnterCounts,
    ExpectedLine,
    LocationRate,
    OpenStocktake,
    ReconciliationLine,
    Recount,
    Stocktake,
    StocktakeReconciliation,
    UnitTotal,
    ZeroUncounted,
)

# ---- helpers ---------------------------------------------------------------------------------


def _row(store: LedgerStore, number: str, lock: bool = False) -> db.StocktakeRow:
    row = db.stocktake(store, number, lock)
    if row is None:
        raise LedgerError(
            Code.unknown_stocktake, f"没有盘点单 {number!r} (unknown stocktake)", "number"
        )
    return row


def _require(row: db.StocktakeRow, status: str, action: str) -> None:
    if row.status != status:
        names = {
            "counting": "盘点中",
            "closed": "已结束",
            "approved": "已审核",
            "cancelled": "已作废",
        }
        raise LedgerError(
            Code.stocktake_state,
            f"盘点单 {row.number} {names.get(row.status, row.status)}，不能{action} "
            f"(stocktake is {row.status})",
            "number",
        )


stocktake_locations_max = 1_000  # places (and items) one count may name
approval_reason_length_max = 300
recount_reason_length_max = 500


class Scope(NamedTuple):
    top: LocationEntry
    item_ids: list[int] | None  # None: every item
    locations: dict[int, str] | None  # id → path of each place counted; None: the subtree

    def holds(self, location: LocationEntry) -> bool:
        if not location.physical:
            return False
        if self.locations is None:
            return location.path.startswith(self.top.path)
        return location.id in self.locations


def _scope(store: LedgerStore, row: db.StocktakeRow) -> Scope:
    top = store.location_by_id(row.location_id)
    codes = row.item_codes.split()
    locations = None
    if not row.subtree:
        locations = {top.id: top.path}
        for code in row.location_codes.split():
            entry = store.location(code)
            locations[entry.id] = entry.path
    return Scope(top, [store.item(code).id for code in codes] if codes else None, locations)


def _scope_words(store: LedgerStore, scope: Scope) -> str:
    if scope.locations is None:
        return f"{scope.top.location.name}及其下级"
    names = [store.location_by_id(i).location.name for i in scope.locations]
    return "、".join(names[:5]) + (f" 等 {len(names)} 处" if len(names) > 5 else "")


def _in_scope(
    store: LedgerStore,
    row: db.StocktakeRow,
    location_code: str,
    item_code: str,
    field: str,
    check_item: bool = True,
):
    scope = _scope(store, row)
    item_ids = scope.item_ids
    where = f"{field}.location_code" if check_item else field
    location = store.location(location_code, where)
    if not scope.holds(location):
        raise LedgerError(
            Code.outside_stocktake,
            f"{location.location.name} 不在盘点单 {row.number} 的范围内"
            f"（范围：{_scope_words(store, scope)}）(outside the count)",
            where,
        )
    if not check_item:
        return location, None
    item = store.item(item_code, f"{field}.item_code")
    if item_ids is not None and item.id not in item_ids:
        raise LedgerError(
            Code.outside_stocktake,
            f"{item.item.name} 不在盘点单 {row.number} 的品种内 (item outside the count)",
            f"{field}.item_code",
        )
    return location, item


# ---- use cases -------------------------------------------------------------------------------


def open_stocktake(
    store: LedgerStore, command: OpenStocktake, actor: int | None, today: dt.date
) -> str:
    check_memo(command.memo)
    location = physical(store.location(command.location_code), "location_code")
    cut_off = business_date(command.cut_off, today)
    if len(command.item_codes) > stocktake_locations_max:
        raise LedgerError(
            Code.too_many_lines,
            f"一次盘点最多 {stocktake_locations_max} 个品种 (at most {stocktake_locations_max})",
            "item_codes",
        )
    for index, code in enumerate(command.item_codes):
        store.item(code, f"item_codes[{index}]")
    if len(command.location_codes) > stocktake_locations_max:
        raise LedgerError(
            Code.too_many_lines,
            f"一次盘点最多列出 {stocktake_locations_max} 个库点 "
            f"(at most {stocktake_locations_max} locations)",
            "location_codes",
        )
    places = []
    for index, code in enumerate(command.location_codes):
        field = f"location_codes[{index}]"
        place = physical(store.location(code, field), field)
        if not place.path.startswith(location.path):
            raise LedgerError(
                Code.outside_stocktake,
                f"{place.location.name} 不在 {location.location.name} 之下，不能列入此次盘点 "
                f"(not inside the counted location's subtree)",
                field,
            )
        if place.id != location.id:
            places.append(place.location.code)
    number = store.next_number_for("ST", cut_off.year)
    db.insert_stocktake(
        store,
        number=number,
        location_id=location.id,
        item_codes=" ".join(dict.fromkeys(command.item_codes)),
        cut_off=cut_off,
        blind=command.blind,
        subtree=command.include_subtree,
        location_codes=" ".join(dict.fromkeys(places)),
        memo=command.memo,
        created_by=actor,
        created_at=dt.datetime.now(dt.UTC),
    )
    return number


def enter_counts(
    store: LedgerStore, number: str, command: EnterCounts, actor: int | None, source: str = "hand"
) -> None:
    row = _row(store, number, lock=True)
    _require(row, "counting", "录入盘点数")
    if not command.lines or len(command.lines) > lines_per_transaction_max:
        raise LedgerError(
            Code.too_many_lines if command.lines else Code.invalid_field,
            f"每次录入 1 到 {lines_per_transaction_max} 行 (1 to {lines_per_transaction_max} lines)",
            "lines",
        )
    now = dt.datetime.now(dt.UTC)
    rows = []
    for index, line in enumerate(command.lines):
        field = f"lines[{index}]"
        location, item = _in_scope(store, row, line.location_code, line.item_code, field)
        batch = store.batch(item, line.batch_number, f"{field}.batch_number")
        if (
            isinstance(line.quantity, bool)
            or not isinstance(line.quantity, int)
            or line.quantity < 0
        ):
            raise LedgerError(
                Code.invalid_field,
                "盘点数必须是非负整数 (count must be 0 or more)",
                f"{field}.quantity",
            )
        quantity = (
            0
            if line.quantity == 0
            else base_units(item.item, line.quantity, line.unit, f"{field}.quantity")
        )
        rows.append(
            {
                "stocktake_id": row.id,
                "location_id": location.id,
                "item_id": item.id,
                "batch_id": batch.id,
                "quantity": quantity,
                "source": source,
                "counted_by": actor,
                "counted_at": now,
                "superseded_at": None,
            }
        )
    db.add_counts(store, rows)


def add_scan_document(store: LedgerStore, number: str, document_id: int, actor: int | None) -> None:
    """The totals of a finished count scan document become counted lines (once)."""
    row = _row(store, number, lock=True)
    _require(row, "counting", "导入扫描单")
    document = scan_db.document(store, document_id)
    if document is None or document.purpose != "count" or document.status != "posted":
        raise LedgerError(
            Code.invalid_field,
            f"扫描单 {document_id} 不是已完成的盘点扫描单 (not a finished count document)",
            "document",
        )
    source = f"scan:{document_id}"
    if source in db.sources(store, row.id):
        raise LedgerError(
            Code.duplicate_line, f"扫描单 {document_id} 已导入 (already imported)", "document"
        )
    location = store.location_by_id(document.location_id).location.code
    lines = []
    for batch_id, (_, quantity) in scan_db.scanned_by_batch(store, document_id).items():
        batch = store.batch_by_id(batch_id)
        item = store.item_by_id(batch.item_id).item
        lines.append(CountLine(location, item.code, batch.batch.number, quantity))
    enter_counts(store, number, EnterCounts(tuple(lines)), actor, source)


def close_stocktake(store: LedgerStore, number: str) -> None:
    """Freeze the book side (as of the cut-off) and make the count final."""
    row = _row(store, number, lock=True)
    _require(row, "counting", "结束")
    store.flush()
    db.replace_book(store, row.id, _scope_balances(store, row))
    db.set_status(store, row.id, "closed", closed_at=dt.datetime.now(dt.UTC))


def _scope_balances(
    store: LedgerStore, row: db.StocktakeRow, only: LocationEntry | None = None
) -> list[tuple[int, int, int, int, int]]:
    """The book side of the count's scope (or of one place in it) as of the cut-off."""
    scope = _scope(store, row)
    locations = {only.id: only.path} if only is not None else scope.locations
    return db.scope_balances(store, scope.top.path, scope.item_ids, row.cut_off, locations)


def zero_uncounted(
    store: LedgerStore, number: str, command: ZeroUncounted, actor: int | None
) -> int:
    """Count as 0 every line on the books of a place (at the cut-off) that has no count yet;
    returns how many lines were declared. The declaration is kept as count lines of 0
    (source `declared_zero`, who and when), superseded like any count by a recount."""
    row = _row(store, number, lock=True)
    _require(row, "counting", "声明未盘为零")
    location, _ = _in_scope(
        store, row, command.location_code, "", "location_code", check_item=False
    )
    book = _scope_balances(store, row, location)
    counted = db.live_counts(store, row.id)
    zeros = uncounted(
        Lines.of((loc, item, batch, quantity) for loc, item, batch, quantity, _ in book),
        Lines.of((c.location_id, c.item_id, c.batch_id, c.quantity) for c in counted),
        [location.id],
    )
    now = dt.datetime.now(dt.UTC)
    db.add_counts(
        store,
        [
            {
                "stocktake_id": row.id,
                "location_id": loc,
                "item_id": item,
                "batch_id": batch,
                "quantity": 0,
                "source": "declared_zero",
                "counted_by": actor,
                "counted_at": now,
                "superseded_at": None,
            }
            for loc, item, batch in zip(
                zeros.location.tolist(), zeros.item.tolist(), zeros.batch.tolist(), strict=True
            )
        ],
    )
    return int(zeros.location.size)


def recount(store: LedgerStore, number: str, command: Recount, actor: int | None) -> int:
    """Send lines back: their counts are superseded (kept, marked) and the count reopens."""
    row = _row(store, number, lock=True)
    _require(row, "closed", "退回复盘")
    check_text(command.reason, "reason", recount_reason_length_max)
    if not command.lines:
        raise LedgerError(Code.invalid_field, "请指明复盘的行 (no lines to recount)", "lines")
    keys = []
    for index, line in enumerate(command.lines):
        field = f"lines[{index}]"
        location, item = _in_scope(store, row, line.location_code, line.item_code, field)
        batch = store.batch(item, line.batch_number, f"{field}.batch_number")
        keys.append((location.id, item.id, batch.id))
    superseded = db.supersede(store, row.id, keys, dt.datetime.now(dt.UTC))
    db.set_status(store, row.id, "counting", closed_at=None)
    return superseded


def reconciliation(
    store: LedgerStore, number: str, threshold: float = DEFAULT_THRESHOLD
) -> StocktakeReconciliation:
    row = _row(store, number)
    if row.status not in ("closed", "approved"):
        _require(row, "closed", "出具盘点报告")
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
    row = _row(store, number, lock=True)
    _require(row, "closed", "审核")
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
                transaction = run_command(store, adjust, today)
            store.flush()
            db.add_adjustment(store, row.id, transaction.sequence)
            posted.append(transaction.number)
    db.set_status(
        store,
        row.id,
        "approved",
        approved_by=actor,
        approved_at=dt.datetime.now(dt.UTC),
        approval_reason=command.reason,
    )
    return posted


def preview(store: LedgerStore, number: str) -> ApprovalPreview:
    """What approving the closed count will post (and what it will leave as 未盘)."""
    row = _row(store, number)
    _require(row, "closed", "预览审核")
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


def load_stocktake(store: LedgerStore, number: str) -> Stocktake:
    row = _row(store, number)
    top = store.location_by_id(row.location_id).location
    counted = tuple(
        CountedLine(
            store.location_by_id(line.location_id).location.code,
            store.item_by_id(line.item_id).item.code,
            store.batch_by_id(line.batch_id).batch.number,
            line.quantity,
            line.source,
            line.counted_by,
            as_utc(line.counted_at),
        )
        for line in db.live_counts(store, row.id)
    )
    return Stocktake(
        row.number,
        row.status,
        top.code,
        top.name,
        tuple(row.item_codes.split()),
        row.cut_off,
        row.blind,
        row.memo,
        as_utc(row.created_at),
        as_utc(row.closed_at) if row.closed_at else None,
        as_utc(row.approved_at) if row.approved_at else None,
        row.approval_reason,
        counted,
        tuple(db.adjustments(store, row.id)),
        () if row.blind else _expected(store, row),
        include_subtree=row.subtree,
        location_codes=tuple(row.location_codes.split()),
    )


def _expected(store: LedgerStore, row: db.StocktakeRow) -> tuple[ExpectedLine, ...]:
    counting = row.status == "counting"
    book_rows = _scope_balances(store, row) if counting else db.book(store, row.id)
    return tuple(
        ExpectedLine(
            store.location_by_id(loc).location.code,
            store.item_by_id(item).item.code,
            store.batch_by_id(batch).batch.number,
            book,
        )
        for loc, item, batch, book, _ in book_rows
        if book
    )


class Stocktakes:
    """The stocktake use cases over one ledger, each in its own database transaction."""

    def __init__(self, ledger) -> None:
        self.ledger = ledger

    def _write(self, work, actor: int | None = None):
        today = self.ledger.clock()
        return self.ledger.database.write(lambda store: work(store.acting(actor, today), today))

    @staticmethod
    def _logged(store: LedgerStore, action: str, stocktake: Stocktake, actor: int | None):
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

    def open(self, command: OpenStocktake, actor: int | None = None) -> Stocktake:
        return self._write(
            lambda s, d: self._logged(
                s, "stocktake.open", load_stocktake(s, open_stocktake(s, command, actor, d)), actor
            ),
            actor,
        )

    def count(self, number: str, command: EnterCounts, actor: int | None = None) -> Stocktake:
        return self._write(
            lambda s, d: (enter_counts(s, number, command, actor), load_stocktake(s, number))[1]
        )

    def zero_uncounted(
        self, number: str, command: ZeroUncounted, actor: int | None = None
    ) -> Stocktake:
        def work(store: LedgerStore, today: dt.date) -> Stocktake:
            declared = zero_uncounted(store, number, command, actor)
            stocktake = load_stocktake(store, number)
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

        return self._write(work, actor)

    def preview(self, number: str) -> ApprovalPreview:
        return self.ledger.database.lookup(lambda s: preview(s, number))

    def add_scan_document(
        self, number: str, document_id: int, actor: int | None = None
    ) -> Stocktake:
        return self._write(
            lambda s, d: (
                add_scan_document(s, number, document_id, actor),
                load_stocktake(s, number),
            )[1]
        )

    def close(self, number: str, actor: int | None = None) -> StocktakeReconciliation:
        return self._write(
            lambda s, d: (
                close_stocktake(s, number),
                self._logged(s, "stocktake.close", load_stocktake(s, number), actor),
                reconciliation(s, number),
            )[2],
            actor,
        )

    def recount(self, number: str, command: Recount, actor: int | None = None) -> Stocktake:
        return self._write(
            lambda s, d: (
                recount(s, number, command, actor),
                self._logged(s, "stocktake.recount", load_stocktake(s, number), actor),
            )[1],
            actor,
        )

    def approve(
        self, number: str, command: ApproveStocktake, actor: int | None = None
    ) -> Stocktake:
        return self._write(
            lambda s, d: (
                approve(s, number, command, actor, d),
                self._logged(s, "stocktake.approve", load_stocktake(s, number), actor),
            )[1],
            actor,
        )

    def get(self, number: str) -> Stocktake:
        return self.ledger.database.lookup(lambda s: load_stocktake(s, number))

    def reconciliation(
        self, number: str, threshold: float = DEFAULT_THRESHOLD
    ) -> StocktakeReconciliation:
        return self.ledger.database.lookup(lambda s: reconciliation(s, number, threshold))
