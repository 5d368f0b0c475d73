"""Tables of the floor work: packs and where they are, scan documents and their lines,
stocktakes with their counts, book figures and adjustments. Re-exported by tables.py."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db.table_base import Base, table_of


class PackRow(Base):
    """A labelled pack (捆, 箱 …) of a batch and where it is now. Derived state like balances,
    changed in the same database transaction as the postings that move it.

    location_id: where the pack is: a warehouse, in-transit (with shipment_id), `supplier` for a
    delivery announced but not yet received (expected_location_id says where it will arrive), or
    the virtual location it left to (distributed, scrapped, adjustment).
    opened_on: the day it was opened (拆包): its units are loose stock from then on.
    """

    __tablename__ = "packs"
    __table_args__ = (
        UniqueConstraint("batch_id", "serial"),
        Index(
            "ix_packs_sealed",
            "location_id",
            "batch_id",
            "serial",
            sqlite_where=text("opened_on IS NULL"),
            postgresql_where=text("opened_on IS NULL"),
        ),
        Index("ix_packs_shipment", "shipment_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("serial > 0", name="serial_positive"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    serial: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    shipment_id: Mapped[int | None] = mapped_column(Integer)
    expected_location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    opened_on: Mapped[dt.date | None] = mapped_column(Date)


class PackStockRow(Base):
    """Sealed packs per (location, batch): how many and how many base units they hold, kept
    with the pack rows so that a posting never has to add up a warehouse's packs."""

    __tablename__ = "pack_stock"
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), primary_key=True)
    sealed_count: Mapped[int] = mapped_column(Integer)
    sealed_quantity: Mapped[int] = mapped_column(BigInteger)


class ScanDocumentRow(Base):
    """A scanning session: packs scanned for one purpose at one location, posted as one
    transaction (or, for a count, closed with its counted totals).

    purpose: receive (an announced delivery), issue (to destination, or against a request),
    confirm (a shipment's arrival), count (what is on the shelf).
    """

    __tablename__ = "scan_documents"
    __table_args__ = (
        CheckConstraint("purpose IN ('receive', 'issue', 'confirm', 'count')", name="purpose"),
        CheckConstraint("status IN ('open', 'posted', 'cancelled')", name="status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    destination_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    request_number: Mapped[str | None] = mapped_column(String(40))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))
    memo: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))


class ScanLineRow(Base):
    """One scan of one pack into a document. Undo marks it undone; nothing is deleted."""

    __tablename__ = "scan_lines"
    __table_args__ = (
        Index(
            "uq_scan_lines_live",
            "document_id",
            "pack_id",
            unique=True,
            sqlite_where=text("undone_at IS NULL"),
            postgresql_where=text("undone_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("scan_documents.id"), index=True)
    pack_id: Mapped[int] = mapped_column(ForeignKey("packs.id"))
    scanned_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    scanned_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    override_reason: Mapped[str | None] = mapped_column(String(200))
    undone_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class StocktakeRow(Base):
    """盘点: a count of a location's subtree (optionally some items) against the books as of the
    end of `cut_off`. counting → closed (the book side frozen, the reconciliation stands) →
    approved (the differences posted as stocktake adjustments); a recount sends it back."""

    __tablename__ = "stocktakes"
    __table_args__ = (
        CheckConstraint("status IN ('counting', 'closed', 'approved', 'cancelled')", name="status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    item_codes: Mapped[str] = mapped_column(Text)  # space-separated; empty for every item
    cut_off: Mapped[dt.date] = mapped_column(Date)
    blind: Mapped[bool] = mapped_column(Boolean)
    # Scope: the location itself, plus its whole subtree when `subtree`, plus the locations
    # named in `location_codes` (space-separated). Counts made before 0008 were subtree-wide.
    subtree: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    location_codes: Mapped[str] = mapped_column(Text, server_default=text("''"))
    status: Mapped[str] = mapped_column(String(10))
    memo: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    approval_reason: Mapped[str | None] = mapped_column(Text)


class StocktakeLineRow(Base):
    """A counted quantity of one account. Several counters' lines of an account add up; a
    recount supersedes the account's lines (kept, marked) and asks for new ones."""

    __tablename__ = "stocktake_lines"
    __table_args__ = (
        Index("ix_stocktake_lines_live", "stocktake_id", "superseded_at"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stocktake_id: Mapped[int] = mapped_column(ForeignKey("stocktakes.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(40))  # hand, or scan:<document id>
    counted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    counted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    superseded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class StocktakeBookRow(Base):
    """The book side frozen when a stocktake closes: each account's balance as of the cut-off,
    and what moved after it (shown beside the count, never mixed into it)."""

    __tablename__ = "stocktake_book"
    stocktake_id: Mapped[int] = mapped_column(ForeignKey("stocktakes.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), primary_key=True)
    book: Mapped[int] = mapped_column(BigInteger)
    after_cut_off: Mapped[int] = mapped_column(BigInteger)


class StocktakeAdjustmentRow(Base):
    """The adjustment transactions an approved stocktake posted."""

    __tablename__ = "stocktake_adjustments"
    stocktake_id: Mapped[int] = mapped_column(ForeignKey("stocktakes.id"), primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"), primary_key=True)


packs = table_of(PackRow)
pack_stock = table_of(PackStockRow)
stocktakes = table_of(StocktakeRow)
stocktake_lines = table_of(StocktakeLineRow)
stocktake_book = table_of(StocktakeBookRow)
stocktake_adjustments = table_of(StocktakeAdjustmentRow)
scan_documents = table_of(ScanDocumentRow)
scan_lines = table_of(ScanLineRow)


class StockMinimumRow(Base):
    """最低库存: the least a location should hold of an item, in base units, set by a clerk or
    an admin (who, when); the home page lists the places holding less. A minimum of 0 sets no
    floor (the row stays, saying who cleared it)."""

    __tablename__ = "stock_minimums"
    __table_args__ = (CheckConstraint("minimum >= 0", name="minimum_not_negative"),)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    minimum: Mapped[int] = mapped_column(BigInteger)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


stock_minimums = table_of(StockMinimumRow)
