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
    String,
    Text,
    UniqueConstraint,
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
        Index("ix_postings_account_id", "location_id", "item_id", "batch_id", "id"),
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
