"""Reference data as a unit of work holds it: an item, a location or a batch with the id storage
gave it. Accounts (`ledger.model.AccountKey`) and legs name them by these ids; the use cases
read them from the store (`ledger.services.ports.Store`) and name them by code to people."""

from __future__ import annotations

from typing import NamedTuple

from ledger.model import Batch, Item, Location


class ItemEntry(NamedTuple):
    id: int
    item: Item


class LocationEntry(NamedTuple):
    """physical: not a virtual location (its balances never go below zero).
    path: the codes from the root down, '/510100/510121/510121101/'."""

    id: int
    location: Location
    physical: bool
    path: str


class BatchEntry(NamedTuple):
    id: int
    item_id: int
    batch: Batch
