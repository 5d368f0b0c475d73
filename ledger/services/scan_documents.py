"""Scan documents inside a unit of work: open one for a purpose, read it with its totals, cancel
it, list them; the checks every scan and posting makes of its document."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ledger.db import oplog
from ledger.db import scans as db
from ledger.db.moments import as_utc
from ledger.db.store import LedgerStore
from ledger.model import ScanDocumentStatus, ScanPurpose, Transaction, TransactionKind
from ledger.requests import RequestStatus
from ledger.rules import Code, LedgerError
from ledger.services.checks import check_memo, physical
from ledger.services.request_records import load_request
from ledger.services.scan_models import (
    PURPOSE_NAMES,
    PURPOSES,
    OpenDocument,
    ScanDocument,
    ScanLine,
    ScanSummary,
    ScanTotal,
    UnitQuantity,
)


def open_document(
    store: LedgerStore, command: OpenDocument, actor: int | None, today: dt.date
) -> int:
    if command.purpose not in PURPOSES:
        raise LedgerError(
            Code.unknown_scan_purpose,
            f"用途只能是 {', '.join(PURPOSES)} (unknown purpose {command.purpose!r})",
            "purpose",
        )
    check_memo(command.memo)
    location = physical(store.location(command.location_code), "location_code")
    destination_id = shipment_id = None
    request_number = None
    if command.purpose == ScanPurpose.issue:
        if (command.destination_code is None) == (command.request_number is None):
            raise LedgerError(
                Code.invalid_field,
                "出库须填写接收单位或申领单号（二选一）(destination_code or request_number)",
                "destination_code",
            )
        if command.request_number is not None:
            request = load_request(store, command.request_number)
            if request.status != RequestStatus.approved:
                raise LedgerError(
                    Code.request_state,
                    f"申领单 {request.number} 状态为 {request.status}，不能发货 (not approved)",
                    "request_number",
                )
            if request.supplier_code != location.location.code:
                raise LedgerError(
                    Code.location_not_supplier,
                    f"申领单 {request.number} 由 {request.supplier_name} 发货 (another supplier)",
                    "request_number",
                )
            request_number = request.number
        else:
            destination = physical(
                store.location(command.destination_code or "", "destination_code"),
                "destination_code",
            )
            if destination.id == location.id:
                raise LedgerError(
                    Code.locations_must_be_different,
                    "发出与接收库点不能相同 (source and destination must differ)",
                    "destination_code",
                )
            destination_id = destination.id
    elif command.purpose == ScanPurpose.confirm:
        if command.shipment_number is None:
            raise LedgerError(
                Code.invalid_field,
                "签收须填写发货单号 (shipment_number required)",
                "shipment_number",
            )
        shipment = open_shipment(store, command.shipment_number)
        if shipment.counterparty_code != location.location.code:
            raise LedgerError(
                Code.shipment_addressed_elsewhere,
                f"{shipment.number} 不是发往 {location.location.name} 的 (addressed elsewhere)",
                "shipment_number",
            )
        shipment_id = shipment.sequence
    return db.insert_document(
        store,
        purpose=command.purpose,
        location_id=location.id,
        destination_id=destination_id,
        request_number=request_number,
        shipment_id=shipment_id,
        memo=command.memo,
        created_by=actor,
        created_at=dt.datetime.now(dt.UTC),
    )


def open_shipment(store: LedgerStore, number: str) -> Transaction:
    shipment = store.transaction_by_number(number)
    if shipment.kind not in (TransactionKind.issue, TransactionKind.transfer):
        raise LedgerError(
            Code.not_a_shipment, f"{number} 不是出库或调拨单 (not a shipment)", "shipment_number"
        )
    reversal = store.reversal_of(shipment.sequence)
    if reversal is not None:
        raise LedgerError(
            Code.not_a_shipment,
            f"{number} 已被 {reversal} 红冲，不能签收 (shipment reversed)",
            "shipment_number",
        )
    confirmation = store.active_confirmation(shipment.sequence)
    if confirmation is not None:
        raise LedgerError(
            Code.shipment_already_confirmed,
            f"{number} 已由 {confirmation} 签收，不能再签收 (already confirmed)",
            "shipment_number",
        )
    return shipment


def document_row(store: LedgerStore, document_id: int, lock: bool = False) -> db.DocumentRow:
    row = db.document(store, document_id, lock)
    if row is None:
        raise LedgerError(
            Code.unknown_scan_document,
            f"没有扫描单 {document_id} (unknown scan document)",
            "document",
        )
    return row


def require_open(row: db.DocumentRow) -> None:
    if row.status != ScanDocumentStatus.open:
        done = "过账" if row.status == ScanDocumentStatus.posted else "作废"
        raise LedgerError(
            Code.scan_document_state,
            f"扫描单 {row.id} 已{done}，不能再修改 (document is {row.status})",
            "document",
        )


def scan_line(store: LedgerStore, line: db.LineRow) -> ScanLine:
    batch = store.batch_by_id(line.pack.batch_id)
    item = store.item_by_id(batch.item_id)
    return ScanLine(
        line.id,
        item.item.code,
        item.item.name,
        batch.batch.number,
        line.pack.serial,
        line.pack.quantity,
        item.item.base_unit,
        batch.batch.expires_on,
        as_utc(line.scanned_at),
        line.override_reason,
    )


def load_document(store: LedgerStore, document_id: int, with_lines: bool = True) -> ScanDocument:
    """A document with its totals and, unless `with_lines` is false (lists), every live scan."""
    row = document_row(store, document_id)
    lines = [scan_line(store, line) for line in db.live_lines(store, row.id)] if with_lines else []
    summary = load_summary(store, row)
    location = store.location_by_id(row.location_id).location
    destination = store.location_by_id(row.destination_id).location if row.destination_id else None
    shipment = store.transaction(row.shipment_id) if row.shipment_id else None
    posted = store.transaction(row.transaction_id) if row.transaction_id else None
    return ScanDocument(
        row.id,
        row.purpose,
        PURPOSE_NAMES[row.purpose],
        row.status,
        location.code,
        location.name,
        destination.code if destination else None,
        row.request_number,
        shipment.number if shipment else None,
        row.memo,
        as_utc(row.created_at),
        as_utc(row.closed_at) if row.closed_at else None,
        posted.number if posted else None,
        tuple(lines),
        summary.totals,
        summary.packs,
        summary.quantities,
    )


def _totals(store: LedgerStore, scanned: dict[int, tuple[int, int]]) -> tuple[ScanTotal, ...]:
    totals = []
    for batch_id, (packs, quantity) in scanned.items():
        batch = store.batch_by_id(batch_id)
        item = store.item_by_id(batch.item_id).item
        totals.append(
            ScanTotal(item.code, item.name, batch.batch.number, packs, quantity, item.base_unit)
        )
    return tuple(sorted(totals, key=lambda total: (total.item_code, total.batch_number)))


def load_summary(store: LedgerStore, row: db.DocumentRow) -> ScanSummary:
    scanned = db.scanned_by_batch(store, row.id)
    totals = _totals(store, scanned)
    by_unit: dict[str, int] = {}
    for total in totals:
        by_unit[total.base_unit] = by_unit.get(total.base_unit, 0) + total.quantity
    return ScanSummary(
        row.id,
        row.purpose,
        row.status,
        totals,
        sum(packs for packs, _ in scanned.values()),
        tuple(UnitQuantity(unit, quantity) for unit, quantity in by_unit.items()),
    )


def cancel(
    store: LedgerStore,
    document_id: int,
    check_document: Callable[[db.DocumentRow], None] = lambda row: None,
    actor: int | None = None,
) -> ScanDocument:
    row = document_row(store, document_id, lock=True)
    check_document(row)
    require_open(row)
    db.close_document(store, row.id, ScanDocumentStatus.cancelled, None)
    document = load_document(store, row.id)
    log_document(store, "scan_document.cancel", document, actor)
    return document


def log_document(
    store: LedgerStore, action: str, document: ScanDocument, actor: int | None
) -> None:
    oplog.record(
        store,
        action,
        "scan_document",
        str(document.id),
        user_id=actor,
        before={"status": ScanDocumentStatus.open},
        after={
            "status": document.status,
            "purpose": document.purpose,
            "location": document.location_code,
            "transaction": document.transaction_number,
        },
        location_path=store.location(document.location_code).path,
    )


def documents(
    store: LedgerStore, location_path: str | None, status: str | None, limit: int, offset: int
) -> list[ScanDocument]:
    """Documents newest first, with their totals but not their scans."""
    return [
        load_document(store, row.id, with_lines=False)
        for row in db.documents(store, location_path, status, limit, offset)
    ]
