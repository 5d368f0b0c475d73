"""Where each labelled pack is: moved in the same database transaction as the postings.

`PackTracker.follow` is called by `LedgerStore.post` for every transaction. Pack rows of an
account are only touched while that account's balance row is locked by the posting, so
concurrent writers cannot move the same pack twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ledger.model import Transaction, TransactionKind, VirtualLocation
from ledger.packs import SealedPack, cut, label_pack_size, settle, take
from ledger.posting import Leg
from ledger.rules import Code, LedgerError, packs_per_batch_max

if TYPE_CHECKING:
    from ledger.db.store import LedgerStore

SHIPMENT_KINDS = (TransactionKind.issue, TransactionKind.transfer)


class PackTracker:
    def __init__(self, store: LedgerStore) -> None:
        self.store = store
        self.sizes: dict[int, int | None] = {}  # item id → label pack size
        # Pack ids the clerk scanned for the next posting, by batch id (set by the scan use
        # case; a batch present with no ids means none of its packs was scanned).
        self.pinned: dict[int, list[int]] = {}

    def size(self, item_id: int) -> int | None:
        if item_id not in self.sizes:
            self.sizes[item_id] = label_pack_size(self.store.item_by_id(item_id).item)
        return self.sizes[item_id]

    # ---- reading ---------------------------------------------------------------------------

    def sealed(self, location_id: int, batch_id: int, shipment_id: int | None = None):
        if shipment_id is None:
            statement = (
                "SELECT id, serial, quantity FROM packs WHERE location_id = ? AND batch_id = ? "
                "AND opened_on IS NULL ORDER BY serial"
            )
            parameters: tuple = (location_id, batch_id)
        else:
            statement = (
                "SELECT id, serial, quantity FROM packs WHERE shipment_id = ? AND batch_id = ? "
                "AND location_id = ? AND opened_on IS NULL ORDER BY serial"
            )
            parameters = (shipment_id, batch_id, location_id)
        return [SealedPack(*row) for row in self.store._driver(statement, parameters)]

    def last_serial(self, batch_id: int) -> int:
        row = self.store._driver(
            "SELECT MAX(serial) FROM packs WHERE batch_id = ?", (batch_id,)
        ).first()
        return row[0] or 0

    # ---- writing ---------------------------------------------------------------------------

    def create(
        self,
        batch_id: int,
        quantities: Sequence[int],
        location_id: int,
        expected_location_id: int | None = None,
    ) -> None:
        if not quantities:
            return
        start = self.last_serial(batch_id)
        if start + len(quantities) > packs_per_batch_max:
            raise LedgerError(
                Code.too_many_lines,
                f"一个批次最多 {packs_per_batch_max} 个标签包 (at most {packs_per_batch_max} packs)",
                "quantity",
            )
        self.store._driver_many(
            "INSERT INTO packs (batch_id, serial, quantity, location_id, expected_location_id) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                (batch_id, start + index + 1, quantity, location_id, expected_location_id)
                for index, quantity in enumerate(quantities)
            ],
        )

    def move(self, pack_ids: Sequence[int], location_id: int, shipment_id: int | None) -> None:
        self.store._driver_many(
            "UPDATE packs SET location_id = ?, shipment_id = ?, expected_location_id = NULL "
            "WHERE id = ?",
            [(location_id, shipment_id, pack_id) for pack_id in pack_ids],
        )

    def open(self, pack_ids: Sequence[int], on: dt.date) -> None:
        day = self.store._write_date(on)
        self.store._driver_many(
            "UPDATE packs SET opened_on = ? WHERE id = ?", [(day, pack_id) for pack_id in pack_ids]
        )

    # ---- following a transaction -------------------------------------------------------------

    def follow(
        self,
        kind: TransactionKind,
        on: dt.date,
        legs: Sequence[Leg],
        balances_after: Sequence[int],
        sequence: int,
        reverses: Transaction | None,
        shipment: Transaction | None,
    ) -> None:
        by_batch: dict[int, list[tuple[Leg, int]]] = {}
        for leg, after in zip(legs, balances_after, strict=True):
            if self.size(leg.key.item_id) is not None:
                by_batch.setdefault(leg.key.batch_id, []).append((leg, after))
        if not by_batch:
            return
        in_transit = self.store.location(VirtualLocation.in_transit.value).id
        for batch_id, batch_legs in by_batch.items():
            pinned = self.pinned.pop(batch_id, None)
            outgoing = [(leg, after) for leg, after in batch_legs if leg.quantity < 0]
            incoming = [(leg, after) for leg, after in batch_legs if leg.quantity > 0]
            if kind is TransactionKind.receipt:
                self._receive(batch_id, incoming[0][0], pinned or [])
            elif kind is TransactionKind.confirmation and shipment is not None:
                self._confirm(batch_id, incoming, shipment.sequence, in_transit, pinned, on)
            elif (
                kind is TransactionKind.reversal
                and reverses is not None
                and reverses.kind in SHIPMENT_KINDS
            ):
                back = next(leg for leg, _ in incoming if leg.physical)
                packs = self.sealed(in_transit, batch_id, reverses.sequence)
                self.move([pack.id for pack in packs], back.key.location_id, None)
            else:
                shipment_id = sequence
                if reverses is not None and reverses.kind is TransactionKind.confirmation:
                    shipment_id = reverses.shipment_sequence or sequence
                self._generic(
                    batch_id, outgoing, incoming, in_transit, shipment_id, pinned or [], on
                )

    def _receive(self, batch_id: int, leg: Leg, pinned: list[int]) -> None:
        size = self.size(leg.key.item_id)
        assert size is not None
        arrived = 0
        if pinned:
            supplier = self.store.location(VirtualLocation.supplier.value).id
            announced = {pack.id: pack for pack in self.sealed(supplier, batch_id)}
            chosen = [pack_id for pack_id in pinned if pack_id in announced]
            self.move(chosen, leg.key.location_id, None)
            arrived = sum(announced[pack_id].quantity for pack_id in chosen)
        self.create(batch_id, cut(leg.quantity - arrived, size), leg.key.location_id)

    def _confirm(
        self,
        batch_id: int,
        incoming: list[tuple[Leg, int]],
        shipment_id: int,
        in_transit: int,
        pinned: list[int] | None,
        on: dt.date,
    ) -> None:
        """pinned: the packs scanned on arrival (the rest are short), or None when the arrival
        was not scanned (every pack arrives; packs are opened if less arrived than they hold)."""
        receiver = next(((leg, after) for leg, after in incoming if leg.physical), None)
        packs = self.sealed(in_transit, batch_id, shipment_id)
        if receiver is None:  # nothing arrived: every pack is short
            self.move([p.id for p in packs], self._sink(incoming, in_transit), None)
            return
        leg, after = receiver
        if pinned is not None:
            arrived = [p.id for p in packs if p.id in set(pinned)]
            missing = [p.id for p in packs if p.id not in set(pinned)]
            self.move(missing, self.store.location(VirtualLocation.adjustment.value).id, None)
        else:
            arrived = [p.id for p in packs]
        self.move(arrived, leg.key.location_id, None)
        self.open(settle(self.sealed(leg.key.location_id, batch_id), after), on)

    def _generic(
        self,
        batch_id: int,
        outgoing: list[tuple[Leg, int]],
        incoming: list[tuple[Leg, int]],
        in_transit: int,
        shipment_id: int,
        pinned: list[int],
        on: dt.date,
    ) -> None:
        destination = self._sink(incoming, in_transit)
        for leg, after in outgoing:
            if not leg.physical:
                continue
            location_id = leg.key.location_id
            taken = take(
                self.sealed(location_id, batch_id), after - leg.quantity, -leg.quantity, pinned
            )
            self.open(taken.opened, on)
            self.move(taken.moved, destination, shipment_id if destination == in_transit else None)

    def _sink(self, incoming: list[tuple[Leg, int]], in_transit: int) -> int:
        """Where packs go: the receiving side of the movement (the first incoming leg)."""
        if not incoming:
            return self.store.location(VirtualLocation.adjustment.value).id
        physical = [leg for leg, _ in incoming if leg.physical or leg.key.location_id == in_transit]
        return (physical[0] if physical else incoming[0][0]).key.location_id
