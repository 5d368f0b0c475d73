"""Domain records of the stock ledger: small immutable types, no I/O.

Quantities are always integers in the item's base unit (张, 本, 只 …). Packs and sets are
converted at the edge, never stored as fractions.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import NamedTuple

import msgspec


class ItemKind(StrEnum):
    """The two kinds of goods the office hands out."""

    printed = "printed"  # 宣传品: 年画, 挂图, 叠页 … a print run is the batch, no expiry
    contraceptive = "contraceptive"  # 计生药具: manufacturer 批号 and 有效期至


class LocationLevel(StrEnum):
    """Where a location sits: a node of the administrative tree, or a virtual location."""

    city = "city"  # 市
    county = "county"  # 区(市)县
    township = "township"  # 乡镇/街道
    village = "village"  # 村/社区
    virtual = "virtual"


class VirtualLocation(StrEnum):
    """The virtual locations that make every movement two-sided. Their balances may be negative."""

    supplier = "supplier"  # printer, manufacturer or the province's allocation
    in_transit = "in-transit"  # issued, not yet confirmed by the receiver
    distributed = "distributed"  # handed to the public
    scrapped = "scrapped"  # written off
    adjustment = "adjustment"  # stocktake gains and losses, transit shortages
    opening = "opening"  # 期初: stock on the shelves on the day the ledger was started


class TransactionKind(StrEnum):
    """Every kind of movement. The value is the code; `VOUCHER_PREFIX` gives the number prefix."""

    receipt = "receipt"  # 入库: supplier → warehouse
    issue = "issue"  # 出库: warehouse → in-transit, addressed to a location below it
    transfer = "transfer"  # 调拨: like an issue, addressed to a location outside its subtree
    confirmation = "confirmation"  # 签收: in-transit → receiver (shortage → adjustment)
    distribution = "distribution"  # 发放: location → distributed
    return_ = "return"  # 退回: location → its parent
    write_off = "write_off"  # 报损: location → scrapped, with a reason
    stocktake = "stocktake"  # 盘点: gains and losses against adjustment
    reversal = "reversal"  # 红冲: the mirror of an earlier transaction
    opening = "opening"  # 期初建账: opening → location, stock already held on the first day


VOUCHER_PREFIX: dict[TransactionKind, str] = {
    TransactionKind.receipt: "RK",
    TransactionKind.issue: "CK",
    TransactionKind.transfer: "DB",
    TransactionKind.confirmation: "QS",
    TransactionKind.distribution: "FF",
    TransactionKind.return_: "TH",
    TransactionKind.write_off: "BS",
    TransactionKind.stocktake: "PD",
    TransactionKind.reversal: "HC",
    TransactionKind.opening: "QC",
}


def voucher_number(prefix: str, year: int, serial: int) -> str:
    """A number of the series of `prefix` in `year` (serials are gapless per prefix and year):
    RK-2026-000123."""
    return f"{prefix}-{year}-{serial:06d}"


# Kinds that hand stock onward or out to the public: an expired batch may not take part.
KINDS_REFUSING_EXPIRED: frozenset[TransactionKind] = frozenset(
    {TransactionKind.issue, TransactionKind.transfer, TransactionKind.distribution}
)


class WriteOffReason(StrEnum):
    """Why stock was written off (报损原因)."""

    expired = "expired"  # 过期
    damaged = "damaged"  # 破损/霉变
    recalled = "recalled"  # 召回
    lost = "lost"  # 丢失
    other = "other"  # 其他 (memo required)


WRITE_OFF_REASON_NAMES: dict[str, str] = {
    WriteOffReason.expired: "过期",
    WriteOffReason.damaged: "破损/霉变",
    WriteOffReason.recalled: "召回",
    WriteOffReason.lost: "丢失",
    WriteOffReason.other: "其他",
}


class Role(StrEnum):
    """What a user may do; a user holds one or more at its location. The order is the order
    answers list a user's roles in."""

    admin = "admin"  # 系统管理员: starts the ledger, imports, manages users, backs up
    clerk = "clerk"  # 保管员: receives, issues, scans and counts stock
    requester = "requester"  # 申领人: a township's 计生办 asks for allocations, confirms receipt
    approver = "approver"  # 审批人: approves the requests of the level below
    auditor = "auditor"  # 审计/督查: reports, verification, stocktake approval


class UserStatus(StrEnum):
    """A user is active until revoked (users.revoked_at); a revoked user stays, for the log."""

    active = "active"
    revoked = "revoked"


# The states of the records other than requests (those are `ledger.requests.RequestStatus`):
# the value is what storage holds and the API answers.


class ReservationStatus(StrEnum):
    """Stock set aside for an approved request (预留)."""

    open = "open"  # something of it is still reserved
    consumed = "consumed"  # shipped: the issues used all of it
    released = "released"  # the rest was freed (request closed or cancelled)


class StocktakeStatus(StrEnum):
    """Where a stocktake (盘点单) stands."""

    counting = "counting"  # 盘点中: counts are entered or scanned
    closed = "closed"  # 已结束: counting finished; approved next, or sent back to counting
    approved = "approved"  # 已审核: its differences are posted
    cancelled = "cancelled"  # 已作废


class ScanPurpose(StrEnum):
    """What a scan document is for."""

    receive = "receive"  # 到货入库: packs of an announced delivery into a warehouse
    issue = "issue"  # 出库: packs leaving, to a destination or against a request
    confirm = "confirm"  # 到货签收: a shipment's packs on arrival
    count = "count"  # type: ignore[assignment]  # 盘点: packs on the shelf, for a stocktake (shadows str.count)


class ScanDocumentStatus(StrEnum):
    """Where a scan document (扫描单) stands."""

    open = "open"  # 进行中: packs are being scanned
    posted = "posted"  # 已过账: its movement is in the ledger
    cancelled = "cancelled"  # 已作废


class ScanStatus(StrEnum):
    """What one scan did to its document."""

    scanned = "scanned"  # the pack is added
    already_scanned = "already_scanned"  # the pack is in the document already


class Pack(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A named pack of an item.

    name: the pack's unit, e.g. 套, 捆, 盒, 箱.
    base_units: how many base units one pack holds (挂图 1套 = 4张).
    """

    name: str
    base_units: int


class Item(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An item (物资/品种).

    code: short stable identifier, e.g. NH2014 (ASCII, used on labels).
    name: Chinese name, e.g. 2014年慰问独生子女家庭户单张年画.
    kind: printed matter or contraceptive.
    category: 年画, 挂图, 叠页, 历书, 壁报, 文摘, 避孕套, 口服避孕药 …
    base_unit: the unit quantities are counted in (张, 本, 册, 份, 套, 只, 盒, 板, 支, 个).
    packs: the named packs that convert to base units; the first is the shipping pack.
    expiry_tracked: batches carry an expiry date and are picked first-expiry-first-out.
    """

    code: str
    name: str
    kind: ItemKind
    category: str
    base_unit: str
    packs: tuple[Pack, ...] = ()
    expiry_tracked: bool = False

    def pack(self, name: str) -> Pack | None:
        """The pack of this item called `name`, or None."""
        return next((pack for pack in self.packs if pack.name == name), None)

    @property
    def shipping_pack_base_units(self) -> int:
        """Base units in the first (shipping) pack, 1 when the item has no packs."""
        return self.packs[0].base_units if self.packs else 1


class Batch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A batch of an item: a print run (印次) or a manufacturer's 批号.

    item_code: the item this batch belongs to.
    number: the print run or batch number, unique per item.
    produced_on: print date or manufacture date, if known.
    expires_on: expiry date (有效期至); required for expiry-tracked items, None otherwise.
    """

    item_code: str
    number: str
    produced_on: dt.date | None = None
    expires_on: dt.date | None = None

    def is_expired(self, on: dt.date) -> bool:
        """Whether the batch is past its expiry on `on` (usable through its expiry day)."""
        return self.expires_on is not None and on > self.expires_on


class Location(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A location: a node of 市 → 区(市)县 → 乡镇/街道 → 村/社区, or a virtual location.

    code: stable identifier (an administrative code such as 510121 or a virtual name).
    name: Chinese name, e.g. 金堂县, 赵家镇, 平水村.
    level: the level in the tree, or `virtual`.
    parent_code: the parent node's code; None for the city and for virtual locations.
    """

    code: str
    name: str
    level: LocationLevel
    parent_code: str | None = None

    @property
    def is_virtual(self) -> bool:
        return self.level is LocationLevel.virtual


class AccountKey(NamedTuple):
    """An account: the stock of one batch of one item at one location, by storage ids."""

    location_id: int
    item_id: int
    batch_id: int


class Posting(msgspec.Struct, frozen=True):
    """One side of a movement: a signed quantity on one account.

    balance_after: the account's on-hand balance right after this posting.
    """

    location_code: str
    item_code: str
    batch_number: str
    quantity: int
    balance_after: int = 0


class Transaction(msgspec.Struct, frozen=True):
    """A voucher (单据): a numbered, dated, hash-chained set of postings that sum to zero.

    sequence: position in the hash chain, gapless from 1.
    number: voucher number, e.g. RK-2026-000123, gapless per kind and year.
    kind: the movement kind.
    occurred_on: the business date of the movement.
    location_code: the physical location the voucher belongs to (the issuing or receiving side).
    counterparty_code: the other physical location, when there is one (issue destination …).
    reverses_sequence: for a reversal, the transaction it cancels.
    shipment_sequence: for a confirmation, the issue or transfer it confirms.
    reason: write-off reason or stocktake reason.
    memo: 摘要, free text.
    postings: at least two, summing to zero per (item, batch).
    previous_hash / hash: the chain; hash = sha256(previous_hash ‖ canonical encoding).
    chain_version: the encoding the hash was made with (1: before the people were hashed).
    maker_id / approver_id / receiver_id: the users who made the voucher (制单人/经办人), approved
    what it carries out (审核人: a request's approver, a stocktake's approver) and signed for the
    arrival (签收人, on confirmations); None where the flow has none or, on version 1, unknown.
    maker / approver / receiver: their labels, for people reading the voucher (not hashed).
    """

    sequence: int
    number: str
    kind: TransactionKind
    occurred_on: dt.date
    location_code: str
    postings: tuple[Posting, ...]
    counterparty_code: str | None = None
    reverses_sequence: int | None = None
    shipment_sequence: int | None = None
    reason: str | None = None
    memo: str = ""
    previous_hash: str = ""
    hash: str = ""
    chain_version: int = 2
    maker_id: int | None = None
    approver_id: int | None = None
    receiver_id: int | None = None
    maker: str | None = None
    approver: str | None = None
    receiver: str | None = None
