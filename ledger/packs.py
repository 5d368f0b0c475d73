"""Packs (捆, 箱 …): how a received quantity is cut into labelled packs, and which packs leave a
location when stock does. Pure: no I/O.

A location's stock of a batch is its sealed packs plus loose units (packs opened, remainders).
The rule that keeps the two honest — sealed packs never hold more than the balance — decides
which packs move: packs the clerk scanned first, then whole sealed packs that fit, then loose
units, and only then are packs opened (拆包). How each kind of transaction moves packs is
`flow`; storage (ledger/db/packs.py) reads and writes the pack rows these functions choose.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Sequence
from typing import NamedTuple

from ledger.model import Item, TransactionKind
from ledger.posting import Leg

SHIPMENT_KINDS = frozenset({TransactionKind.issue, TransactionKind.transfer})


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


class Flow(enum.Enum):
    """How a transaction moves the labelled packs of one batch."""

    receive = "receive"  # scanned packs arrive from the supplier; the rest is cut into packs
    arrive = "arrive"  # a shipment's packs in transit arrive; those not scanned are short
    send_back = "send_back"  # a reversed shipment: its packs in transit go back to the sender
    move = "move"  # anything else: packs leave each physical source as `take` decides


class PackState(enum.StrEnum):
    """Where a labelled pack stands, as a scan reports it."""

    sealed = "sealed"  # whole, at a physical location
    opened = "opened"  # 拆包: opened, its units loose
    in_transit = "in_transit"  # shipped, not yet confirmed
    announced = "announced"  # labelled for a delivery not yet received
    gone = "gone"  # distributed, written off or otherwise out of stock


def flow(kind: TransactionKind, reverses: TransactionKind | None, confirms_shipment: bool) -> Flow:
    """The flow of a transaction of `kind`; `reverses`: the kind it reverses, if a reversal;
    `confirms_shipment`: a confirmation that names its shipment."""
    if kind is TransactionKind.receipt:
        return Flow.receive
    if kind is TransactionKind.confirmation and confirms_shipment:
        return Flow.arrive
    if kind is TransactionKind.reversal and reverses in SHIPMENT_KINDS:
        return Flow.send_back
    return Flow.move


def packs_in(quantity: int, pack_size: int) -> int:
    """How many packs `cut` makes of `quantity` units (a last partial pack counts)."""
    return -(-quantity // pack_size)


def packs_to_cut_at_least(quantity: int, pack_size: int, scanned: int) -> int:
    """The packs a receipt of `quantity` units will cut at least when `scanned` labelled packs
    arrived with it (each holds at most a pack's worth)."""
    return max(0, packs_in(quantity, pack_size) - scanned)


def arrival(
    packs: Sequence[SealedPack], scanned: Collection[int] | None, received: bool
) -> tuple[list[SealedPack], list[SealedPack]]:
    """(arrived, short) of a shipment's `packs` on confirmation: nothing `received`, every pack
    is short; `scanned` pack ids, those not scanned are short; not scanned (None), all arrive
    (and packs are opened if less arrived than they hold: `settle`)."""
    if not received:
        return [], list(packs)
    if scanned is None:
        return list(packs), []
    scanned = set(scanned)
    return (
        [pack for pack in packs if pack.id in scanned],
        [pack for pack in packs if pack.id not in scanned],
    )


def destination(incoming: Sequence[Leg], in_transit_id: int, adjustment_id: int) -> int:
    """Where the packs that leave go: the receiving side of the movement — a physical place or
    in transit before a virtual one; nowhere receiving (a loss), `adjustment`."""
    if not incoming:
        return adjustment_id
    physical = [leg for leg in incoming if leg.physical or leg.key.location_id == in_transit_id]
    return (physical[0] if physical else incoming[0]).key.location_id


def shipment_of_moved(
    sequence: int, reverses: TransactionKind | None, reversed_shipment: int | None
) -> int:
    """The shipment packs sent into transit belong to: this transaction, or — reversing a
    confirmation, which sends them back into transit — the shipment confirmed."""
    if reverses is TransactionKind.confirmation:
        return reversed_shipment or sequence
    return sequence


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
