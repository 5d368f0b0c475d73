"""The stored ledger: SQLAlchemy 2 typed models.

Transactions and postings are append-only: triggers on both engines refuse UPDATE and DELETE
(and TRUNCATE on PostgreSQL). Balances, reservations, counters and the chain head are the
mutable state kept beside them, always changed in the same database transaction as the postings.
"""

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
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ItemRow(Base):
    """物资/品种."""

    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(40))
    base_unit: Mapped[str] = mapped_column(String(10))
    expiry_tracked: Mapped[bool] = mapped_column(Boolean)
    __table_args__ = (CheckConstraint("kind IN ('printed', 'contraceptive')", name="kind"),)


class ItemPackRow(Base):
    """包装: a named pack converting to base units."""

    __tablename__ = "item_packs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(10))
    base_units: Mapped[int] = mapped_column(Integer)
    __table_args__ = (
        UniqueConstraint("item_id", "name", name="uq_item_packs_item_id_name"),
        CheckConstraint("base_units > 0", name="base_units_positive"),
    )


class BatchRow(Base):
    """批次 / 印次 / 批号."""

    __tablename__ = "batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    number: Mapped[str] = mapped_column(String(40))
    produced_on: Mapped[dt.date | None] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    __table_args__ = (UniqueConstraint("item_id", "number", name="uq_batches_item_id_number"),)


class LocationRow(Base):
    """库点: a node of the administrative tree, or a virtual location.

    path: ids from the root down, '/1/4/37/', so a subtree is one prefix match.
    """

    __tablename__ = "locations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))
    physical: Mapped[bool] = mapped_column(Boolean)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    path: Mapped[str] = mapped_column(String(400), index=True)
    # 人口: the default weight of the location's share in an allocation plan. A planning
    # figure, not what vouchers say about the place: not versioned, changes are logged.
    population: Mapped[int | None] = mapped_column(BigInteger)
    __table_args__ = (
        CheckConstraint(
            "level IN ('city', 'county', 'township', 'village', 'virtual')", name="level"
        ),
    )


class TransactionRow(Base):
    """单据 / 凭证. The id is the position in the hash chain, gapless from 1."""

    __tablename__ = "transactions"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    counterparty_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"), unique=True)
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"), index=True)
    reason: Mapped[str | None] = mapped_column(String(40))
    memo: Mapped[str] = mapped_column(Text)
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # Who (制单人 / 审核人 / 签收人), hashed from chain version 2 on. Plain integers, not foreign
    # keys: added to the append-only table without rebuilding it; `verify` checks they name users.
    chain_version: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    maker_id: Mapped[int | None] = mapped_column(Integer)
    approver_id: Mapped[int | None] = mapped_column(Integer)
    receiver_id: Mapped[int | None] = mapped_column(Integer)
    __table_args__ = (
        Index("ix_transactions_occurred_on_id", "occurred_on", "id"),
        Index("ix_transactions_kind_occurred_on", "kind", "occurred_on"),
    )


class PostingRow(Base):
    """分录. balance_after is the account's on-hand balance right after this posting."""

    __tablename__ = "postings"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    __table_args__ = (
        # Covering: an account's postings in order with what balance reads need, so that
        # running and as-of balances and per-account sums never touch the table rows.
        Index(
            "ix_postings_account_covering",
            "location_id",
            "item_id",
            "batch_id",
            "id",
            "quantity",
            "balance_after",
            "occurred_on",
        ),
        CheckConstraint("quantity <> 0", name="quantity_nonzero"),
    )


class BalanceRow(Base):
    """The stored balance of one account, kept in step with its postings."""

    __tablename__ = "balances"
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(BigInteger)
    reserved: Mapped[int] = mapped_column(BigInteger)
    last_occurred_on: Mapped[dt.date | None] = mapped_column(Date)
    __table_args__ = (
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        Index("ix_balances_item_id_batch_id", "item_id", "batch_id"),
    )


class ReservationRow(Base):
    """A reservation of stock for an approved allocation: open until consumed or released."""

    __tablename__ = "reservations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(80), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= quantity", name="remaining_in_range"),
        CheckConstraint("status IN ('open', 'consumed', 'released')", name="status"),
    )


class VoucherCounterRow(Base):
    """The last voucher number used per prefix and year (numbers have no gaps)."""

    __tablename__ = "voucher_counters"
    prefix: Mapped[str] = mapped_column(String(4), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class ChainHeadRow(Base):
    """The one row naming the last transaction of the hash chain."""

    __tablename__ = "chain_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sequence: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class IdempotencyKeyRow(Base):
    """A write command already carried out: its key, a digest of its content and its result."""

    __tablename__ = "idempotency_keys"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    operation: Mapped[str] = mapped_column(String(40))
    request_digest: Mapped[str] = mapped_column(String(64))
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))
    result: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


items = ItemRow.__table__
item_packs = ItemPackRow.__table__
batches = BatchRow.__table__
locations = LocationRow.__table__
transactions = TransactionRow.__table__
postings = PostingRow.__table__
balances = BalanceRow.__table__
reservations = ReservationRow.__table__
voucher_counters = VoucherCounterRow.__table__
chain_head = ChainHeadRow.__table__
idempotency_keys = IdempotencyKeyRow.__table__


class UserRow(Base):
    """An API user: a role at a location. Only a hash of the bearer token is stored.

    label: what the account is for, e.g. 金堂县仓库保管员 (a post, not a person's name).
    """

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'clerk', 'requester', 'approver', 'auditor')", name="role"
        ),
    )


class UserRoleRow(Base):
    """A role a user holds at its location besides `users.role` (its first role): a county
    clerk who also approves holds `clerk` there and `approver` here."""

    __tablename__ = "user_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'clerk', 'requester', 'approver', 'auditor')", name="role"
        ),
    )


class AllocationRequestRow(Base):
    """申领单: a township asks the level above for items."""

    __tablename__ = "allocation_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    requester_location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    supplier_location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    memo: Mapped[str] = mapped_column(Text)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'submitted', 'approved', 'rejected', 'cancelled', 'closed')",
            name="status",
        ),
    )


class AllocationRequestLineRow(Base):
    """One item of a request, with how much was approved, issued and received in base units."""

    __tablename__ = "allocation_request_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("allocation_requests.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    requested: Mapped[int] = mapped_column(BigInteger)
    approved: Mapped[int | None] = mapped_column(BigInteger)
    issued: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger)
    short: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        UniqueConstraint("request_id", "item_id", name="uq_allocation_request_lines_request_item"),
    )


class AllocationRequestShipmentRow(Base):
    """A shipment (issue transaction) made against a request."""

    __tablename__ = "allocation_request_shipments"
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"), primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("allocation_requests.id"), index=True)
    confirmation_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))


class AllocationRequestEventRow(Base):
    """Every state change of a request: who, when, what."""

    __tablename__ = "allocation_request_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("allocation_requests.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text)


class HttpIdempotencyRow(Base):
    """A POST already answered: the response to replay for a retry with the same key."""

    __tablename__ = "http_idempotency"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_digest: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


users = UserRow.__table__
user_roles = UserRoleRow.__table__
allocation_requests = AllocationRequestRow.__table__
allocation_request_lines = AllocationRequestLineRow.__table__


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


class PeriodCloseRow(Base):
    """月结: the ledger closed up to the end of `period_end`. Nothing may be posted on or before
    that day afterwards. sequence / hash: the chain head at the close, where verification since
    the close starts; the account balances at that point are in closing_balances.

    root_id: the root location (a city) whose subtree the close applies to; NULL for a close
    made before roots were separate (migration 0008), which applies to every root.
    """

    __tablename__ = "period_closes"
    __table_args__ = (UniqueConstraint("root_id", "period_end"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    root_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    period_end: Mapped[dt.date] = mapped_column(Date)
    sequence: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    accounts: Mapped[int] = mapped_column(Integer)
    closed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ClosingBalanceRow(Base):
    """Every account's on-hand balance at a period close (the chain head it names)."""

    __tablename__ = "closing_balances"
    close_id: Mapped[int] = mapped_column(ForeignKey("period_closes.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(BigInteger)


class CloseMovementRow(Base):
    """What moved in and out of each physical account, per transaction kind, on every day up to
    and including a close's period_end (cumulative from the beginning of the ledger). Final once
    the close is made, since nothing may be posted on or before a closed day; reports over whole
    closed periods subtract two of these instead of summing postings."""

    __tablename__ = "close_movements"
    # read in key order with the quantity beside the key (no second lookup per row)
    __table_args__ = ({"sqlite_with_rowid": False},)
    close_id: Mapped[int] = mapped_column(ForeignKey("period_closes.id"), primary_key=True)
    # No foreign keys but the close: the rows are sums of postings, whose keys are checked;
    # checking each again made a close several times slower on PostgreSQL.
    location_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # batch last: a summary by location × item reads the key in order, without sorting
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    incoming: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    batch_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger)  # sum of |quantity|, > 0


class CloseItemMovementRow(Base):
    """close_movements summed over batches: per location × item, what the 收发存汇总表 reads by
    default (a tenth of the rows at city scale)."""

    __tablename__ = "close_item_movements"
    __table_args__ = ({"sqlite_with_rowid": False},)
    close_id: Mapped[int] = mapped_column(ForeignKey("period_closes.id"), primary_key=True)
    # No foreign keys but the close: the rows are sums of postings, whose keys are checked;
    # checking each again made a close several times slower on PostgreSQL.
    location_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    incoming: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger)


allocation_request_shipments = AllocationRequestShipmentRow.__table__
allocation_request_events = AllocationRequestEventRow.__table__
http_idempotency = HttpIdempotencyRow.__table__
packs = PackRow.__table__
pack_stock = PackStockRow.__table__
stocktakes = StocktakeRow.__table__
period_closes = PeriodCloseRow.__table__
closing_balances = ClosingBalanceRow.__table__
close_movements = CloseMovementRow.__table__
close_item_movements = CloseItemMovementRow.__table__
stocktake_lines = StocktakeLineRow.__table__
stocktake_book = StocktakeBookRow.__table__
stocktake_adjustments = StocktakeAdjustmentRow.__table__
scan_documents = ScanDocumentRow.__table__
scan_lines = ScanLineRow.__table__


class OperationLogRow(Base):
    """操作日志: every action that is not a ledger movement — users added, revoked or changed,
    failed sign-ins, period closes, label-key rotations, reference data added or changed,
    stocktakes opened/closed/approved, scan documents posted/cancelled, request state changes.
    Append-only: triggers refuse UPDATE and DELETE, as for the ledger.

    actor: who, as a label kept with the entry (the user's label, or 命令行 for the CLI).
    action: what, a stable dotted code such as `user.add`, `period.close`, `batch.change`.
    object_type / object_key: on which object (e.g. `stocktake` / `PD-2026-000001`).
    root_id: the root location (city) whose auditors may read the entry; NULL: global admins only.
    before / after: JSON of the object's relevant fields before and after (NULL when none).
    """

    __tablename__ = "operations_log"
    __table_args__ = (
        Index("ix_operations_log_root_id_id", "root_id", "id"),
        Index("ix_operations_log_object", "object_type", "object_key"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_key: Mapped[str] = mapped_column(String(200))
    root_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)


class ReferenceVersionRow(Base):
    """A dated version of reference data that gives history its meaning: an item (name, unit,
    packs …), a location (name, level, parent) or a batch (dates). Version 1 is written when the
    object is created; a change writes the next version in the same database transaction as the
    row it changes, and logs it. Append-only; `verify` checks every current row equals its last
    version.

    object_type: item, location, batch or user. content: the canonical JSON of `ledger.reference`.
    valid_from: the business day from which the version is in force.
    """

    __tablename__ = "reference_versions"
    __table_args__ = (UniqueConstraint("object_type", "object_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    content: Mapped[str] = mapped_column(Text)


class ChainVersionRow(Base):
    """Where each chain version starts: transactions from `first_sequence` on (up to the next
    version's start) are hashed with `version`. Written by the migration that introduced the
    version (0008: version 2 starts after the chain head it found); append-only."""

    __tablename__ = "chain_versions"
    version: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    first_sequence: Mapped[int] = mapped_column(BigInteger)


operations_log = OperationLogRow.__table__
chain_versions = ChainVersionRow.__table__
reference_versions = ReferenceVersionRow.__table__
