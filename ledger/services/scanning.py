"""Labels and scanning: announce a labelled delivery, find and open packs, and scan packs into a
document that posts as one transaction.

A scan document has a purpose:
- receive: packs of an announced delivery (labels printed before it arrived) into a warehouse;
- issue: packs leaving a warehouse, to a destination or against an approved request;
- confirm: packs of a shipment arriving; packs not scanned are recorded as short;
- count: packs on the shelf at a location; closing the document gives the counted totals.
Scanning the same pack twice is harmless; undo takes back the last scan; nothing is deleted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

import msgspec

from ledger import commands as c
from ledger import labels
from ledger.db import oplog
from ledger.db import scans as db
from ledger.db.moments import as_utc
from ledger.db.store import BatchEntry, ItemEntry, LedgerStore, LocationEntry
from ledger.model import Transaction, TransactionKind, VirtualLocation
from ledger.packs import SealedPack, label_pack_size
from ledger.picking import Candidate, batch_ahead
from ledger.rules import Code, LedgerError, check_text, scans_per_document_max
from ledger.services import requests as rq
from ledger.services.checks import (
    base_units,
    business_date,
    check_composed_memo,
    check_memo,
    physical,
)
from ledger.services.label_sheets import DEFAULT_GRID, Grid, LabelView, sheet_pdf
from ledger.services.ledger import Ledger, run_command
from ledger.services.movement_lines import receipt_batch
from ledger.services.picking import stock_candidates

PURPOSES = ("receive", "issue", "confirm", "count")
PURPOSE_NAMES = {"receive": "到货入库", "issue": "出库", "confirm": "到货签收", "count": "盘点"}


# ---- commands and results -------------------------------------------------------------------


class AnnounceDelivery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """到货通知: a delivery that will arrive with our labels on it. The batch is registered and cut
    into packs that wait at `supplier` until scanned in at `location_code`."""

    location_code: str
    item_code: str
    batch_number: str
    quantity: int
    unit: str | None = None
    produced_on: dt.date | None = None
    expires_on: dt.date | None = None


class OpenDocument(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """purpose: receive, issue, confirm or count. An issue needs destination_code or
    request_number; a confirmation needs shipment_number."""

    purpose: str
    location_code: str
    destination_code: str | None = None
    request_number: str | None = None
    shipment_number: str | None = None
    memo: str = ""


class Scan(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One scanned label. override_reason: why a later-expiring batch is issued first."""

    document: Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)]
    payload: str
    override_reason: str | None = None


class OpenPack(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """拆包: the pack's units become loose stock where it is."""

    payload: str
    location_code: str


class PackInfo(msgspec.Struct, frozen=True):
    item_code: str
    item_name: str
    batch_number: str
    serial: int
    quantity: int
    base_unit: str
    pack_name: str
    expires_on: dt.date | None
    location_code: str
    location_name: str
    state: str  # sealed, opened, in_transit, announced, gone
    payload: str


class ScanLine(msgspec.Struct, frozen=True):
    id: int
    item_code: str
    item_name: str
    batch_number: str
    serial: int
    quantity: int
    base_unit: str
    expires_on: dt.date | None
    scanned_at: dt.datetime
    override_reason: str | None


class ScanTotal(msgspec.Struct, frozen=True):
    item_code: str
    item_name: str
    batch_number: str
    packs: int
    quantity: int
    base_unit: str


class UnitQuantity(msgspec.Struct, frozen=True):
    """A total in one base unit (张, 只 …)."""

    base_unit: str
    quantity: int


class ScanDocument(msgspec.Struct, frozen=True):
    id: int
    purpose: str
    purpose_name: str
    status: str
    location_code: str
    location_name: str
    destination_code: str | None
    request_number: str | None
    shipment_number: str | None
    memo: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    transaction_number: str | None
    lines: tuple[ScanLine, ...]  # empty in lists: GET one document for its scans
    totals: tuple[ScanTotal, ...]
    packs: int
    quantities: tuple[UnitQuantity, ...]  # per base unit: quantities of units never add up


class ScanSummary(msgspec.Struct, frozen=True):
    """A document's totals without its lines (what a scan answers with)."""

    id: int
    purpose: str
    status: str
    totals: tuple[ScanTotal, ...]
    packs: int
    quantities: tuple[UnitQuantity, ...]


class ScanResult(msgspec.Struct, frozen=True):
    """status: scanned, or already_scanned (the pack is in the document already).
    line: the pack scanned; document: the document's totals after this scan."""

    status: str
    message: str
    line: ScanLine
    document: ScanSummary


# ---- helpers ----------------------------------------------------------------------------------


def _pack_name(item: ItemEntry) -> str:
    size = label_pack_size(item.item)
    return next((p.name for p in item.item.packs if p.base_units == size), item.item.base_unit)


def _payload(store: LedgerStore, keys: labels.LabelKeys, pack: db.PackRecord) -> str:
    batch = store.batch_by_id(pack.batch_id)
    item = store.item_by_id(batch.item_id)
    label = labels.PackLabel(
        item.item.code, batch.batch.number, pack.serial, pack.quantity, batch.batch.expires_on
    )
    return labels.encode(label, keys)


def _state(store: LedgerStore, pack: db.PackRecord) -> str:
    location = store.location_by_id(pack.location_id).location
    if pack.opened_on is not None:
        return "opened"
    if location.code == VirtualLocation.in_transit.value:
        return "in_transit"
    if location.code == VirtualLocation.supplier.value:
        return "announced"
    return "gone" if location.is_virtual else "sealed"


def pack_info(store: LedgerStore, keys: labels.LabelKeys, pack: db.PackRecord) -> PackInfo:
    batch = store.batch_by_id(pack.batch_id)
    item = store.item_by_id(batch.item_id)
    location = store.location_by_id(pack.expected_location_id or pack.location_id).location
    return PackInfo(
        item.item.code,
        item.item.name,
        batch.batch.number,
        pack.serial,
        pack.quantity,
        item.item.base_unit,
        _pack_name(item),
        batch.batch.expires_on,
        location.code,
        location.name,
        _state(store, pack),
        _payload(store, keys, pack),
    )


def _resolve_label(
    store: LedgerStore, keys: labels.LabelKeys, payload: str
) -> tuple[ItemEntry, BatchEntry, db.PackRecord]:
    label = labels.decode(payload, keys)
    unknown = LedgerError(
        Code.label_invalid,
        f"标签 {labels.human_text(label)} 在本系统中没有登记 (label not on record)",
        "payload",
    )
    try:
        item = store.item(label.item_code)
        batch = store.batch(item, label.batch_number)
    except LedgerError:
        raise unknown from None
    pack = db.pack(store, batch.id, label.serial)
    if pack is None or pack.quantity != label.quantity:
        raise unknown
    return item, batch, pack


def batch_packs(
    store: LedgerStore,
    keys: labels.LabelKeys,
    item_code: str,
    batch_number: str,
    location_code: str | None = None,
    sealed_only: bool = True,
    limit: int | None = None,
    offset: int = 0,
) -> list[PackInfo]:
    """The packs of a batch (optionally only those at one location), by serial, with payloads."""
    item = store.item(item_code)
    batch = store.batch(item, batch_number)
    location_id = None
    if location_code is not None:
        location_id = store.location(location_code).id
    found = db.packs(store, batch.id, None, sealed_only, None, 0)
    if location_id is not None:
        found = [p for p in found if (p.expected_location_id or p.location_id) == location_id]
    end = None if limit is None else offset + limit
    return [pack_info(store, keys, p) for p in found[offset:end]]


def announce(
    store: LedgerStore, keys: labels.LabelKeys, command: AnnounceDelivery, today: dt.date
) -> list[PackInfo]:
    """Register a delivery's batch and cut it into labelled packs waiting at `supplier`."""
    location = physical(store.location(command.location_code), "location_code")
    item = store.item(command.item_code)
    size = label_pack_size(item.item)
    if size is None:
        raise LedgerError(
            Code.unknown_pack,
            f"{item.item.name} 没有包装规格，不能打印包装标签 (item has no packs to label)",
            "item_code",
        )
    labels.require_encodable(item.item.code, command.batch_number)
    quantity = base_units(item.item, command.quantity, command.unit, "quantity")
    line = c.ReceiptLine(
        item.item.code,
        command.batch_number,
        quantity,
        produced_on=command.produced_on,
        expires_on=command.expires_on,
    )
    batch = receipt_batch(store, item, line, "")
    if batch.batch.is_expired(today):
        raise LedgerError(
            Code.batch_expired,
            f"批次 {batch.batch.number} 已于 {batch.batch.expires_on} 过期，不能入库 (expired)",
            "expires_on",
        )
    supplier = store.location(VirtualLocation.supplier.value)
    first = store.packs.last_serial(batch.id) + 1
    store.packs.create_cut(batch.id, quantity, size, supplier.id, location.id)
    return [pack_info(store, keys, p) for p in db.packs(store, batch.id) if p.serial >= first]


def open_pack(
    store: LedgerStore, keys: labels.LabelKeys, command: OpenPack, today: dt.date
) -> PackInfo:
    item, batch, pack = _resolve_label(store, keys, command.payload)
    location = physical(store.location(command.location_code), "location_code")
    _require_sealed_at(store, item, batch, pack, location)
    store.packs.open(
        [SealedPack(pack.id, pack.serial, pack.quantity)], batch.id, pack.location_id, today
    )
    return pack_info(store, keys, db.pack(store, batch.id, pack.serial))  # type: ignore[arg-type]


def _require_sealed_at(
    store: LedgerStore,
    item: ItemEntry,
    batch: BatchEntry,
    pack: db.PackRecord,
    location: LocationEntry,
    shipment_id: int | None = None,
    expected: bool = False,
) -> None:
    name = f"{item.item.name} 批次 {batch.batch.number} 第 {pack.serial} 包"
    if pack.opened_on is not None:
        raise LedgerError(
            Code.pack_opened,
            f"{name} 已于 {pack.opened_on} 拆包，请按散件处理 (pack opened)",
            "payload",
        )
    if expected:
        here = pack.expected_location_id == location.id and pack.location_id == (
            store.location(VirtualLocation.supplier.value).id
        )
    elif shipment_id is not None:
        here = pack.shipment_id == shipment_id and pack.location_id == (
            store.location(VirtualLocation.in_transit.value).id
        )
    else:
        here = pack.location_id == location.id
    if not here:
        where = store.location_by_id(pack.location_id).location.name
        raise LedgerError(
            Code.pack_not_here,
            f"{name} 不在此处（账上在：{where}）(pack is not here)",
            "payload",
        )


# ---- documents -------------------------------------------------------------------------------


def open_document(
    store: LedgerStore, command: OpenDocument, actor: int | None, today: dt.date
) -> int:
    if command.purpose not in PURPOSES:
        raise LedgerError(
            Code.invalid_field,
            f"用途只能是 {', '.join(PURPOSES)} (unknown purpose {command.purpose!r})",
            "purpose",
        )
    check_memo(command.memo)
    location = physical(store.location(command.location_code), "location_code")
    destination_id = shipment_id = None
    request_number = None
    if command.purpose == "issue":
        if (command.destination_code is None) == (command.request_number is None):
            raise LedgerError(
                Code.invalid_field,
                "出库须填写接收单位或申领单号（二选一）(destination_code or request_number)",
                "destination_code",
            )
        if command.request_number is not None:
            request = rq.load_request(store, command.request_number)
            if request.status != "approved":
                raise LedgerError(
                    Code.request_state,
                    f"申领单 {request.number} 状态为 {request.status}，不能发货 (not approved)",
                    "request_number",
                )
            if request.supplier_code != location.location.code:
                raise LedgerError(
                    Code.invalid_field,
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
    elif command.purpose == "confirm":
        if command.shipment_number is None:
            raise LedgerError(
                Code.invalid_field,
                "签收须填写发货单号 (shipment_number required)",
                "shipment_number",
            )
        shipment = _open_shipment(store, command.shipment_number)
        if shipment.counterparty_code != location.location.code:
            raise LedgerError(
                Code.invalid_field,
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


def _open_shipment(store: LedgerStore, number: str) -> Transaction:
    shipment = store.transaction_by_number(number)
    if shipment.kind not in (TransactionKind.issue, TransactionKind.transfer):
        raise LedgerError(
            Code.not_a_shipment, f"{number} 不是出库或调拨单 (not a shipment)", "shipment_number"
        )
    done = store.active_confirmation(shipment.sequence) or store.reversal_of(shipment.sequence)
    if done is not None:
        raise LedgerError(
            Code.shipment_already_confirmed,
            f"{number} 已由 {done} 处理，不能再签收 (already confirmed or reversed)",
            "shipment_number",
        )
    return shipment


def _document_row(store: LedgerStore, document_id: int, lock: bool = False) -> db.DocumentRow:
    row = db.document(store, document_id, lock)
    if row is None:
        raise LedgerError(
            Code.unknown_scan_document,
            f"没有扫描单 {document_id} (unknown scan document)",
            "document",
        )
    return row


def _require_open(row: db.DocumentRow) -> None:
    if row.status != "open":
        raise LedgerError(
            Code.scan_document_state,
            f"扫描单 {row.id} 已{'过账' if row.status == 'posted' else '作废'}，不能再修改 "
            f"(document is {row.status})",
            "document",
        )


def _line(store: LedgerStore, line: db.LineRow) -> ScanLine:
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
    row = _document_row(store, document_id)
    lines = [_line(store, line) for line in db.live_lines(store, row.id)] if with_lines else []
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


def scan(
    store: LedgerStore,
    keys: labels.LabelKeys,
    command: Scan,
    actor: int | None,
    today: dt.date,
    check_document: Callable[[db.DocumentRow], None] = lambda row: None,
) -> ScanResult:
    """Apply one scanned label to an open document."""
    row = _document_row(store, command.document, lock=True)
    check_document(row)
    _require_open(row)
    item, batch, pack = _resolve_label(store, keys, command.payload)
    existing = db.live_line_for_pack(store, row.id, pack.id)
    name = f"{item.item.name} 批次 {batch.batch.number} 第 {pack.serial} 包"
    if existing is not None:
        return ScanResult(
            "already_scanned",
            f"{name} 已扫描过，不重复计数 (already scanned)",
            _line(store, existing),
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
        check_text(reason, "override_reason", 200)
    if row.purpose == "receive":
        _require_sealed_at(store, item, batch, pack, location, expected=True)
    elif row.purpose == "confirm":
        _require_sealed_at(store, item, batch, pack, location, shipment_id=row.shipment_id)
    else:
        _require_sealed_at(store, item, batch, pack, location)
    if row.purpose == "issue":
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
        "scanned",
        f"{name}：{pack.quantity} {item.item.base_unit}",
        _line(store, added),
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
    request = rq.load_request(store, number)
    line = next((line for line in request.lines if line.item_code == item.item.code), None)
    if line is None:
        raise LedgerError(
            Code.invalid_field,
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
    row = _document_row(store, document_id, lock=True)
    check_document(row)
    _require_open(row)
    lines = db.live_lines(store, row.id)
    if not lines:
        raise LedgerError(Code.nothing_to_undo, "没有可撤销的扫描 (nothing to undo)", "document")
    db.undo_line(store, lines[-1].id)
    return load_document(store, row.id)


def cancel(
    store: LedgerStore,
    document_id: int,
    check_document: Callable[[db.DocumentRow], None] = lambda row: None,
    actor: int | None = None,
) -> ScanDocument:
    row = _document_row(store, document_id, lock=True)
    check_document(row)
    _require_open(row)
    db.close_document(store, row.id, "cancelled", None)
    document = load_document(store, row.id)
    _log_document(store, "scan_document.cancel", document, actor)
    return document


def _log_document(
    store: LedgerStore, action: str, document: ScanDocument, actor: int | None
) -> None:
    oplog.record(
        store,
        action,
        "scan_document",
        str(document.id),
        user_id=actor,
        before={"status": "open"},
        after={
            "status": document.status,
            "purpose": document.purpose,
            "location": document.location_code,
            "transaction": document.transaction_number,
        },
        location_path=store.location(document.location_code).path,
    )


def post(
    store: LedgerStore,
    document_id: int,
    actor: int | None,
    today: dt.date,
    occurred_on: dt.date | None = None,
    check_document: Callable[[db.DocumentRow], None] = lambda row: None,
    shortage: c.Shortage | None = None,
) -> ScanDocument:
    """Post the document's packs as one transaction (a count just closes with its totals).

    shortage: on a confirmation with packs not scanned, the receiver's acknowledgement of what
    is missing (see `ledger.commands.Shortage`); only confirmations take one."""
    row = _document_row(store, document_id, lock=True)
    check_document(row)
    _require_open(row)
    if shortage is not None and row.purpose != "confirm":
        raise LedgerError(
            Code.invalid_field,
            "只有到货签收单可以填写短少确认 (only a confirmation takes a shortage)",
            "shortage",
        )
    lines = db.live_lines(store, row.id)
    if not lines:
        raise LedgerError(Code.nothing_scanned, "还没有扫描任何包 (nothing scanned)", "document")
    on = business_date(occurred_on, today)
    location = store.location_by_id(row.location_id)
    by_batch: dict[int, list[db.LineRow]] = {}
    for line in lines:
        by_batch.setdefault(line.pack.batch_id, []).append(line)
    if row.purpose == "confirm":  # every batch of the shipment: unscanned packs are short
        for pack in db.shipment_packs(store, row.shipment_id or 0):
            store.packs.pinned.setdefault(pack.batch_id, [])
    for batch_id, batch_lines in by_batch.items():
        store.packs.pinned[batch_id] = [line.pack.id for line in batch_lines]
    try:
        transaction = _post(store, row, location, by_batch, actor, today, on, shortage)
    finally:
        store.packs.pinned.clear()
    store.flush()
    db.close_document(store, row.id, "posted", transaction.sequence if transaction else None)
    document = load_document(store, row.id)
    _log_document(store, "scan_document.post", document, actor)
    return document


def _post(
    store: LedgerStore,
    row: db.DocumentRow,
    location: LocationEntry,
    by_batch: dict[int, list[db.LineRow]],
    actor: int | None,
    today: dt.date,
    on: dt.date,
    shortage: c.Shortage | None = None,
) -> Transaction | None:
    def quantity(batch_id: int) -> int:
        return sum(line.pack.quantity for line in by_batch[batch_id])

    def names(batch_id: int) -> tuple[str, str]:
        batch = store.batch_by_id(batch_id)
        return store.item_by_id(batch.item_id).item.code, batch.batch.number

    memo = row.memo or f"扫描单 {row.id}"
    if row.purpose == "count":
        return None
    if row.purpose == "receive":
        lines = tuple(c.ReceiptLine(*names(batch_id), quantity(batch_id)) for batch_id in by_batch)
        return run_command(store, c.Receive(location.location.code, lines, on, memo), today)
    if row.purpose == "issue":
        overrides = {
            batch_id: next((line.override_reason for line in ls if line.override_reason), None)
            for batch_id, ls in by_batch.items()
        }
        if row.request_number is not None:
            ship = rq.Ship(
                tuple(
                    rq.ShipLine(
                        names(batch_id)[0],
                        quantity(batch_id),
                        batch_number=names(batch_id)[1],
                        override_reason=overrides[batch_id],
                    )
                    for batch_id in by_batch
                ),
                on,
                row.memo,
            )
            return rq.ship_request(store, row.request_number, ship, actor, today)
        noted = [f"{'/'.join(names(b))}: {reason}" for b, reason in overrides.items() if reason]
        if noted:
            memo = f"{memo}；未按近效期先出：{'；'.join(noted)}"
        destination = store.location_by_id(row.destination_id or 0)
        issue = c.Issue(
            location.location.code,
            destination.location.code,
            tuple(c.LineSpec(names(b)[0], quantity(b), names(b)[1]) for b in by_batch),
            on,
            check_composed_memo(memo, "改发原因"),
        )
        return run_command(store, issue, today)
    # confirm: what arrived is what was scanned plus the loose units that travelled unpacked;
    # packs of the shipment that were not scanned are short — written off only with the
    # receiver's explicit `shortage` (else shortage_unconfirmed names the missing packs).
    shipment = _open_shipment(store, store.transaction(row.shipment_id or 0).number)
    packed = db.shipment_packs(store, shipment.sequence)
    unscanned: dict[tuple[str, str], int] = {}
    missing_packs = []
    scanned_ids = {line.pack.id for ls in by_batch.values() for line in ls}
    in_transit = store.location(VirtualLocation.in_transit.value).id
    for pack in packed:
        if pack.id not in scanned_ids and pack.location_id == in_transit and not pack.opened_on:
            key = names(pack.batch_id)
            unscanned[key] = unscanned.get(key, 0) + pack.quantity
            missing_packs.append(
                {
                    "item_code": key[0],
                    "batch_number": key[1],
                    "serial": pack.serial,
                    "quantity": pack.quantity,
                }
            )
    received = tuple(
        c.ReceivedLine(p.item_code, p.batch_number, p.quantity - unscanned[key])
        for p in shipment.postings
        if p.location_code == VirtualLocation.in_transit.value
        and unscanned.get(key := (p.item_code, p.batch_number))
    )
    request_number = db.request_of_shipment(store, shipment.sequence)
    try:
        if request_number is not None:
            return rq.confirm_shipment(
                store,
                request_number,
                rq.ConfirmShipment(shipment.number, received, on, row.memo, shortage),
                actor,
                today,
            )
        confirm = c.Confirm(shipment.number, received, on, memo, shortage=shortage)
        return run_command(store, confirm, today)
    except LedgerError as error:
        if error.code is Code.shortage_unconfirmed and error.details is not None:
            missing_packs.sort(key=lambda p: (p["item_code"], p["batch_number"], p["serial"]))
            error.details["missing_packs"] = missing_packs
        raise


def documents(
    store: LedgerStore, location_path: str | None, status: str | None, limit: int, offset: int
) -> list[ScanDocument]:
    """Documents newest first, with their totals but not their scans."""
    return [
        load_document(store, row.id, with_lines=False)
        for row in db.documents(store, location_path, status, limit, offset)
    ]


# ---- label views -----------------------------------------------------------------------------


def label_views(packs: list[PackInfo]) -> list[LabelView]:
    return [
        LabelView(
            p.payload,
            p.item_name,
            p.item_code,
            p.batch_number,
            p.serial,
            p.quantity,
            p.base_unit,
            p.pack_name,
            p.expires_on,
            p.location_name,
        )
        for p in packs
    ]


def pack_by_serial(
    store: LedgerStore, keys: labels.LabelKeys, item_code: str, batch_number: str, serial: int
) -> PackInfo:
    item = store.item(item_code)
    batch = store.batch(item, batch_number)
    pack = db.pack(store, batch.id, serial)
    if pack is None:
        raise LedgerError(
            Code.unknown_pack,
            f"{item.item.name} 批次 {batch_number} 没有第 {serial} 包 (no such pack)",
            "serial",
        )
    return pack_info(store, keys, pack)


class Scanning:
    """The labelling and scanning use cases over one ledger, each in its own transaction."""

    def __init__(self, ledger: Ledger, keys: labels.LabelKeys) -> None:
        self.ledger = ledger
        self.keys = keys

    def _write(self, work, actor: int | None = None):
        today = self.ledger.clock()
        return self.ledger.database.write(lambda store: work(store.acting(actor, today), today))

    def _read(self, work):
        return self.ledger.database.lookup(work)

    def announce(self, command: AnnounceDelivery) -> list[PackInfo]:
        return self._write(lambda s, d: announce(s, self.keys, command, d))

    def open_pack(self, command: OpenPack) -> PackInfo:
        return self._write(lambda s, d: open_pack(s, self.keys, command, d))

    def packs(
        self,
        item_code: str,
        batch_number: str,
        location_code: str | None = None,
        sealed_only: bool = True,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[PackInfo]:
        return self._read(
            lambda s: batch_packs(
                s, self.keys, item_code, batch_number, location_code, sealed_only, limit, offset
            )
        )

    def pack(self, item_code: str, batch_number: str, serial: int) -> PackInfo:
        return self._read(lambda s: pack_by_serial(s, self.keys, item_code, batch_number, serial))

    def resolve(self, payload: str) -> PackInfo:
        """The pack a scanned label stands for (label_invalid if it is garbled or forged)."""
        return self._read(
            lambda s: pack_info(s, self.keys, _resolve_label(s, self.keys, payload)[2])
        )

    def sheet(
        self,
        item_code: str,
        batch_number: str,
        location_code: str | None = None,
        grid: Grid = DEFAULT_GRID,
    ) -> bytes:
        packs = self.packs(item_code, batch_number, location_code)
        return sheet_pdf(label_views(packs), grid, f"{item_code} {batch_number} 包装标签")

    def open_document(self, command: OpenDocument, actor: int | None = None) -> ScanDocument:
        return self._write(lambda s, d: load_document(s, open_document(s, command, actor, d)))

    def document(self, document_id: int) -> ScanDocument:
        return self._read(lambda s: load_document(s, document_id))

    def documents(
        self, location_path: str | None, status: str | None, limit: int, offset: int
    ) -> list[ScanDocument]:
        return self._read(lambda s: documents(s, location_path, status, limit, offset))

    def scan(self, command: Scan, actor: int | None = None, check=lambda row: None) -> ScanResult:
        return self._write(lambda s, d: scan(s, self.keys, command, actor, d, check))

    def undo(self, document_id: int, check=lambda row: None) -> ScanDocument:
        return self._write(lambda s, d: undo(s, document_id, check))

    def cancel(
        self, document_id: int, check=lambda row: None, actor: int | None = None
    ) -> ScanDocument:
        return self._write(lambda s, d: cancel(s, document_id, check, actor), actor)

    def post(
        self,
        document_id: int,
        actor: int | None = None,
        occurred_on: dt.date | None = None,
        check=lambda row: None,
        shortage: c.Shortage | None = None,
    ) -> ScanDocument:
        return self._write(
            lambda s, d: post(s, document_id, actor, d, occurred_on, check, shortage), actor
        )
