"""Labels and scanning: announce a labelled delivery, find and open packs, and scan packs into a
document that posts as one transaction.

A scan document has a purpose:
- receive: packs of an announced delivery (labels printed before it arrived) into a warehouse;
- issue: packs leaving a warehouse, to a destination or against an approved request;
- confirm: packs of a shipment arriving; packs not scanned are recorded as short;
- count: packs on the shelf at a location; closing the document gives the counted totals.
Scanning the same pack twice is harmless; undo takes back the last scan; nothing is deleted.

Here are the use cases, each `verb(database, …, actor, today)` in its own unit of work (the
label keys where a label is read or printed); the steps they run are in `scan_packs`,
`scan_documents`, `scans` and `scan_posting`. `check` is the caller's look at the document
before anything changes (the API refuses a document outside the user's places there).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ledger import commands as c
from ledger import labels
from ledger.db.scans import DocumentRow
from ledger.db.unit_of_work import Database
from ledger.services import scan_documents, scan_packs, scan_posting, scans
from ledger.services.label_sheets import DEFAULT_GRID, Grid, sheet_pdf
from ledger.services.scan_models import (
    AnnounceDelivery,
    OpenDocument,
    OpenPack,
    PackInfo,
    Scan,
    ScanDocument,
    ScanResult,
)
from ledger.services.scan_packs import label_views, pack_info
from ledger.services.work import day, read, write

Check = Callable[[DocumentRow], None]


def _anything(row: DocumentRow) -> None:
    """No look at the document (the command line and the tests may touch any)."""


# ---- packs and labels ---------------------------------------------------------------------------


def announce(
    database: Database,
    keys: labels.LabelKeys,
    command: AnnounceDelivery,
    actor: int | None = None,
    today: dt.date | None = None,
) -> list[PackInfo]:
    today = day(today)
    return write(database, lambda s: scan_packs.announce(s, keys, command, today), actor, today)


def open_pack(
    database: Database,
    keys: labels.LabelKeys,
    command: OpenPack,
    actor: int | None = None,
    today: dt.date | None = None,
) -> PackInfo:
    today = day(today)
    return write(database, lambda s: scan_packs.open_pack(s, keys, command, today), actor, today)


def packs(
    database: Database,
    keys: labels.LabelKeys,
    item_code: str,
    batch_number: str,
    location_code: str | None = None,
    sealed_only: bool = True,
    limit: int | None = None,
    offset: int = 0,
) -> list[PackInfo]:
    return read(
        database,
        lambda s: scan_packs.batch_packs(
            s, keys, item_code, batch_number, location_code, sealed_only, limit, offset
        ),
    )


def pack(
    database: Database, keys: labels.LabelKeys, item_code: str, batch_number: str, serial: int
) -> PackInfo:
    return read(
        database, lambda s: scan_packs.pack_by_serial(s, keys, item_code, batch_number, serial)
    )


def resolve(database: Database, keys: labels.LabelKeys, payload: str) -> PackInfo:
    """The pack a scanned label stands for (label_invalid if it is garbled or forged)."""
    return read(
        database, lambda s: pack_info(s, keys, scan_packs.resolve_label(s, keys, payload)[2])
    )


def sheet(
    database: Database,
    keys: labels.LabelKeys,
    item_code: str,
    batch_number: str,
    location_code: str | None = None,
    grid: Grid = DEFAULT_GRID,
) -> bytes:
    """A PDF sheet of the batch's sealed pack labels (at one location, or everywhere)."""
    found = packs(database, keys, item_code, batch_number, location_code)
    return sheet_pdf(label_views(found), grid, f"{item_code} {batch_number} 包装标签")


# ---- documents ----------------------------------------------------------------------------------


def open_document(
    database: Database,
    command: OpenDocument,
    actor: int | None = None,
    today: dt.date | None = None,
) -> ScanDocument:
    today = day(today)

    def step(store) -> ScanDocument:
        document_id = scan_documents.open_document(store, command, actor, today)
        return scan_documents.load_document(store, document_id)

    return write(database, step, actor, today)


def document(database: Database, document_id: int) -> ScanDocument:
    return read(database, lambda s: scan_documents.load_document(s, document_id))


def documents(
    database: Database, location_path: str | None, status: str | None, limit: int, offset: int
) -> list[ScanDocument]:
    return read(
        database, lambda s: scan_documents.documents(s, location_path, status, limit, offset)
    )


def scan(
    database: Database,
    keys: labels.LabelKeys,
    command: Scan,
    actor: int | None = None,
    check: Check = _anything,
    today: dt.date | None = None,
) -> ScanResult:
    today = day(today)
    return write(
        database, lambda s: scans.scan(s, keys, command, actor, today, check), actor, today
    )


def undo(
    database: Database,
    document_id: int,
    check: Check = _anything,
    actor: int | None = None,
    today: dt.date | None = None,
) -> ScanDocument:
    return write(database, lambda s: scans.undo(s, document_id, check), actor, day(today))


def cancel(
    database: Database,
    document_id: int,
    check: Check = _anything,
    actor: int | None = None,
    today: dt.date | None = None,
) -> ScanDocument:
    return write(
        database,
        lambda s: scan_documents.cancel(s, document_id, check, actor),
        actor,
        day(today),
    )


def post(
    database: Database,
    document_id: int,
    actor: int | None = None,
    occurred_on: dt.date | None = None,
    check: Check = _anything,
    shortage: c.Shortage | None = None,
    today: dt.date | None = None,
) -> ScanDocument:
    today = day(today)
    return write(
        database,
        lambda s: scan_posting.post(s, document_id, actor, today, occurred_on, check, shortage),
        actor,
        today,
    )
