"""Labelled packs inside a unit of work: announce a delivery cut into packs, find a pack by its
label or serial, open one, check a pack is sealed where a scan says it is, label views."""

from __future__ import annotations

import datetime as dt

from ledger import commands as c
from ledger import labels
from ledger.db import scans as db
from ledger.db.store import BatchEntry, ItemEntry, LedgerStore, LocationEntry
from ledger.model import VirtualLocation
from ledger.packs import PackState, SealedPack, label_pack_size
from ledger.rules import Code, LedgerError
from ledger.services.checks import base_units, physical
from ledger.services.label_sheets import LabelView
from ledger.services.movement_lines import receipt_batch
from ledger.services.scan_models import AnnounceDelivery, OpenPack, PackInfo


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


def _state(store: LedgerStore, pack: db.PackRecord) -> PackState:
    location = store.location_by_id(pack.location_id).location
    if pack.opened_on is not None:
        return PackState.opened
    if location.code == VirtualLocation.in_transit.value:
        return PackState.in_transit
    if location.code == VirtualLocation.supplier.value:
        return PackState.announced
    return PackState.gone if location.is_virtual else PackState.sealed


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


def resolve_label(
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
            Code.item_has_no_packs,
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
    item, batch, pack = resolve_label(store, keys, command.payload)
    location = physical(store.location(command.location_code), "location_code")
    require_sealed_at(store, item, batch, pack, location)
    store.packs.open(
        [SealedPack(pack.id, pack.serial, pack.quantity)], batch.id, pack.location_id, today
    )
    return pack_info(store, keys, db.pack(store, batch.id, pack.serial))  # type: ignore[arg-type]


def require_sealed_at(
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
            Code.unknown_labelled_pack,
            f"{item.item.name} 批次 {batch_number} 没有第 {serial} 包 (no such pack)",
            "serial",
        )
    return pack_info(store, keys, pack)
