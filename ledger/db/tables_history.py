"""Tables of what the ledger keeps about itself: period closes (the balances and movements a
close kept), the operations log, versions of reference data and where each chain version
starts. Re-exported by tables.py."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db.table_base import Base, table_of


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


operations_log = table_of(OperationLogRow)
chain_versions = table_of(ChainVersionRow)
reference_versions = table_of(ReferenceVersionRow)


period_closes = table_of(PeriodCloseRow)
closing_balances = table_of(ClosingBalanceRow)
close_movements = table_of(CloseMovementRow)
close_item_movements = table_of(CloseItemMovementRow)
