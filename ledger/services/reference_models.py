"""Changing reference data: what a client sends (a change per kind) and gets back (a version)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from ledger.model import Pack

UNSET = msgspec.UNSET
UnsetType = msgspec.UnsetType


class BatchChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Correct a batch's dates. A field left out keeps its value; null clears it.

    reason: why (kept in the operations log), required.
    valid_from: the business day from which the new version is in force (default today).
    """

    reason: str
    produced_on: dt.date | UnsetType | None = UNSET
    expires_on: dt.date | UnsetType | None = UNSET
    valid_from: dt.date | None = None


class LocationChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Rename a location or move it under another parent of the same level and city (its whole
    subtree moves with it). A field left out keeps its value."""

    reason: str
    name: str | UnsetType = UNSET
    parent_code: str | UnsetType = UNSET
    valid_from: dt.date | None = None


class ItemChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Change an item's name, category, packs or base unit (the base unit only while nothing
    of the item was ever received or requested: quantities are stored in base units). Its kind
    and expiry tracking are fixed. A field left out keeps its value."""

    reason: str
    name: str | UnsetType = UNSET
    category: str | UnsetType = UNSET
    base_unit: str | UnsetType = UNSET
    packs: tuple[Pack, ...] | UnsetType = UNSET
    valid_from: dt.date | None = None


class ReferenceVersionOut(msgspec.Struct, frozen=True):
    """One version of an item, location or batch.

    key: the item's or location's code, or ITEM/BATCH. content: its versioned fields.
    valid_from: the business day it is in force from (version 1: the object's first day, and
    it covers everything before version 2). user: who recorded it (命令行 for the command line
    or a migration).
    """

    object_type: str
    key: str
    version: int
    valid_from: dt.date
    recorded_at: dt.datetime
    user_id: int | None
    user: str
    content: dict[str, Any]
