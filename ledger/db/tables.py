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
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db.table_base import NAMING_CONVENTION, Base, table_of  # noqa: F401  (re-exported)


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


items = table_of(ItemRow)
item_packs = table_of(ItemPackRow)
batches = table_of(BatchRow)
locations = table_of(LocationRow)
transactions = table_of(TransactionRow)
postings = table_of(PostingRow)
balances = table_of(BalanceRow)
reservations = table_of(ReservationRow)
voucher_counters = table_of(VoucherCounterRow)
chain_head = table_of(ChainHeadRow)
idempotency_keys = table_of(IdempotencyKeyRow)


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
    # Signing in to the web workspace (工作台): a name such as clerk@510121 and an argon2 hash
    # of the password; none until an admin gives them. Repeated failures lock the name.
    login: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    failed_sign_ins: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'clerk', 'requester', 'approver', 'auditor')", name="role"
        ),
    )


class WebSessionRow(Base):
    """A signed-in browser: the hash of its session cookie, its CSRF token, when it was last
    seen (it ends after LEDGER_SESSION_IDLE_MINUTES without a request) and when it ended (sign
    out, expiry, the user revoked). Kept: who signed in from where, and when."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


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
    # 建议申领量: what the ledger suggested (ledger/norms.py) when the line was written, if any
    suggested: Mapped[int | None] = mapped_column(BigInteger)
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


users = table_of(UserRow)
web_sessions = table_of(WebSessionRow)
user_roles = table_of(UserRoleRow)
allocation_requests = table_of(AllocationRequestRow)
allocation_request_lines = table_of(AllocationRequestLineRow)


allocation_request_shipments = table_of(AllocationRequestShipmentRow)
allocation_request_events = table_of(AllocationRequestEventRow)
http_idempotency = table_of(HttpIdempotencyRow)

# The floor work's and the history's tables, declared in modules of their own; named here too.
from ledger.db.tables_history import *  # noqa: E402, F403
from ledger.db.tables_norms import *  # noqa: E402, F403
from ledger.db.tables_print import *  # noqa: E402, F403
from ledger.db.tables_totals import *  # noqa: E402, F403
from ledger.db.tables_work import *  # noqa: E402, F403
