"""The bulk loader: many movements posted through the journal and written in large batches.

For building big ledgers fast (benchmarks, the synthetic city). Each command becomes its moves
(ledger.posting `Move`, two legs each) and goes through the same journal `post` as the use
cases: the posting engine (`apply_legs`: balanced, never negative, dates in order), the voucher
numbering, the period check and the hash chain, so the ledger it writes is the one the use cases
would have written for the same commands. What it leaves out are the use cases' per-command
checks and reads, balance locks (it only starts on an empty ledger, so every account starts
empty) and pack labels (it writes no pack rows). Batches are created as the reference-data
repository creates them. It holds its database transaction until `finish`, which also sums
the movement totals from the postings written (not one upsert per posting). Reservations made
and consumed by the same commands leave nothing behind and are not written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from ledger import commands as c
from ledger.db.accounts import Accounts
from ledger.db.bulk_journal import BulkJournal
from ledger.db.bulk_writer import BulkWriter
from ledger.db.catalog import LocationEntry
from ledger.db.journal import Journal
from ledger.db.movement_totals import rebuild as rebuild_totals
from ledger.db.numbering import Numbering
from ledger.db.people import People
from ledger.db.reference_data import ReferenceData
from ledger.db.session import Session
from ledger.db.unit_of_work import Database
from ledger.model import Batch, TransactionKind, VirtualLocation
from ledger.posting import Move
from ledger.rules import Code, LedgerError

ROWS_PER_WRITE = 100_000


class Shipment(NamedTuple):
    """An issue or transfer posted by the loader and not yet confirmed."""

    sequence: int
    issuer: LocationEntry
    receiver: LocationEntry
    moves: list[Move]  # issuer → in transit


class BulkLoader:
    def __init__(self, database: Database) -> None:
        self.connection = database.engine.connect()
        session = self.session = Session(self.connection)
        self.writer = BulkWriter(session)
        self.writer.open()
        self.connection.begin()
        people = People(self.connection)  # the loader posts as no user (the command line)
        reference = self.reference = ReferenceData(session, database.catalog, people)
        accounts = Accounts(session, reference.describe, fresh=True)
        numbering = self.numbering = Numbering(session)
        journal = self.journal = Journal(session, reference, accounts, numbering, people)
        session.buffers = [self._write]
        if journal.chain_head()[0] != 0:
            self._close(commit=False)
            raise LedgerError(
                Code.ledger_not_empty, "bulk loading needs an empty ledger", "database"
            )
        self.writer.begin()
        self.bulk = BulkJournal(
            session,
            reference,
            numbering,
            journal.chain_head(),
            journal.closed_through,
            (people.maker_id, people.approver_id),
        )
        reference.cache_every_location()
        self.supplier, self.transit, self.adjustment = (
            reference.location(virtual.value)
            for virtual in (
                VirtualLocation.supplier,
                VirtualLocation.in_transit,
                VirtualLocation.adjustment,
            )
        )
        self.shipments: dict[str, Shipment] = {}  # by number
        self.batch_ids: dict[tuple[str, str], tuple[int, int]] = {}  # codes → (item, batch) ids
        self.written = 0
        self.handlers: dict[type, Callable] = {}  # command type → its method
        self.locations: dict[str, LocationEntry] = {}  # by code

    # ---- commands ----------------------------------------------------------------------------

    def add(self, commands: Iterable) -> None:
        """Post the commands, in order. A command refused (or not taken) ends the load: its
        transaction is rolled back and nothing is written."""
        handlers = self.handlers
        try:
            for command in commands:
                handler = handlers.get(type(command))
                if handler is None:
                    handler = handlers[type(command)] = self._handler(type(command))
                handler(command)
            if len(self.bulk.posting_rows) >= ROWS_PER_WRITE:
                self._write()
        except BaseException:
            self._close(commit=False)
            raise

    def _handler(self, kind: type) -> Callable:
        handler = getattr(self, f"_{kind.__name__.lower()}", None)
        if handler is None:
            raise TypeError(f"the bulk loader does not take {kind.__name__}")
        return handler

    def _location(self, code: str) -> LocationEntry:
        """A location by its code, looked up once per load."""
        entry = self.locations.get(code)
        if entry is None:
            entry = self.locations[code] = self.reference.location(code)
        return entry

    def _receive(self, command: c.Receive) -> None:
        location = self._location(command.location_code)
        moves = []
        for line in command.lines:
            item = self.reference.item(line.item_code)
            batch = self.reference.find_batch(item, line.batch_number)
            if batch is None:
                batch = self.reference.add_batch(
                    item,
                    Batch(item.item.code, line.batch_number, line.produced_on, line.expires_on),
                )
            moves.append(self._move(self.supplier, location, item.id, batch.id, line.quantity))
        self._post(TransactionKind.receipt, command.occurred_on, location, moves, memo=command.memo)

    def _issue(self, command: c.Issue) -> None:
        source = self._location(command.source_code)
        destination = self._location(command.destination_code)
        moves = [self._line_move(source, self.transit, line) for line in command.lines]
        kind = (
            TransactionKind.issue
            if destination.path.startswith(source.path)
            else TransactionKind.transfer
        )
        sequence, number = self._post(
            kind, command.occurred_on, source, moves, counterparty=destination, memo=command.memo
        )
        self.shipments[number] = Shipment(sequence, source, destination, moves)

    def _confirm(self, command: c.Confirm) -> None:
        shipment = self.shipments.pop(command.shipment_number, None)
        if shipment is None:
            shipment = self._stored_shipment(command.shipment_number)
        received = {}
        for line in command.received:  # what arrived of the lines named (the rest in full)
            item = self.reference.item(line.item_code)
            batch = self.reference.batch(item, line.batch_number)
            received[(item.id, batch.id)] = line.quantity_received
        transit, adjustment, receiver = self.transit, self.adjustment, shipment.receiver
        arrived, short = [], []
        for move in shipment.moves:
            got = received.get((move.item_id, move.batch_id), move.quantity)
            if got:
                arrived.append(self._move(transit, receiver, move.item_id, move.batch_id, got))
            if move.quantity - got:
                missing = move.quantity - got
                short.append(self._move(transit, adjustment, move.item_id, move.batch_id, missing))
        self._post(
            TransactionKind.confirmation,
            command.occurred_on,
            receiver,
            arrived + short,
            counterparty=shipment.issuer,
            shipment_sequence=shipment.sequence,
            reason=command.shortage.reason if short and command.shortage else None,
            memo=c.confirmation_memo(command.memo, command.shortage if short else None),
        )

    def _stored_shipment(self, number: str) -> Shipment:
        """A shipment posted before this loader's commands (read back from the journal)."""
        transaction = self.journal.transaction_by_number(number)
        issuer = self.reference.location(transaction.location_code)
        moves = []
        for posting in transaction.postings:
            if posting.location_code == self.transit.location.code:
                item = self.reference.item(posting.item_code)
                batch = self.reference.batch(item, posting.batch_number)
                moves.append(self._move(issuer, self.transit, item.id, batch.id, posting.quantity))
        receiver = self.reference.location(transaction.counterparty_code or "")
        return Shipment(transaction.sequence, issuer, receiver, moves)

    def _out(self, kind: TransactionKind, sink: VirtualLocation, command, reason=None) -> None:
        location = self._location(command.location_code)
        to = self._location(sink.value)
        moves = [self._line_move(location, to, line) for line in command.lines]
        self._post(kind, command.occurred_on, location, moves, reason=reason, memo=command.memo)

    def _distribute(self, command: c.Distribute) -> None:
        self._out(TransactionKind.distribution, VirtualLocation.distributed, command)

    def _writeoff(self, command: c.WriteOff) -> None:
        self._out(TransactionKind.write_off, VirtualLocation.scrapped, command, command.reason)

    def _adjust(self, command: c.Adjust) -> None:
        location = self._location(command.location_code)
        adjustment = self.adjustment
        gains, losses = [], []
        for line in command.lines:
            item = self.reference.item(line.item_code)
            batch_id = self.reference.batch(item, line.batch_number).id
            if line.difference > 0:
                gains.append(self._move(adjustment, location, item.id, batch_id, line.difference))
            else:
                losses.append(self._move(location, adjustment, item.id, batch_id, -line.difference))
        self._post(
            TransactionKind.stocktake,
            command.occurred_on,
            location,
            gains + losses,
            reason=command.reason,
            memo=command.memo,
        )

    def _reserve(self, command: c.Reserve) -> None:
        """Reserved and consumed by the issue that follows: nothing stays to be written."""

    # ---- posting -----------------------------------------------------------------------------

    @staticmethod
    def _move(
        source: LocationEntry, destination: LocationEntry, item_id: int, batch_id: int, quantity
    ) -> Move:
        return Move(
            source.id,
            source.physical,
            destination.id,
            destination.physical,
            item_id,
            batch_id,
            quantity,
        )

    def _line_move(self, source: LocationEntry, destination: LocationEntry, line) -> Move:
        """A line naming its batch (the loader does not pick FEFO), in base units."""
        ids = self.batch_ids.get((line.item_code, line.batch_number))
        if ids is None:
            item = self.reference.item(line.item_code)
            batch = self.reference.batch(item, line.batch_number)
            ids = self.batch_ids[(line.item_code, line.batch_number)] = (item.id, batch.id)
        return Move(
            source.id, source.physical, destination.id, destination.physical, *ids, line.quantity
        )

    def _post(
        self,
        kind: TransactionKind,
        occurred_on: dt.date | None,
        location: LocationEntry,
        moves: Sequence[Move],
        counterparty: LocationEntry | None = None,
        shipment_sequence: int | None = None,
        reason: str | None = None,
        memo: str = "",
    ) -> tuple[int, str]:
        """Post one transaction; its sequence and number."""
        if occurred_on is None:
            raise LedgerError(Code.invalid_field, "bulk commands carry their dates", "occurred_on")
        self.written += 1
        return self.bulk.append(
            kind, occurred_on, location, moves, counterparty, shipment_sequence, reason, memo
        )

    # ---- writing -----------------------------------------------------------------------------

    def _write(self) -> None:
        """Write the transactions and postings buffered (foreign-key order)."""
        bulk, writer = self.bulk, self.writer
        writer.write_transactions(bulk.transaction_rows)
        writer.write_postings(bulk.posting_rows)
        bulk.transaction_rows, bulk.posting_rows = [], []

    def finish(self) -> int:
        """Write the rest, the balances, the counters and the chain head, make the indexes
        again, and the movement totals computed from every posting (the ledger was empty);
        commit."""
        committed = False
        try:
            self._write()
            self.writer.write_balances(self.bulk.balance_rows())
            self.numbering.flush()
            self.session.run(
                "UPDATE chain_head SET sequence = ?, hash = ? WHERE id = 1", self.bulk.head()
            )
            rebuild_totals(self.session)
            self.writer.end()
            if not self.session.as_text:  # PostgreSQL: plan the next queries on what was loaded
                # (the tables the load wrote only: a database-wide ANALYZE in the load's
                # transaction deadlocked with another session's ANALYZE after a 10M load)
                self.session.run(
                    "ANALYZE transactions, postings, balances, batches, movement_totals, "
                    "item_movement_totals"
                )
            self._close(commit=True)
            committed = True
            self.reference.commit_catalog()
        finally:
            if not committed:
                self._close(commit=False)
        return self.written

    def _close(self, commit: bool) -> None:
        """Commit or roll back, put the connection's settings back and return it (once)."""
        if self.connection.closed:
            return
        try:
            if commit:
                self.connection.commit()
            else:
                self.connection.rollback()
            self.writer.close()
        finally:
            self.connection.close()
