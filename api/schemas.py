"""Request and response bodies: one msgspec Struct per verb; unknown fields are refused.

Movement bodies mirror the ledger's commands without the idempotency key, which comes from
the `Idempotency-Key` header.
"""

from __future__ import annotations

import datetime as dt
from typing import Generic, TypeVar

import msgspec

from ledger.commands import AdjustLine, LineSpec, ReceiptLine, ReceivedLine, Shortage
from ledger.model import Batch, Item, Location, Transaction
from ledger.services.request_models import AllocationRequest, RequestEvent, Suggestion

Strict = {"frozen": True, "forbid_unknown_fields": True}
T = TypeVar("T")


class ReceiptCreate(msgspec.Struct, **Strict):
    location_code: str
    lines: tuple[ReceiptLine, ...]
    occurred_on: dt.date | None = None
    memo: str = ""


class IssueCreate(msgspec.Struct, **Strict):
    source_code: str
    destination_code: str
    lines: tuple[LineSpec, ...]
    occurred_on: dt.date | None = None
    memo: str = ""


class ConfirmationCreate(msgspec.Struct, **Strict):
    """received: what arrived of each (item, batch) not received in full. shortage: required
    when anything is short — the reason and exactly the missing lines, as the
    `shortage_unconfirmed` refusal lists them."""

    shipment_number: str
    received: tuple[ReceivedLine, ...] = ()
    occurred_on: dt.date | None = None
    memo: str = ""
    shortage: Shortage | None = None


class DistributionCreate(msgspec.Struct, **Strict):
    location_code: str
    lines: tuple[LineSpec, ...]
    occurred_on: dt.date | None = None
    memo: str = ""


class ReturnCreate(DistributionCreate, **Strict):
    """The same fields as a distribution; the stock goes to the location's parent."""


class WriteOffCreate(msgspec.Struct, **Strict):
    location_code: str
    lines: tuple[LineSpec, ...]
    reason: str
    occurred_on: dt.date | None = None
    memo: str = ""


class AdjustmentCreate(msgspec.Struct, **Strict):
    location_code: str
    lines: tuple[AdjustLine, ...]
    reason: str = "stocktake"
    occurred_on: dt.date | None = None
    memo: str = ""


class ReversalCreate(msgspec.Struct, **Strict):
    transaction_number: str
    occurred_on: dt.date | None = None
    memo: str = ""


class ShareIn(msgspec.Struct, **Strict):
    """weight: the share's weight; omitted, the location's population (人口) as imported."""

    location_code: str
    weight: int | None = None


class PlanCompute(msgspec.Struct, **Strict):
    """Split `quantity` base units of an item held at the source over the shares by weight, in
    whole packs of `pack` (the item's first pack when omitted; its base unit for loose units).
    With `print_plan` (a saved 印制计划's number) the shares are the plan's places right below
    the source, weighted by what the plan gives each with its area, in the plan's pack, and
    `quantity` defaults to what is still due under the plan (what it gives less what has been
    issued under it, reversals not counted): leave `shares` (and `pack`) out — giving them,
    even an empty list, is refused."""

    source_code: str
    item_code: str
    quantity: int | None = None
    shares: tuple[ShareIn, ...] | None = None
    pack: str | None = None
    print_plan: str | None = None


class PlanApply(msgspec.Struct, **Strict):
    source_code: str
    item_code: str
    quantity: int | None = None
    shares: tuple[ShareIn, ...] | None = None
    pack: str | None = None
    occurred_on: dt.date | None = None
    memo: str = ""
    print_plan: str | None = None


class PlanLineOut(msgspec.Struct, frozen=True):
    location_code: str
    packs: int
    quantity: int


class PlanOut(msgspec.Struct, frozen=True):
    item_code: str
    pack_base_units: int
    lines: tuple[PlanLineOut, ...]
    allocated: int
    unallocated: int


class AppliedPlan(msgspec.Struct, frozen=True):
    plan: PlanOut
    shipments: tuple[Transaction, ...]


class Me(msgspec.Struct, frozen=True):
    """role: the user's first role; roles: every role it holds at its location (a county
    clerk who also approves: ["clerk", "approver"]). global_admin: an admin of every city."""

    id: int
    label: str
    role: str
    location_code: str
    location_name: str
    roles: tuple[str, ...] = ()
    global_admin: bool = False


class BalanceRow(msgspec.Struct, frozen=True):
    """A balance line, or a roll-up when grouped (then the grouped-away codes are null)."""

    location_code: str | None
    location_name: str | None
    item_code: str
    item_name: str
    batch_number: str | None
    expires_on: dt.date | None
    unit: str
    on_hand: int
    reserved: int
    available: int


class Page(msgspec.Struct, Generic[T], frozen=True):
    """A page of a list in a stable order; `next_offset` is null on the last page."""

    items: tuple[T, ...]
    limit: int
    offset: int
    next_offset: int | None


def page(rows: list, limit: int, offset: int) -> Page:
    """`rows` fetched with limit + 1 to learn whether another page follows."""
    more = len(rows) > limit
    return Page(tuple(rows[:limit]), limit, offset, offset + limit if more else None)


class Digest(msgspec.Struct, frozen=True):
    """The chain head. checkpoint: `N:HASH` (16 hex characters) to keep outside the database;
    GET /audit/verification?checkpoint=N:HASH proves later that the ledger still holds it."""

    sequence: int
    hash: str
    checkpoint: str = ""


__all__ = [
    "AllocationRequest",
    "Batch",
    "Item",
    "Location",
    "RequestEvent",
    "Suggestion",
    "Transaction",
]
