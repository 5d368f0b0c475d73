"""Where each labelled pack is: moved in the same database transaction as the postings.

`PackTracker.follow` is called by the journal's `post` for every transaction. Pack rows of an
account are only touched while that account's balance row is locked by the posting, so
concurrent writers cannot move the same pack twice. `pack_stock` keeps the sealed total per
(location, batch) so that a posting reads only the packs it moves or opens, never a whole
warehouse's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from ledger.db.reference_data import ReferenceData
from ledger.db.session import Session
from ledger.limits import packs_per_batch_max, packs_per_transaction_max
from ledger.model import Transaction, TransactionKind, VirtualLocation
from ledger.packs import (
    Flow,
    SealedPack,
    arrival,
    cut,
    destination,
    flow,
    label_pack_size,
    packs_in,
    packs_to_cut_at_least,
    settle,
    shipment_of_moved,
    take,
)
from ledger.posting import Leg
from ledger.rules import Code, LedgerError

READ_CHUNKS = (4, 64, 1024)  # packs per read while walking a location's sealed packs
STOCK_UPSERT = (
    "INSERT INTO pack_stock (location_id, batch_id, sealed_count, sealed_quantity) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (location_id, batch_id) DO UPDATE SET "
    "sealed_count = pack_stock.sealed_count + excluded.sealed_count, "
    "sealed_quantity = pack_stock.sealed_quantity + excluded.sealed_quantity"
)


class PackTracker:
    def __init__(self, session: Session, reference: ReferenceData) -> None:
        self.session = session
        self.reference = reference
        self.sizes: dict[int, int | None] = {}  # item id → label pack size
        # Pack ids the clerk scanned for the next posting, by batch id (set by the scan use
        # case; a batch present with no ids means none of its packs was scanned).
        self.pinned: dict[int, list[int]] = {}
        # Sealed totals read or changed in this database transaction, and the changes to write:
        # (location id, batch id) → [count, quantity].
        self.totals: dict[tuple[int, int], int] = {}
        self.changes: dict[tuple[int, int], list[int]] = {}
        self.cut_now = 0  # packs cut for the transaction being followed (all its batches)

    def size(self, item_id: int) -> int | None:
        if item_id not in self.sizes:
            self.sizes[item_id] = label_pack_size(self.reference.item_by_id(item_id).item)
        return self.sizes[item_id]

    # ---- reading ---------------------------------------------------------------------------

    def sealed_total(self, location_id: int, batch_id: int) -> int:
        key = (location_id, batch_id)
        if key not in self.totals:
            row = self.session.run(
                "SELECT sealed_quantity FROM pack_stock WHERE location_id = ? AND batch_id = ?",
                key,
            ).first()
            self.totals[key] = row[0] if row else 0
        return self.totals[key]

    def walk(self, location_id: int, batch_id: int, descending: bool = False) -> Iterator:
        """The sealed packs at a location by serial, read a few at a time."""
        order, compare = ("DESC", "<") if descending else ("ASC", ">")
        last = None
        for reads in range(1_000_000):
            chunk = READ_CHUNKS[min(reads, len(READ_CHUNKS) - 1)]
            statement = (
                "SELECT id, serial, quantity FROM packs WHERE location_id = ? AND batch_id = ? "
                "AND opened_on IS NULL"
                + (f" AND serial {compare} ?" if last is not None else "")
                + f" ORDER BY serial {order} LIMIT {chunk}"
            )
            parameters = (location_id, batch_id) + ((last,) if last is not None else ())
            rows = [SealedPack(*row) for row in self.session.run(statement, parameters)]
            yield from rows
            if len(rows) < chunk:
                return
            last = rows[-1].serial

    def in_shipment(self, location_id: int, batch_id: int, shipment_id: int) -> list[SealedPack]:
        return [
            SealedPack(*row)
            for row in self.session.run(
                "SELECT id, serial, quantity FROM packs WHERE shipment_id = ? AND batch_id = ? "
                "AND location_id = ? AND opened_on IS NULL ORDER BY serial",
                (shipment_id, batch_id, location_id),
            )
        ]

    def chosen(self, pack_ids: Sequence[int], location_id: int) -> list[SealedPack]:
        """The scanned packs that are sealed at `location_id`."""
        found = []
        for pack_id in pack_ids:
            row = self.session.run(
                "SELECT id, serial, quantity FROM packs WHERE id = ? AND location_id = ? "
                "AND opened_on IS NULL",
                (pack_id, location_id),
            ).first()
            if row is not None:
                found.append(SealedPack(*row))
        return found

    def last_serial(self, batch_id: int) -> int:
        row = self.session.run(
            "SELECT MAX(serial) FROM packs WHERE batch_id = ?", (batch_id,)
        ).first()
        return row[0] or 0

    # ---- writing ---------------------------------------------------------------------------

    def _stock(self, location_id: int, batch_id: int, packs: Sequence[SealedPack], sign: int):
        if packs:
            self._change(
                location_id, batch_id, sign * len(packs), sign * sum(p.quantity for p in packs)
            )

    def _change(self, location_id: int, batch_id: int, count: int, quantity: int) -> None:
        key = (location_id, batch_id)
        self.totals[key] = self.sealed_total(location_id, batch_id) + quantity
        change = self.changes.setdefault(key, [0, 0])
        change[0] += count
        change[1] += quantity

    def flush(self) -> None:
        """Write the changed sealed totals (the session's flush calls this last)."""
        if self.changes:
            self.session.run_many(
                STOCK_UPSERT,
                [
                    (*key, count, quantity)
                    for key, (count, quantity) in sorted(self.changes.items())
                ],
            )
            self.changes = {}

    def room(self, batch_id: int, count: int) -> int:
        """The last serial of the batch, after checking that `count` more packs fit in it."""
        self.voucher_room(self.cut_now + count)
        start = self.last_serial(batch_id)
        if start + count > packs_per_batch_max:
            raise LedgerError(
                Code.too_many_packs,
                f"一个批次最多 {packs_per_batch_max} 个标签包，本次将有 {start + count} 个 "
                f"(at most {packs_per_batch_max} labelled packs per batch)",
                "quantity",
            )
        return start

    def voucher_room(self, count: int) -> None:
        """Refuse a voucher that would cut more than `packs_per_transaction_max` packs."""
        if count > packs_per_transaction_max:
            raise LedgerError(
                Code.too_many_packs,
                f"一张单据最多生成 {packs_per_transaction_max} 个标签包，本单将有 {count} 个 "
                f"(at most {packs_per_transaction_max} labelled packs per voucher)",
                "lines",
            )

    def create_cut(
        self,
        batch_id: int,
        quantity: int,
        size: int,
        location_id: int,
        expected_location_id: int | None = None,
    ) -> None:
        """Cut `quantity` units into packs of `size` and create them; how many packs that makes
        is checked before anything is built, so a huge quantity costs nothing."""
        if quantity > 0:
            self.room(batch_id, packs_in(quantity, size))
            self.create(batch_id, cut(quantity, size), location_id, expected_location_id)

    def create(
        self,
        batch_id: int,
        quantities: Sequence[int],
        location_id: int,
        expected_location_id: int | None = None,
    ) -> None:
        if not quantities:
            return
        start = self.room(batch_id, len(quantities))
        self.cut_now += len(quantities)
        self.session.run_many(
            "INSERT INTO packs (batch_id, serial, quantity, location_id, expected_location_id) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                (batch_id, start + index + 1, quantity, location_id, expected_location_id)
                for index, quantity in enumerate(quantities)
            ],
        )
        self._change(location_id, batch_id, len(quantities), sum(quantities))

    def move(
        self,
        packs: Sequence[SealedPack],
        batch_id: int,
        source_id: int,
        destination_id: int,
        shipment_id: int | None,
    ) -> None:
        if not packs:
            return
        self.session.run_many(
            "UPDATE packs SET location_id = ?, shipment_id = ?, expected_location_id = NULL "
            "WHERE id = ?",
            [(destination_id, shipment_id, pack.id) for pack in packs],
        )
        self._stock(source_id, batch_id, packs, -1)
        self._stock(destination_id, batch_id, packs, +1)

    def open(
        self, packs: Sequence[SealedPack], batch_id: int, location_id: int, on: dt.date
    ) -> None:
        if not packs:
            return
        day = self.session.write_date(on)
        self.session.run_many(
            "UPDATE packs SET opened_on = ? WHERE id = ?", [(day, pack.id) for pack in packs]
        )
        self._stock(location_id, batch_id, packs, -1)

    def settle(self, location_id: int, batch_id: int, on_hand: int, on: dt.date) -> None:
        """Open packs until the sealed ones hold no more than `on_hand`."""
        total = self.sealed_total(location_id, batch_id)
        if total > on_hand:
            opened = settle(self.walk(location_id, batch_id, descending=True), total, on_hand)
            self.open(opened, batch_id, location_id, on)

    # ---- following a transaction -------------------------------------------------------------

    def follow(
        self,
        kind: TransactionKind,
        on: dt.date,
        legs: Sequence[Leg],
        balances_after: Sequence[int],
        sequence: int,
        reverses: Transaction | None,
        shipment_sequence: int | None,
    ) -> None:
        self.cut_now = 0
        by_batch: dict[int, list[tuple[Leg, int]]] = {}
        for leg, after in zip(legs, balances_after, strict=True):
            if self.size(leg.key.item_id) is not None:
                by_batch.setdefault(leg.key.batch_id, []).append((leg, after))
        if not by_batch:
            return
        reversed_kind = reverses.kind if reverses is not None else None
        how = flow(kind, reversed_kind, shipment_sequence is not None)
        if how is Flow.receive:
            # Refuse before cutting any pack when what will be cut is already too many.
            at_least = 0
            for batch_id, batch_legs in by_batch.items():
                leg = next(leg for leg, _ in batch_legs if leg.quantity > 0)
                scanned = len(self.pinned.get(batch_id) or ())
                at_least += packs_to_cut_at_least(
                    leg.quantity, self.size(leg.key.item_id) or 1, scanned
                )
            self.voucher_room(at_least)
        in_transit = self.reference.location(VirtualLocation.in_transit.value).id
        for batch_id, batch_legs in by_batch.items():
            pinned = self.pinned.pop(batch_id, None)
            outgoing = [(leg, after) for leg, after in batch_legs if leg.quantity < 0]
            incoming = [(leg, after) for leg, after in batch_legs if leg.quantity > 0]
            if how is Flow.receive:
                self._receive(batch_id, incoming[0][0], pinned or [])
            elif how is Flow.arrive:
                assert shipment_sequence is not None
                self._confirm(batch_id, incoming, shipment_sequence, in_transit, pinned, on)
            elif how is Flow.send_back:
                assert reverses is not None
                back = next(leg for leg, _ in incoming if leg.physical).key.location_id
                packs = self.in_shipment(in_transit, batch_id, reverses.sequence)
                self.move(packs, batch_id, in_transit, back, None)
            else:
                reversed_shipment = reverses.shipment_sequence if reverses is not None else None
                shipment_id = shipment_of_moved(sequence, reversed_kind, reversed_shipment)
                self._generic(batch_id, outgoing, incoming, in_transit, shipment_id, pinned, on)

    def _receive(self, batch_id: int, leg: Leg, pinned: list[int]) -> None:
        size = self.size(leg.key.item_id)
        assert size is not None
        supplier = self.reference.location(VirtualLocation.supplier.value).id
        arrived = self.chosen(pinned, supplier)
        self.move(arrived, batch_id, supplier, leg.key.location_id, None)
        rest = leg.quantity - sum(pack.quantity for pack in arrived)
        self.create_cut(batch_id, rest, size, leg.key.location_id)

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
        packs = self.in_shipment(in_transit, batch_id, shipment_id)
        adjustment = self.reference.location(VirtualLocation.adjustment.value).id
        receiver = next(((leg, after) for leg, after in incoming if leg.physical), None)
        arrived, short = arrival(packs, pinned, receiver is not None)
        self.move(short, batch_id, in_transit, adjustment, None)
        if receiver is not None:
            leg, after = receiver
            self.move(arrived, batch_id, in_transit, leg.key.location_id, None)
            self.settle(leg.key.location_id, batch_id, after, on)

    def _generic(
        self,
        batch_id: int,
        outgoing: list[tuple[Leg, int]],
        incoming: list[tuple[Leg, int]],
        in_transit: int,
        shipment_id: int,
        pinned: list[int] | None,
        on: dt.date,
    ) -> None:
        adjustment = self.reference.location(VirtualLocation.adjustment.value).id
        sink = destination([leg for leg, _ in incoming], in_transit, adjustment)
        for leg, after in outgoing:
            if not leg.physical:
                continue
            source = leg.key.location_id
            total = self.sealed_total(source, batch_id)
            if total == 0:
                continue  # only loose units here
            taken = take(
                self.walk(source, batch_id),
                total,
                after - leg.quantity,
                -leg.quantity,
                self.size(leg.key.item_id) or 1,
                self.chosen(pinned or [], source),
            )
            self.open(taken.opened, batch_id, source, on)
            self.move(
                taken.moved,
                batch_id,
                source,
                sink,
                shipment_id if sink == in_transit else None,
            )
