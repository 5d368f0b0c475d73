"""Packs (捆, 箱 …): how a received quantity is cut into labelled packs, and which packs leave a
location when stock does. Pure: no I/O.

A location's stock of a batch is its sealed packs plus loose units (packs opened, remainders).
The rule that keeps the two honest — sealed packs never hold more than the balance — decides
which packs move: packs the clerk scanned first, then whole sealed packs that fit, then loose
units, and only then are packs opened (拆包).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ledger.model import Item


class SealedPack(NamedTuple):
    id: int
    serial: int
    quantity: int


class Taken(NamedTuple):
    """moved: packs that leave whole; opened: packs opened to make up the rest (stay, loose)."""

    moved: list[int]
    opened: list[int]


def label_pack_size(item: Item) -> int | None:
    """Base units in the pack that carries a label: the item's largest pack (the 捆 or 箱 the
    warehouse handles), or None when the item has no packs larger than one unit."""
    sizes = [pack.base_units for pack in item.packs if pack.base_units > 1]
    return max(sizes) if sizes else None


def cut(quantity: int, pack_size: int) -> list[int]:
    """Pack quantities for `quantity` units: full packs, then one remainder pack if any."""
    full, remainder = divmod(quantity, pack_size)
    return [pack_size] * full + ([remainder] if remainder else [])


def take(
    sealed: Sequence[SealedPack], on_hand: int, quantity: int, pinned: Sequence[int] = ()
) -> Taken:
    """Which packs leave when `quantity` units leave a location holding `on_hand` units of which
    `sealed` are sealed packs (by serial). `pinned` are pack ids the clerk scanned: they leave
    first, whole.

    Then whole packs leave in serial order for as long as the next one fits, then loose units;
    only when those run short are packs opened (lowest serial first).
    """
    by_id = {pack.id: pack for pack in sealed}
    moved = [pack_id for pack_id in pinned if pack_id in by_id]
    remaining = quantity - sum(by_id[pack_id].quantity for pack_id in moved)
    left = [pack for pack in sorted(sealed, key=lambda p: p.serial) if pack.id not in moved]
    keep: list[SealedPack] = []
    for pack in left:  # whole packs in serial order, while they fit
        if not keep and pack.quantity <= remaining:
            moved.append(pack.id)
            remaining -= pack.quantity
        else:
            keep.append(pack)
    loose = (
        on_hand
        - sum(by_id[pack_id].quantity for pack_id in moved)
        - sum(pack.quantity for pack in keep)
    )
    opened: list[int] = []
    shortfall = remaining - max(loose, 0)
    for pack in keep:
        if shortfall <= 0:
            break
        opened.append(pack.id)
        shortfall -= pack.quantity
    return Taken(moved, opened)


def settle(sealed: Sequence[SealedPack], on_hand: int) -> list[int]:
    """Packs to open so that sealed packs hold no more than `on_hand` (after a short delivery or
    a loss): the highest serials first."""
    excess = sum(pack.quantity for pack in sealed) - max(on_hand, 0)
    opened = []
    for pack in sorted(sealed, key=lambda p: -p.serial):
        if excess <= 0:
            break
        opened.append(pack.id)
        excess -= pack.quantity
    return opened
