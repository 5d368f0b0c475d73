"""Reading what a pick chooses from: the batches of an item in stock at a location, as
`ledger.picking.Candidate`s. The choosing itself (FEFO) is `ledger.picking`'s alone."""

from __future__ import annotations

from collections.abc import Mapping

from ledger.entries import BatchEntry
from ledger.model import AccountKey
from ledger.picking import Candidate
from ledger.services.ports import Store


def stock_candidates(
    store: Store,
    location_id: int,
    item_id: int,
    reserved_here: Mapping[int, int] | None = None,
    lock: bool = False,
) -> list[tuple[BatchEntry, Candidate]]:
    """Every batch of the item in stock at the location with its candidate: available is on
    hand minus reserved plus what `reserved_here` (base units by batch id) holds for this
    movement, which is also the candidate's `reserved`.

    lock: read the balances locked (PostgreSQL: FOR UPDATE, in key order), as a movement that
    then posts must; without it a plain read (a suggestion, an override check).
    """
    reserved_here = reserved_here or {}
    stocked = store.stocked_batches(location_id, item_id)
    if lock:
        keys = [AccountKey(location_id, item_id, batch_id) for batch_id, _, _ in stocked]
        states = store.lock_states(keys)
        free = {key.batch_id: states[key].available for key in keys}
    else:
        free = {batch_id: on_hand - held for batch_id, on_hand, held in stocked}
    result = []
    for batch_id, _, _ in stocked:
        entry = store.batch_by_id(batch_id)
        ours = reserved_here.get(batch_id, 0)
        batch = entry.batch
        candidate = Candidate(
            batch.number, free[batch_id] + ours, batch.expires_on, batch.produced_on, ours
        )
        result.append((entry, candidate))
    return result
