"""The allocation request's commands (what a client sends) and views (what it gets back)."""

from __future__ import annotations

import datetime as dt

import msgspec

from ledger import commands as c


class RequestLineIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    item_code: str
    quantity: int
    unit: str | None = None


class CreateRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """requester_code: the asking location; supplier_code: who supplies (default its parent)."""

    requester_code: str
    lines: tuple[RequestLineIn, ...]
    supplier_code: str | None = None
    memo: str = ""


class EditRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    lines: tuple[RequestLineIn, ...]
    memo: str = ""


class Approve(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Approved quantity per item; items not listed are approved at 0."""

    lines: tuple[RequestLineIn, ...]
    memo: str = ""


class Reject(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: str


class ShipLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """batch_number: omitted to take the FEFO suggestion; a later-expiring batch than the
    suggestion needs override_reason."""

    item_code: str
    quantity: int
    unit: str | None = None
    batch_number: str | None = None
    override_reason: str | None = None


class Ship(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    lines: tuple[ShipLine, ...]
    occurred_on: dt.date | None = None
    memo: str = ""


class ConfirmShipment(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """received: what arrived, as in a confirmation; shortage: the acknowledgement of what did
    not (required when anything is short; see `ledger.commands.Shortage`)."""

    shipment_number: str
    received: tuple[c.ReceivedLine, ...] = ()
    occurred_on: dt.date | None = None
    memo: str = ""
    shortage: c.Shortage | None = None


class RequestLine(msgspec.Struct, frozen=True):
    item_code: str
    item_name: str
    unit: str
    requested: int
    approved: int | None
    issued: int
    received: int
    short: int
    outstanding: int  # approved − issued, while the request is approved
    # 建议申领量 (base units) the ledger suggested when the line was written (docs/norms.md);
    # None for a line written before suggestions were kept
    suggested: int | None = None


class RequestShipment(msgspec.Struct, frozen=True):
    number: str
    occurred_on: dt.date
    confirmation_number: str | None


class RequestEvent(msgspec.Struct, frozen=True):
    at: dt.datetime
    user_id: int | None
    action: str
    detail: str


class AllocationRequest(msgspec.Struct, frozen=True):
    number: str
    status: str
    requester_code: str
    requester_name: str
    supplier_code: str
    supplier_name: str
    memo: str
    reject_reason: str | None
    lines: tuple[RequestLine, ...]
    shipments: tuple[RequestShipment, ...]
    created_at: dt.datetime
    updated_at: dt.datetime


class Suggestion(msgspec.Struct, frozen=True):
    """A FEFO pick for one item's outstanding quantity at the supplier."""

    item_code: str
    batch_number: str
    expires_on: dt.date | None
    quantity: int
