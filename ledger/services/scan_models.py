"""Labelling and scanning: what a client sends (commands) and gets back (packs, documents,
scan results)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from ledger.limits import integer_magnitude_max
from ledger.model import ScanPurpose

PURPOSES = tuple(ScanPurpose)
PURPOSE_NAMES: dict[str, str] = {
    ScanPurpose.receive: "到货入库",
    ScanPurpose.issue: "出库",
    ScanPurpose.confirm: "到货签收",
    ScanPurpose.count: "盘点",
}


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

    document: Annotated[int, msgspec.Meta(ge=1, le=integer_magnitude_max)]
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
    state: str  # a PackState: sealed, opened, in_transit, announced, gone
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
    """status (a ScanStatus): scanned, or already_scanned (the pack is in the document already).
    line: the pack scanned; document: the document's totals after this scan."""

    status: str
    message: str
    line: ScanLine
    document: ScanSummary
