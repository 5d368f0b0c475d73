"""Reference data as versioned content: what a version of an item, a location, a batch or a
user says.

History keeps its meaning only while the reference data it points at does: a batch's expiry
decides whether an issue was allowed, a location's parent whose subtree a movement belongs to,
an item's packs what a count in 捆 meant, a user's label, role and location who the people
named on a voucher were. Such fields change only by a new dated version (kept
append-only in storage and logged); `verify` checks that each current row equals its last
version. The content is compact JSON with sorted keys, using codes rather than storage ids.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import StrEnum

import msgspec

from ledger.model import Batch, Item, Location

_encoder = msgspec.json.Encoder(order="sorted")


class ReferenceKind(StrEnum):
    item = "item"
    location = "location"
    batch = "batch"
    user = "user"


def item_content(item: Item) -> str:
    """An item's versioned fields: name, kind, category, base unit, packs, expiry tracking."""
    return _encode(
        {
            "name": item.name,
            "kind": item.kind.value,
            "category": item.category,
            "base_unit": item.base_unit,
            "packs": [[pack.name, pack.base_units] for pack in item.packs],
            "expiry_tracked": item.expiry_tracked,
        }
    )


def location_content(location: Location) -> str:
    """A location's versioned fields: name, level and parent (by code)."""
    return _encode(
        {"name": location.name, "level": location.level.value, "parent": location.parent_code}
    )


def batch_content(batch: Batch) -> str:
    """A batch's versioned fields: its production and expiry dates."""
    return _encode(
        {
            "produced_on": _date(batch.produced_on),
            "expires_on": _date(batch.expires_on),
        }
    )


def user_content(label: str, role: str, location_code: str, roles: Iterable[str] = ()) -> str:
    """A user's versioned fields: how vouchers name them (label), their first role, their
    location (by code) and, for a user holding more than its first role, every role it holds
    (`roles`, sorted: a county clerk who also approves has ["approver", "clerk"]). A user with
    one role is encoded without `roles`, exactly as before users could hold several. Not the
    token's hash, nor whether they are revoked: revocation is a state, kept in the operations
    log."""
    content: dict = {"label": label, "role": role, "location": location_code}
    held = {role, *roles}
    if len(held) > 1:
        content["roles"] = sorted(held)
    return _encode(content)


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _encode(content: dict) -> str:
    return _encoder.encode(content).decode()
