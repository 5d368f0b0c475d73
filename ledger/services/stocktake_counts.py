"""Counting, inside a unit of work: open a stocktake, enter counts by hand or from a finished
count scan document, declare a place fully counted, close it against the books, send lines
back for recount, and read it."""

from __future__ import annotations

import datetime as dt

from ledger.db import scans as scan_db
from ledger.db import stocktakes as db
from ledger.db.moments import as_utc
from ledger.db.store import LedgerStore
from ledger.limits import (
    lines_per_transaction_max,
    recount_reason_length_max,
    stocktake_locations_max,
)
from ledger.model import ScanDocumentStatus, ScanPurpose, StocktakeStatus
from ledger.reconcile import Lines, uncounted
from ledger.rules import Code, LedgerError, check_text
from ledger.services.checks import base_units, business_date, check_memo, physical
from ledger.services.stocktake_models import (
    CountedLine,
    CountLine,
    EnterCounts,
    ExpectedLine,
    OpenStocktake,
    Recount,
    Stocktake,
    ZeroUncounted,
)
from ledger.services.stocktake_scope import (
    in_scope,
    require_status,
    scope_balances,
    stocktake_row,
)


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
    row = stocktake_row(store, number, lock=True)
    require_status(row, StocktakeStatus.counting, "录入盘点数")
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
        location, item = in_scope(store, row, line.location_code, line.item_code, field)
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
    row = stocktake_row(store, number, lock=True)
    require_status(row, StocktakeStatus.counting, "导入扫描单")
    document = scan_db.document(store, document_id)
    if document is None:
        raise LedgerError(
            Code.unknown_scan_document,
            f"没有扫描单 {document_id} (unknown scan document)",
            "document",
        )
    if document.purpose != ScanPurpose.count:
        raise LedgerError(
            Code.not_a_count_document,
            f"扫描单 {document_id} 不是盘点扫描单 (not a count document)",
            "document",
        )
    if document.status != ScanDocumentStatus.posted:
        raise LedgerError(
            Code.scan_document_state,
            f"扫描单 {document_id} 还没有完成（过账），不能导入盘点 (count document not finished)",
            "document",
        )
    source = f"scan:{document_id}"
    if source in db.sources(store, row.id):
        raise LedgerError(
            Code.scan_document_already_counted,
            f"扫描单 {document_id} 已导入 (already imported)",
            "document",
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
    row = stocktake_row(store, number, lock=True)
    require_status(row, StocktakeStatus.counting, "结束")
    store.flush()
    db.replace_book(store, row.id, scope_balances(store, row))
    db.set_status(store, row.id, StocktakeStatus.closed, closed_at=dt.datetime.now(dt.UTC))


def zero_uncounted(
    store: LedgerStore, number: str, command: ZeroUncounted, actor: int | None
) -> int:
    """Count as 0 every line on the books of a place (at the cut-off) that has no count yet;
    returns how many lines were declared. The declaration is kept as count lines of 0
    (source `declared_zero`, who and when), superseded like any count by a recount."""
    row = stocktake_row(store, number, lock=True)
    require_status(row, StocktakeStatus.counting, "声明未盘为零")
    location, _ = in_scope(store, row, command.location_code, "", "location_code", check_item=False)
    book = scope_balances(store, row, location)
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
    row = stocktake_row(store, number, lock=True)
    require_status(row, StocktakeStatus.closed, "退回复盘")
    check_text(command.reason, "reason", recount_reason_length_max)
    if not command.lines:
        raise LedgerError(Code.invalid_field, "请指明复盘的行 (no lines to recount)", "lines")
    keys = []
    for index, line in enumerate(command.lines):
        field = f"lines[{index}]"
        location, item = in_scope(store, row, line.location_code, line.item_code, field)
        batch = store.batch(item, line.batch_number, f"{field}.batch_number")
        keys.append((location.id, item.id, batch.id))
    superseded = db.supersede(store, row.id, keys, dt.datetime.now(dt.UTC))
    db.set_status(store, row.id, StocktakeStatus.counting, closed_at=None)
    return superseded


def load_stocktake(store: LedgerStore, number: str) -> Stocktake:
    row = stocktake_row(store, number)
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
    counting = row.status == StocktakeStatus.counting
    book_rows = scope_balances(store, row) if counting else db.book(store, row.id)
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
