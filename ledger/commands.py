"""Commands: what a caller asks the ledger to do. Plain data, decoded at the edge (API, CLI).

Every write command carries an optional `idempotency_key`: the same key with the same content
returns the first result; the same key with other content is refused (`idempotency_key_reused`).
Quantities are positive integers; `unit` names a pack of the item (套, 捆, 盒 …) to count in
packs, or is omitted (or the base unit) to count in base units.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import msgspec

from ledger.model import Item, Location


class LineSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One line of a movement.

    batch_number: which batch; omitted on issues and distributions to pick FEFO.
    unit: a pack name to count in packs; omitted for base units.
    """

    item_code: str
    quantity: int
    batch_number: str | None = None
    unit: str | None = None


class ReceiptLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A line of a receipt; the batch is created on first receipt.

    produced_on: print date or manufacture date. expires_on: required for contraceptives.
    """

    item_code: str
    batch_number: str
    quantity: int
    unit: str | None = None
    produced_on: dt.date | None = None
    expires_on: dt.date | None = None


class ReceivedLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What actually arrived of one shipped (item, batch); the rest is recorded as short."""

    item_code: str
    batch_number: str
    quantity_received: int
    unit: str | None = None


class ShortageReason(StrEnum):
    """Why what was shipped did not all arrive (短少原因)."""

    lost_in_transit = "lost_in_transit"  # 运输丢失
    damaged = "damaged"  # 破损
    short_shipped = "short_shipped"  # 发货短少 (the sender packed less than the voucher says)
    other = "other"  # 其他 (a note is required)


SHORTAGE_REASON_NAMES = {
    ShortageReason.lost_in_transit: "运输丢失",
    ShortageReason.damaged: "破损",
    ShortageReason.short_shipped: "发货短少",
    ShortageReason.other: "其他",
}


class ShortageLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One (item, batch) that did not arrive in full: `quantity` missing (base units, or packs
    of `unit`)."""

    item_code: str
    batch_number: str
    quantity: int
    unit: str | None = None


class Shortage(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """短少确认: the receiver's explicit second step before a shortage is written off. `lines`
    must name exactly what is missing (shipped − received, per item and batch); `reason` is a
    `ShortageReason`; `note` says what happened (required when the reason is `other`)."""

    reason: str
    lines: tuple[ShortageLine, ...]
    note: str = ""


def confirmation_memo(memo: str, shortage: Shortage | None) -> str:
    """A confirmation's memo: the receiver's memo, then the shortage's reason and note in words
    (the reason's code is the transaction's `reason`)."""
    if shortage is None:
        return memo
    name = SHORTAGE_REASON_NAMES.get(shortage.reason, shortage.reason)  # type: ignore[call-overload]
    said = f"短少原因：{name}" + (f"，{shortage.note.strip()}" if shortage.note.strip() else "")
    return f"{memo}；{said}" if memo.strip() else said


class AddItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    item: Item
    idempotency_key: str | None = None


class AddLocation(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    location: Location
    idempotency_key: str | None = None


class Receive(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """入库: from the supplier (printer, manufacturer, province) into a warehouse."""

    location_code: str
    lines: tuple[ReceiptLine, ...]
    occurred_on: dt.date | None = None
    memo: str = ""
    idempotency_key: str | None = None


class OpenBalances(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """期初建账: the stock a location already holds on the day the office starts its ledger,
    from the virtual `opening` location, dated that day (`occurred_on`). A batch is created on
    its first line, as on a receipt; an expired batch is recorded as it is (it is on the shelf,
    to be written off). One opening per location: a second is refused (`opening_exists`) —
    a wrong one is reversed (红冲) and entered again, a later difference is a stocktake."""

    location_code: str
    lines: tuple[ReceiptLine, ...]
    occurred_on: dt.date | None = None
    memo: str = ""
    idempotency_key: str | None = None


class Issue(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """出库/调拨: from a warehouse into transit, addressed to `destination_code`.

    reservation: the reference of an approved allocation whose reserved stock this consumes.
    """

    source_code: str
    destination_code: str
    lines: tuple[LineSpec, ...]
    occurred_on: dt.date | None = None
    memo: str = ""
    reservation: str | None = None
    idempotency_key: str | None = None


class Confirm(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """签收: the receiver confirms a shipment. Lines not listed arrived in full.

    Anything short is written off only with `shortage`, which must name exactly what is
    missing; without it a short confirmation is refused (`shortage_unconfirmed`, listing the
    missing lines)."""

    shipment_number: str
    received: tuple[ReceivedLine, ...] = ()
    occurred_on: dt.date | None = None
    memo: str = ""
    idempotency_key: str | None = None
    shortage: Shortage | None = None


class Distribute(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """发放: handed to the public (an event such as 5.29, or to households)."""

    location_code: str
    lines: tuple[LineSpec, ...]
    occurred_on: dt.date | None = None
    memo: str = ""
    idempotency_key: str | None = None


class Return(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """退回: from a location back to its parent."""

    location_code: str
    lines: tuple[LineSpec, ...]
    occurred_on: dt.date | None = None
    memo: str = ""
    idempotency_key: str | None = None


class WriteOff(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """报损: out of stock for a reason (expired, damaged, recalled, lost, other)."""

    location_code: str
    lines: tuple[LineSpec, ...]
    reason: str
    occurred_on: dt.date | None = None
    memo: str = ""
    idempotency_key: str | None = None


class AdjustLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A stocktake difference: positive for a gain (盘盈), negative for a loss (盘亏)."""

    item_code: str
    batch_number: str
    difference: int


class Adjust(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """盘点调整: approved stocktake differences posted against `adjustment`."""

    location_code: str
    lines: tuple[AdjustLine, ...]
    reason: str = "stocktake"
    occurred_on: dt.date | None = None
    memo: str = ""
    idempotency_key: str | None = None


class Reverse(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """红冲: cancel an earlier transaction with its mirror; the original stays."""

    transaction_number: str
    occurred_on: dt.date | None = None
    memo: str = ""
    idempotency_key: str | None = None


class Reserve(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Reserve stock at a location for an approved allocation (`reference`), FEFO by batch."""

    reference: str
    location_code: str
    item_code: str
    quantity: int
    unit: str | None = None
    batch_number: str | None = None
    occurred_on: dt.date | None = None
    idempotency_key: str | None = None


class Release(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Release what is still reserved under `reference` (cancelled or closed allocation)."""

    reference: str
    idempotency_key: str | None = None
