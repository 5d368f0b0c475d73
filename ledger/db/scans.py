"""Storage of packs and scan documents: the queries the labelling and scanning use cases need."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import func, insert, select, update

from ledger.db import tables as t
from ledger.db.session import Session
from ledger.db.store import LedgerStore
from ledger.model import ScanDocumentStatus


class PackRecord(NamedTuple):
    id: int
    batch_id: int
    serial: int
    quantity: int
    location_id: int
    shipment_id: int | None
    expected_location_id: int | None
    opened_on: dt.date | None


class DocumentRow(NamedTuple):
    id: int
    purpose: str
    status: str
    location_id: int
    destination_id: int | None
    request_number: str | None
    shipment_id: int | None
    memo: str
    created_by: int | None
    created_at: dt.datetime
    closed_at: dt.datetime | None
    transaction_id: int | None


class LineRow(NamedTuple):
    id: int
    pack: PackRecord
    scanned_at: dt.datetime
    override_reason: str | None


_P = t.packs.c
_PACK_COLUMNS = (
    _P.id,
    _P.batch_id,
    _P.serial,
    _P.quantity,
    _P.location_id,
    _P.shipment_id,
    _P.expected_location_id,
    _P.opened_on,
)


def _pack(row) -> PackRecord:
    return PackRecord._make((*row[:7], Session.read_date(row[7])))


def pack(store: LedgerStore, batch_id: int, serial: int) -> PackRecord | None:
    row = store.connection.execute(
        select(*_PACK_COLUMNS).where(_P.batch_id == batch_id, _P.serial == serial)
    ).first()
    return _pack(row) if row else None


def packs(
    store: LedgerStore,
    batch_id: int,
    location_id: int | None = None,
    sealed_only: bool = True,
    limit: int | None = None,
    offset: int = 0,
) -> list[PackRecord]:
    query = select(*_PACK_COLUMNS).where(_P.batch_id == batch_id)
    if location_id is not None:
        query = query.where(_P.location_id == location_id)
    if sealed_only:
        query = query.where(_P.opened_on.is_(None))
    query = query.order_by(_P.serial).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [_pack(row) for row in store.connection.execute(query)]


def shipment_packs(store: LedgerStore, shipment_id: int) -> list[PackRecord]:
    return [
        _pack(row)
        for row in store.connection.execute(
            select(*_PACK_COLUMNS).where(_P.shipment_id == shipment_id).order_by(_P.id)
        )
    ]


# ---- scan documents ------------------------------------------------------------------------

_D = t.scan_documents.c
_L = t.scan_lines.c


def insert_document(store: LedgerStore, **values) -> int:
    return store.connection.execute(
        insert(t.scan_documents).returning(_D.id), {"status": ScanDocumentStatus.open, **values}
    ).scalar_one()


def document(store: LedgerStore, document_id: int, lock: bool = False) -> DocumentRow | None:
    query = select(*t.scan_documents.c).where(_D.id == document_id)
    if lock and store.for_update:
        query = query.with_for_update()
    row = store.connection.execute(query).first()
    return DocumentRow(*row) if row else None


def documents(
    store: LedgerStore,
    location_path: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> list[DocumentRow]:
    query = select(*t.scan_documents.c)
    if location_path is not None:
        loc = t.locations.c
        query = query.join(t.locations, loc.id == _D.location_id).where(
            loc.path.startswith(location_path, autoescape=True)
        )
    if status is not None:
        query = query.where(_D.status == status)
    query = query.order_by(_D.id.desc()).limit(limit).offset(offset)
    return [DocumentRow(*row) for row in store.connection.execute(query)]


def close_document(
    store: LedgerStore, document_id: int, status: ScanDocumentStatus, transaction_id: int | None
) -> None:
    store.connection.execute(
        update(t.scan_documents)
        .where(_D.id == document_id)
        .values(status=status, closed_at=dt.datetime.now(dt.UTC), transaction_id=transaction_id)
    )


def live_lines(store: LedgerStore, document_id: int) -> list[LineRow]:
    rows = store.connection.execute(
        select(_L.id, _L.scanned_at, _L.override_reason, *_PACK_COLUMNS)
        .join(t.packs, _P.id == _L.pack_id)
        .where(_L.document_id == document_id, _L.undone_at.is_(None))
        .order_by(_L.id)
    )
    return [LineRow(row[0], _pack(row[3:]), row[1], row[2]) for row in rows]


def live_count(store: LedgerStore, document_id: int) -> int:
    return store.connection.execute(
        select(func.count())
        .select_from(t.scan_lines)
        .where(_L.document_id == document_id, _L.undone_at.is_(None))
    ).scalar_one()


def add_line(
    store: LedgerStore,
    document_id: int,
    pack_id: int,
    user_id: int | None,
    override_reason: str | None,
) -> int:
    return store.connection.execute(
        insert(t.scan_lines).returning(_L.id),
        {
            "document_id": document_id,
            "pack_id": pack_id,
            "scanned_at": dt.datetime.now(dt.UTC),
            "scanned_by": user_id,
            "override_reason": override_reason,
            "undone_at": None,
        },
    ).scalar_one()


def undo_line(store: LedgerStore, line_id: int) -> None:
    store.connection.execute(
        update(t.scan_lines).where(_L.id == line_id).values(undone_at=dt.datetime.now(dt.UTC))
    )


def request_of_shipment(store: LedgerStore, shipment_id: int) -> str | None:
    s, r = t.allocation_request_shipments.c, t.allocation_requests.c
    return store.connection.execute(
        select(r.number)
        .join(t.allocation_request_shipments, s.request_id == r.id)
        .where(s.transaction_id == shipment_id)
    ).scalar_one_or_none()


def live_line_for_pack(store: LedgerStore, document_id: int, pack_id: int) -> LineRow | None:
    row = store.connection.execute(
        select(_L.id, _L.scanned_at, _L.override_reason, *_PACK_COLUMNS)
        .join(t.packs, _P.id == _L.pack_id)
        .where(_L.document_id == document_id, _L.pack_id == pack_id, _L.undone_at.is_(None))
    ).first()
    return LineRow(row[0], _pack(row[3:]), row[1], row[2]) if row else None


def scanned_by_batch(store: LedgerStore, document_id: int) -> dict[int, tuple[int, int]]:
    """Live scans of a document per batch id: (packs, base units)."""
    rows = store.connection.execute(
        select(_P.batch_id, func.count(), func.sum(_P.quantity))
        .join(t.packs, _P.id == _L.pack_id)
        .where(_L.document_id == document_id, _L.undone_at.is_(None))
        .group_by(_P.batch_id)
    )
    return {row[0]: (row[1], row[2]) for row in rows}
