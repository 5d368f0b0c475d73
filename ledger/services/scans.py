"""One scanned label into an open document (a pack at most once), and undoing the last scan:
where the pack must be for the document's purpose, room left on a request, FEFO order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ledger import labels
from ledger.db import scans as db
from ledger.db.store import BatchEntry, ItemEntry, LedgerStore, LocationEntry
from ledger.limits import override_reason_length_max, scans_per_document_max
from ledger.model import ScanPurpose, ScanStatus
from ledger.picking import Candidate, batch_ahead
from ledger.rules import Code, LedgerError, check_text
from ledger.services.picking import stock_candidates
from ledger.services.request_records import load_request
from ledger.services.scan_documents import (
    document_row,
    load_document,
    load_summary,
    require_open,
    scan_line,
)
from ledger.services.scan_models import Scan, ScanDocument, ScanResult
from ledger.services.scan_packs import require_sealed_at, resolve_label


def scan(
    store: LedgerStore,
    keys: labels.LabelKeys,
    command: Scan,
    actor: int | None,
    today: dt.date,
    check_document: Callable[[db.DocumentRow], None] = lambda row: None,
) -> ScanResult:
    """Apply one scanned label to an open document."""
    row = document_row(store, command.document, lock=True)
    check_document(row)
    require_open(row)
    item, batch, pack = resolve_label(store, keys, command.payload)
    existing = db.live_line_for_pack(store, row.id, pack.id)
    name = f"{item.item.name} 批次 {batch.batch.number} 第 {pack.serial} 包"
    if existing is not None:
        return ScanResult(
            ScanStatus.already_scanned,
            f"{name} 已扫描过，不重复计数 (already scanned)",
            scan_line(store, existing),
            load_summary(store, row),
        )
    scanned = db.scanned_by_batch(store, row.id)
    if sum(packs for packs, _ in scanned.values()) >= scans_per_document_max:
        raise LedgerError(
            Code.too_many_lines,
            f"一张扫描单最多 {scans_per_document_max} 包 (at most {scans_per_document_max})",
            "document",
        )
    location = store.location_by_id(row.location_id)
    reason = (command.override_reason or "").strip() or None
    if reason is not None:
        check_text(reason, "override_reason", override_reason_length_max)
    if row.purpose == ScanPurpose.receive:
        require_sealed_at(store, item, batch, pack, location, expected=True)
    elif row.purpose == ScanPurpose.confirm:
        require_sealed_at(store, item, batch, pack, location, shipment_id=row.shipment_id)
    else:
        require_sealed_at(store, item, batch, pack, location)
    if row.purpose == ScanPurpose.issue:
        if batch.batch.is_expired(today):
            raise LedgerError(
                Code.batch_expired,
                f"{item.item.name} 批次 {batch.batch.number} 已于 {batch.batch.expires_on} 过期，"
                f"不能出库 (batch expired)",
                "payload",
            )
        taken = {batch_id: quantity for batch_id, (_, quantity) in scanned.items()}
        if row.request_number is not None:
            _check_request_room(store, row.request_number, item, pack, taken)
        if reason is None:
            _check_fefo(store, row, location, item, batch, taken, today)
    db.add_line(store, row.id, pack.id, actor, reason)
    added = db.live_line_for_pack(store, row.id, pack.id)
    assert added is not None
    return ScanResult(
        ScanStatus.scanned,
        f"{name}：{pack.quantity} {item.item.base_unit}",
        scan_line(store, added),
        load_summary(store, row),
    )


def _check_request_room(
    store: LedgerStore,
    number: str,
    item: ItemEntry,
    pack: db.PackRecord,
    taken: dict[int, int],
) -> None:
    """taken: base units already scanned per batch id."""
    request = load_request(store, number)
    line = next((line for line in request.lines if line.item_code == item.item.code), None)
    if line is None:
        raise LedgerError(
            Code.item_not_requested,
            f"申领单 {number} 中没有 {item.item.name} (item not requested)",
            "payload",
        )
    already = sum(
        quantity
        for batch_id, quantity in taken.items()
        if store.batch_by_id(batch_id).item_id == item.id
    )
    if already + pack.quantity > line.outstanding:
        raise LedgerError(
            Code.exceeds_approved,
            f"{item.item.name} 待发 {line.outstanding} {line.unit}，已扫 {already}，这一包 "
            f"{pack.quantity} 超出 (more than approved)",
            "payload",
        )


def _check_fefo(
    store: LedgerStore,
    row: db.DocumentRow,
    location: LocationEntry,
    item: ItemEntry,
    batch: BatchEntry,
    taken: dict[int, int],
    today: dt.date,
) -> None:
    """A later batch while an earlier usable one is still on the shelf (beyond what this
    document already takes of it, `taken` per batch id) needs a reason."""
    reserved_here: dict[int, int] = {}
    if row.request_number is not None:
        for reservation in store.open_reservations(row.request_number, location.id):
            if reservation["item_id"] == item.id:
                batch_id = reservation["batch_id"]
                reserved_here[batch_id] = reserved_here.get(batch_id, 0) + reservation["remaining"]
    candidates = stock_candidates(store, location.id, item.id, reserved_here)
    mine = Candidate(batch.batch.number, 1, batch.batch.expires_on, batch.batch.produced_on)
    scanned = {entry.batch.number: taken.get(entry.id, 0) for entry, _ in candidates}
    other = batch_ahead([candidate for _, candidate in candidates], mine, today, scanned)
    if other is not None:
        raise LedgerError(
            Code.fefo_override_reason_required,
            f"{item.item.name} 应先发批次 {other.batch_number}"
            f"{f'（有效期至 {other.expires_on}）' if other.expires_on else ''}，"
            f"改发批次 {batch.batch.number} 须填写原因 (an earlier batch is on hand)",
            "override_reason",
        )


def undo(
    store: LedgerStore,
    document_id: int,
    check_document: Callable[[db.DocumentRow], None] = lambda row: None,
) -> ScanDocument:
    row = document_row(store, document_id, lock=True)
    check_document(row)
    require_open(row)
    lines = db.live_lines(store, row.id)
    if not lines:
        raise LedgerError(Code.nothing_to_undo, "没有可撤销的扫描 (nothing to undo)", "document")
    db.undo_line(store, lines[-1].id)
    return load_document(store, row.id)
