"""Commands: what a caller asks the ledger to do. Plain data, decoded at the edge (API, CLI).

Every write command carries an optional `idempotency_key`: the same key with the same content
returns the first result; the same key with other content is refused (`idempotency_key_reused`).
Quantities are positive integers; `unit` names a pack of the item (套, 捆, 盒 …) to count in
packs, or is omitted (or the base unit) to count in base units.
"""

from __future__ import annotations

import datetime as dt

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
    """签收: the receiver confirms a shipment. Lines not listed arrived in full."""

    shipment_number: str
    received: tuple[ReceivedLine, ...] = ()
    occurred_on: dt.date | None = None
    memo: str = ""
    idempotency_key: str | None = None


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
