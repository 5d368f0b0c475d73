"""Packs (捆, 箱 …): how a received quantity is cut into labelled packs, and which packs leave a
location when stock does. Pure: no I/O.

A location's stock of a batch is its sealed packs plus loose units (packs opened, remainders).
The rule that keeps the two honest — sealed packs never hold more than the balance — decides
which packs move: packs the clerk scanned first, then whole sealed packs that fit, then loose
units, and only then are packs opened (拆包).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from ledger.model import Item


class SealedPack(NamedTuple):
    id: int
    serial: int
    quantity: int


class Taken(NamedTuple):
    """moved: packs that leave whole; opened: packs opened to make up the rest (stay, loose)."""

    moved: list[SealedPack]
    opened: list[SealedPack]


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
    sealed: Iterable[SealedPack],
    sealed_total: int,
    on_hand: int,
    quantity: int,
    pack_size: int,
    pinned: Sequence[SealedPack] = (),
) -> Taken:
    """Which packs leave when `quantity` units leave a location holding `on_hand` units, of
    which `sealed_total` are in sealed packs of (at most) `pack_size`. `sealed` yields those
    packs by serial, lazily: only as many are read as are moved or opened — none when loose
    units cover less than a pack. `pinned` are packs the clerk scanned: they leave first, whole.

    Then, while at least a full pack's worth is left to move, whole packs leave in serial order
    as long as the next one fits; the rest comes from loose units; only when those run short are
    packs opened (from that next one on).
    """
    moved = list(pinned)
    chosen = {pack.id for pack in pinned}
    remaining = quantity - sum(pack.quantity for pack in pinned)
    loose = on_hand - sealed_total
    opened: list[SealedPack] = []
    if remaining < pack_size and remaining <= loose:
        return Taken(moved, opened)
    packs = (pack for pack in sealed if pack.id not in chosen)
    for pack in packs:
        if not opened and remaining >= pack_size and pack.quantity <= remaining:
            moved.append(pack)
            remaining -= pack.quantity
            continue
        if remaining - loose <= 0:
            break
        opened.append(pack)
        loose += pack.quantity
    return Taken(moved, opened)


def settle(sealed_by_serial_descending: Iterable[SealedPack], sealed_total: int, on_hand: int):
    """Packs to open so that sealed packs hold no more than `on_hand` (after a short delivery or
    a loss): the highest serials first."""
    excess = sealed_total - max(on_hand, 0)
    opened = []
    for pack in sealed_by_serial_descending:
        if excess <= 0:
            break
        opened.append(pack)
        excess -= pack.quantity
    return opened
