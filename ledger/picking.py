"""Batch picking: first-expiry-first-out (近效期先出) for contraceptives, oldest print run first
for printed matter. The one home of the rule; pure: the callers read the candidates.

One ordering (`pick_order_key`) serves every use:
- `pick_batches`: the batches a movement takes when its lines name none (issue, distribution,
  return, write-off, reservation), or a request's FEFO suggestion (`partial`);
- `batch_ahead`: the batch FEFO would take before the one a clerk chose (a named batch on a
  shipment, a scanned pack): issuing the chosen one instead needs a reason.

What differs between the callers is explicit: the day expiry is judged on (`on`), whether
expired batches may move (`include_expired`: returns and write-offs), whether batches reserved
for the movement go first (`reserved_first`: the pick that consumes a reservation; the
suggestion and the override check rank by expiry alone), and whether a short pick is refused
or only listed (`partial`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from ledger.rules import Code, LedgerError


class Candidate(NamedTuple):
    """A batch that could be picked at one location.

    available: on hand minus reserved, in base units, counting as available what is reserved
        for this movement (its request's reservation).
    expires_on: the batch's expiry (有效期至), None when it does not expire.
    produced_on: print or manufacture date, None when unknown.
    reserved: base units of `available` held by this movement's reservation (0: none).
    """

    batch_number: str
    available: int
    expires_on: dt.date | None = None
    produced_on: dt.date | None = None
    reserved: int = 0


class Pick(NamedTuple):
    batch_number: str
    quantity: int


def pick_order_key(candidate: Candidate) -> tuple:
    """Earliest expiry first; then oldest print run / manufacture; then batch number.

    Batches without an expiry come after those with one; unknown production dates come last.
    """
    return (
        candidate.expires_on is None,
        candidate.expires_on or dt.date.max,
        candidate.produced_on is None,
        candidate.produced_on or dt.date.max,
        candidate.batch_number,
    )


def is_usable(candidate: Candidate, on: dt.date, include_expired: bool = False) -> bool:
    """Something available, and not expired on `on` (a batch is usable through its expiry
    day) unless `include_expired`."""
    if candidate.available <= 0:
        return False
    return include_expired or candidate.expires_on is None or candidate.expires_on >= on


def pick_order(
    candidates: Iterable[Candidate],
    on: dt.date,
    include_expired: bool = False,
    reserved_first: bool = False,
) -> list[Candidate]:
    """The usable candidates in the order they are taken: FEFO, and with `reserved_first` the
    batches this movement has reserved before all others (FEFO among each)."""
    usable = (c for c in candidates if is_usable(c, on, include_expired))
    if reserved_first:
        return sorted(usable, key=lambda c: (c.reserved <= 0, pick_order_key(c)))
    return sorted(usable, key=pick_order_key)


def pick_batches(
    candidates: Iterable[Candidate],
    quantity: int,
    on: dt.date,
    include_expired: bool = False,
    reserved_first: bool = False,
    partial: bool = False,
) -> list[Pick]:
    """Pick `quantity` base units from the candidates in `pick_order`, skipping expired batches
    unless `include_expired` (returns and write-offs may move expired stock, earliest expiry
    first).

    Refuses with `exceeds_available` when the usable candidates together hold too little —
    unless `partial`, which returns what there is (a suggestion lists what it can).
    """
    picks: list[Pick] = []
    remaining = quantity
    for candidate in pick_order(candidates, on, include_expired, reserved_first):
        if remaining == 0:
            break
        taken = min(candidate.available, remaining)
        picks.append(Pick(candidate.batch_number, taken))
        remaining -= taken
    if remaining and not partial:
        have = quantity - remaining
        raise LedgerError(
            Code.exceeds_available,
            f"未过期可用库存合计 {have}，不足 {quantity} (available {have}, asked {quantity})",
            "quantity",
        )
    return picks


def batch_ahead(
    candidates: Iterable[Candidate],
    chosen: Candidate | None,
    on: dt.date,
    taken: Mapping[str, int] | None = None,
) -> Candidate | None:
    """The first batch, in FEFO order, that ranks before `chosen` and still has units left
    beyond what this document already takes of it (`taken`, by batch number); None when the
    chosen batch is the one FEFO would take. Expired batches never count.

    chosen: the batch the clerk chose; None when it is not one FEFO could pick at all (unknown
    here, expired, nothing available): then any batch with units left is ahead of it.
    """
    taken = taken or {}
    for candidate in pick_order(candidates, on):
        if chosen is not None and pick_order_key(candidate) >= pick_order_key(chosen):
            return None
        if candidate.available > taken.get(candidate.batch_number, 0):
            return candidate
    return None
