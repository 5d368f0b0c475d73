"""Batch picking: first-expiry-first-out (近效期先出) for contraceptives, oldest print run first
for printed matter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

from ledger.rules import Code, LedgerError


class Candidate(NamedTuple):
    """A batch that could be picked at one location.

    available: on hand minus reserved, in base units.
    """

    batch_number: str
    available: int
    expires_on: dt.date | None = None
    produced_on: dt.date | None = None


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
    if candidate.available <= 0:
        return False
    return include_expired or candidate.expires_on is None or candidate.expires_on >= on


def pick_batches(
    candidates: Iterable[Candidate], quantity: int, on: dt.date, include_expired: bool = False
) -> list[Pick]:
    """Pick `quantity` base units from the candidates, FEFO, skipping expired batches unless
    `include_expired` (returns and write-offs may move expired stock, earliest expiry first).

    Refuses with `exceeds_available` when the usable candidates together hold too little.
    """
    usable = sorted(
        (c for c in candidates if is_usable(c, on, include_expired)), key=pick_order_key
    )
    picks: list[Pick] = []
    remaining = quantity
    for candidate in usable:
        if remaining == 0:
            break
        taken = min(candidate.available, remaining)
        picks.append(Pick(candidate.batch_number, taken))
        remaining -= taken
    if remaining:
        have = quantity - remaining
        raise LedgerError(
            Code.exceeds_available,
            f"未过期可用库存合计 {have}，不足 {quantity} (available {have}, asked {quantity})",
            "quantity",
        )
    return picks
