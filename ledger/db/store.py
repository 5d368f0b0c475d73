"""The store of one unit of work: its repositories, and the methods the use cases call on them.

A `LedgerStore` lives inside one database transaction (see `unit_of_work`), which it never
commits. It holds the repositories, all on one `Session`:

- `reference` (reference_data.py): items, locations and batches, cached per database in a
  `Catalog` (catalog.py) that only committed rows enter;
- `accounts` (accounts.py): balance states, loaded and locked before they change;
- `totals` (movement_totals.py): the day, month and year movement totals the journal adds to;
- `journal` (journal.py): posting, numbering (`numbering`, numbering.py), the hash chain, and
  reading transactions back;
- `reservations`, `idempotency`, `packs` (the pack tracker the journal tells of every posting);
- `people` (people.py): who makes and approves the vouchers, and how a voucher names a user.

Writes are buffered; `flush` writes them all, in foreign-key order, with a handful of
executemany statements. The methods below are the repositories' own, bound here so that the
use cases written against the store keep working; new code can call the repositories.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection

from ledger.db import oplog
from ledger.db.accounts import Accounts
from ledger.db.catalog import BatchEntry, Catalog, ItemEntry, LocationEntry
from ledger.db.idempotency import IdempotencyKeys
from ledger.db.journal import Journal
from ledger.db.movement_totals import MovementTotals
from ledger.db.numbering import Numbering
from ledger.db.packs import PackTracker
from ledger.db.people import NO_USER, UNKNOWN_PERSON, People
from ledger.db.reference_data import ReferenceData
from ledger.db.reservations import Reservations
from ledger.db.session import Session

__all__ = [
    "NO_USER",
    "UNKNOWN_PERSON",
    "BatchEntry",
    "Catalog",
    "ItemEntry",
    "LedgerStore",
    "LocationEntry",
]


class LedgerStore:
    """Reads and buffered writes inside one database transaction."""

    def __init__(
        self, connection: Connection, catalog: Catalog, maker_id: int | None = None
    ) -> None:
        session = self.session = Session(connection)
        people = self.people = People(connection, maker_id)
        reference = self.reference = ReferenceData(session, catalog, people)
        accounts = self.accounts = Accounts(session, reference.describe)
        numbering = self.numbering = Numbering(session)
        packs = self.packs = PackTracker(session, reference)
        totals = self.totals = MovementTotals(session)
        journal = self.journal = Journal(
            session, reference, accounts, numbering, people, packs.follow, totals
        )
        reservations = self.reservations = Reservations(session, accounts)
        idempotency = self.idempotency = IdempotencyKeys(session)
        session.buffers = [  # foreign-key order
            journal.flush,
            accounts.flush,
            totals.flush,
            reservations.flush,
            numbering.flush,
            journal.flush_head,
            idempotency.flush,
            packs.flush,
        ]
        self.flush = session.flush

        self.item = reference.item
        self.item_by_id = reference.item_by_id
        self.add_item = reference.add_item
        self.location = reference.location
        self.location_by_id = reference.location_by_id
        self.cache_locations = reference.cache_locations
        self.add_location = reference.add_location
        self.batch = reference.batch
        self.batch_by_id = reference.batch_by_id
        self.find_batch = reference.find_batch
        self.add_batch = reference.add_batch
        self.reload_changed = reference.reload_changed
        self.commit_catalog = reference.commit_catalog
        self.describe = reference.describe

        self.approved_by = people.approved_by
        self.user_label = people.user_label

        self.lock_states = accounts.lock_states
        self.stocked_batches = accounts.stocked_batches
        self.apply = accounts.apply
        self.change_reserved = accounts.change_reserved

        self.next_number = numbering.next_number
        self.next_number_for = numbering.next_number_for

        self.chain_head = journal.chain_head
        self.closed_through = journal.closed_through
        self.post = journal.post
        self.transaction_by_number = journal.transaction_by_number
        self.transaction = journal.transaction
        self.transactions = journal.transactions
        self.reversal_of = journal.reversal_of
        self.opening_of = journal.opening_of
        self.active_confirmation = journal.active_confirmation

        self.open_reservations = reservations.open
        self.add_reservation = reservations.add
        self.reduce_reservation = reservations.reduce

        self.idempotent = idempotency.idempotent
        self.remember = idempotency.remember

    @property
    def connection(self) -> Connection:
        return self.session.connection

    @property
    def for_update(self) -> bool:
        """Rows read to be changed are locked `FOR UPDATE` (PostgreSQL)."""
        return self.session.for_update

    @property
    def recorded_at(self) -> dt.datetime:
        return self.session.recorded_at

    @property
    def catalog(self) -> Catalog:
        return self.reference.catalog

    @property
    def maker_id(self) -> int | None:
        return self.people.maker_id

    def acting(self, user_id: int | None, today: dt.date | None = None) -> LedgerStore:
        """This store, making its vouchers as `user_id` (None: the command line), on the
        ledger's `today` (its clock's, which the use case read)."""
        self.people.acting(user_id, today)
        return self

    def record_operation(
        self,
        action: str,
        object_type: str,
        object_key: str,
        *,
        user_id: int | None,
        after: Any = None,
        location_path: str | None = None,
    ) -> None:
        """An entry of the operations log, in this unit of work (`oplog.record`)."""
        oplog.record(
            self,
            action,
            object_type,
            object_key,
            user_id=user_id,
            after=after,
            location_path=location_path,
        )
