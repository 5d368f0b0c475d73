"""The journal: transactions and their postings, numbered and hash-chained, in one unit of work.

`post` is the storage side of the posting engine: it applies the legs to the accounts
(ledger.posting checks them), numbers the voucher, checks the period is open once the chain
head is held, chains the transaction's hash and buffers its rows; `flush` writes them with two
executemany statements, `flush_head` the chain head. It then tells the pack tracker (`follow`)
how the transaction moved stock. Reading transactions back flushes first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import NamedTuple

from sqlalchemy import select

from ledger.chain import CHAIN_VERSION_CURRENT, canonical_encoding, chain_hash
from ledger.db import tables as t
from ledger.db.accounts import Accounts
from ledger.db.catalog import LocationEntry
from ledger.db.movement_totals import MovementTotals
from ledger.db.numbering import Numbering
from ledger.db.people import People
from ledger.db.reference_data import ReferenceData
from ledger.db.session import Session
from ledger.model import AccountKey, Posting, Transaction, TransactionKind
from ledger.posting import Leg, check_period_open
from ledger.rules import Code, LedgerError

POSTINGS_INSERT = (
    "INSERT INTO postings (transaction_id, location_id, item_id, batch_id, quantity, "
    "balance_after, occurred_on) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
TRANSACTIONS_INSERT = (
    "INSERT INTO transactions (id, number, kind, occurred_on, recorded_at, location_id, "
    "counterparty_id, reverses_id, shipment_id, reason, memo, previous_hash, hash, "
    "chain_version, maker_id, approver_id, receiver_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
ACTIVE_CONFIRMATION = (
    "SELECT confirmation.number FROM transactions AS confirmation "
    "LEFT OUTER JOIN transactions AS reversal ON reversal.reverses_id = confirmation.id "
    "WHERE confirmation.shipment_id = ? AND confirmation.kind = 'confirmation' "
    "AND reversal.id IS NULL"
)

# Told of every transaction posted: (kind, day, legs, balances after, sequence, reverses,
# shipment sequence) — the pack tracker's `follow`.
Follow = Callable[
    [
        TransactionKind,
        dt.date,
        Sequence[Leg],
        Sequence[int],
        int,
        Transaction | None,
        int | None,
    ],
    None,
]


class TransactionRow(NamedTuple):
    """A buffered transaction row, as written (`TRANSACTIONS_INSERT`'s columns)."""

    id: int
    number: str
    kind: str
    occurred_on: object  # a date, or its ISO text for SQLite
    recorded_at: object
    location_id: int
    counterparty_id: int | None
    reverses_id: int | None
    shipment_id: int | None
    reason: str | None
    memo: str
    previous_hash: str
    hash: str
    chain_version: int
    maker_id: int | None
    approver_id: int | None
    receiver_id: int | None


class Journal:
    def __init__(
        self,
        session: Session,
        reference: ReferenceData,
        accounts: Accounts,
        numbering: Numbering,
        people: People,
        follow: Follow | None = None,
        totals: MovementTotals | None = None,
    ) -> None:
        self.session = session
        self.reference = reference
        self.accounts = accounts
        self.numbering = numbering
        self.people = people
        self.follow = follow
        self.totals = totals  # the day, month and year totals posted into (None: not kept)
        self.transaction_rows: list[TransactionRow] = []
        self.posting_rows: list[tuple] = []
        self.head: list | None = None  # [sequence, hash]
        self.head_dirty = False
        self.closed: dict[str, dt.date | None] = {}  # root code → last closed day, once read
        self.codes: dict[AccountKey, tuple[str, str, str]] = {}  # read once per account
        # What this unit of work posted, for whoever is told of its commit (unit_of_work.py).
        self.transactions_appended = 0
        self.postings_appended = 0
        self.recorded_at = session.write_datetime(session.recorded_at)

    # ---- the chain head and closed periods --------------------------------------------------

    def chain_head(self) -> list:
        """[sequence, hash] of the last transaction, read (locked on PostgreSQL) once."""
        if self.head is None:
            self.head = self.session.chain_head()
        return self.head

    def closed_through(self, location: LocationEntry) -> dt.date | None:
        """The end of the last period closed (月结) for the root (city) `location` belongs to:
        its root's closes and those made for every root before roots were separate (root_id
        NULL). Read once per root per database transaction."""
        root = location.path.split("/")[1]
        if root not in self.closed:
            row = self.session.run(
                "SELECT MAX(period_end) FROM period_closes WHERE root_id IS NULL "
                "OR root_id = (SELECT id FROM locations WHERE code = ?)",
                (root,),
            ).first()
            self.closed[root] = self.session.read_date(row[0]) if row else None
        return self.closed[root]

    # ---- posting ----------------------------------------------------------------------------

    def post(
        self,
        kind: TransactionKind,
        occurred_on: dt.date,
        location: LocationEntry,
        legs: Sequence[Leg],
        counterparty: LocationEntry | None = None,
        reverses: Transaction | None = None,
        shipment: Transaction | None = None,
        reason: str | None = None,
        memo: str = "",
    ) -> Transaction:
        """Check and apply `legs`, number and chain the transaction, and buffer its rows."""
        shipment_sequence = shipment.sequence if shipment else None
        row, lines, balances_after = self.append(
            kind,
            occurred_on,
            location,
            legs,
            counterparty,
            reverses,
            shipment_sequence,
            reason,
            memo,
        )
        user_label = self.people.user_label
        return Transaction(
            sequence=row.id,
            number=row.number,
            kind=kind,
            occurred_on=occurred_on,
            location_code=location.location.code,
            postings=tuple(
                Posting(*line, balance) for line, balance in zip(lines, balances_after, strict=True)
            ),
            counterparty_code=counterparty.location.code if counterparty else None,
            reverses_sequence=row.reverses_id,
            shipment_sequence=row.shipment_id,
            reason=reason,
            memo=memo,
            previous_hash=row.previous_hash,
            hash=row.hash,
            chain_version=row.chain_version,
            maker_id=row.maker_id,
            approver_id=row.approver_id,
            receiver_id=row.receiver_id,
            maker=user_label(row.maker_id),
            approver=user_label(row.approver_id) if row.approver_id is not None else None,
            receiver=user_label(row.receiver_id) if row.receiver_id is not None else None,
        )

    def append(
        self,
        kind: TransactionKind,
        occurred_on: dt.date,
        location: LocationEntry,
        legs: Sequence[Leg],
        counterparty: LocationEntry | None = None,
        reverses: Transaction | None = None,
        shipment_sequence: int | None = None,
        reason: str | None = None,
        memo: str = "",
    ) -> tuple[TransactionRow, list[tuple[str, str, str, int]], list[int]]:
        """`post` without its answer (for a loader posting many): the row buffered, each leg's
        (location code, item code, batch number, quantity) as hashed, and the balances after."""
        balances_after = self.accounts.apply(legs, occurred_on)
        number = self.numbering.next_number(kind, occurred_on.year)
        head = self.chain_head()
        # After the chain head is held (locked on PostgreSQL, as a period close holds it too).
        check_period_open(occurred_on, self.closed_through(location))
        lines = self._lines(legs)
        sequence, previous_hash, kind_code = head[0] + 1, head[1], kind.value
        reverses_sequence = reverses.sequence if reverses else None
        maker_id, approver_id = self.people.maker_id, self.people.approver_id
        receiver_id = maker_id if kind is TransactionKind.confirmation else None
        encoding = canonical_encoding(
            sequence,
            number,
            kind_code,
            occurred_on,
            location.location.code,
            counterparty.location.code if counterparty else None,
            reverses_sequence,
            shipment_sequence,
            reason,
            memo,
            lines,
            CHAIN_VERSION_CURRENT,
            (maker_id, approver_id, receiver_id),
        )
        row = TransactionRow(
            sequence,
            number,
            kind_code,
            self.session.write_date(occurred_on),
            self.recorded_at,
            location.id,
            counterparty.id if counterparty else None,
            reverses_sequence,
            shipment_sequence,
            reason,
            memo,
            previous_hash,
            chain_hash(previous_hash, encoding),
            CHAIN_VERSION_CURRENT,
            maker_id,
            approver_id,
            receiver_id,
        )
        self.transaction_rows.append(row)
        self.posting_rows += [
            (sequence, *leg.key, leg.quantity, balance, row.occurred_on)
            for leg, balance in zip(legs, balances_after, strict=True)
        ]
        if self.totals is not None:
            self.totals.add(kind_code, occurred_on, legs)
        head[0], head[1] = sequence, row.hash
        self.head_dirty = True
        self.transactions_appended += 1
        self.postings_appended += len(legs)
        if self.follow is not None:
            self.follow(
                kind, occurred_on, legs, balances_after, sequence, reverses, shipment_sequence
            )
        return row, lines, balances_after

    def _lines(self, legs: Sequence[Leg]) -> list[tuple[str, str, str, int]]:
        """(location code, item code, batch number, quantity) of each leg: what the chain
        hashes of a posting."""
        codes, read = self.codes, self._codes
        return [(*(codes.get(leg.key) or read(leg.key)), leg.quantity) for leg in legs]

    def _codes(self, key: AccountKey) -> tuple[str, str, str]:
        """(location code, item code, batch number) of an account; codes never change."""
        reference = self.reference
        codes = self.codes[key] = (
            reference.location_by_id(key.location_id).location.code,
            reference.item_by_id(key.item_id).item.code,
            reference.batch_by_id(key.batch_id).batch.number,
        )
        return codes

    def flush(self) -> None:
        """Write the buffered transactions and postings."""
        if self.transaction_rows:
            self.session.run_many(TRANSACTIONS_INSERT, self.transaction_rows)
            self.transaction_rows = []
        if self.posting_rows:
            self.session.run_many(POSTINGS_INSERT, self.posting_rows)
            self.posting_rows = []

    def flush_head(self) -> None:
        """Write the chain head, if a transaction moved it."""
        if self.head_dirty:
            self.head_dirty = False
            assert self.head is not None
            self.session.run(
                "UPDATE chain_head SET sequence = ?, hash = ? WHERE id = 1", tuple(self.head)
            )

    # ---- reading transactions ---------------------------------------------------------------

    def transaction_by_number(self, number: str, lock: bool = False) -> Transaction:
        row_id = self.session.connection.execute(
            select(t.transactions.c.id).where(t.transactions.c.number == number)
        ).scalar_one_or_none()
        if row_id is None:
            buffered = next((r for r in self.transaction_rows if r.number == number), None)
            if buffered is None:
                raise LedgerError(
                    Code.unknown_transaction, f"没有单据 {number!r} (unknown transaction)", "number"
                )
            return self.transaction(buffered.id)
        return self.transaction(row_id, lock=lock)

    def transaction(self, sequence: int, lock: bool = False) -> Transaction:
        """A stored (or buffered, not yet flushed) transaction with its postings."""
        found = self.transactions([sequence], lock=lock)
        if not found:
            raise LedgerError(Code.unknown_transaction, f"没有序号 {sequence} 的单据", "sequence")
        return found[0]

    def transactions(self, sequences: Sequence[int], lock: bool = False) -> list[Transaction]:
        """Stored transactions with their postings, in the order of `sequences` (two queries)."""
        self.session.flush()
        if not sequences:
            return []
        connection = self.session.connection
        tx = t.transactions.c
        query = select(t.transactions).where(tx.id.in_(list(sequences)))
        if lock and self.session.for_update:
            self.session.lock_ledger()  # the chain head before the row (Session.lock_ledger)
            query = query.with_for_update()
        rows = {row.id: row for row in connection.execute(query)}
        p = t.postings.c
        reference = self.reference
        postings: dict[int, list[Posting]] = {sequence: [] for sequence in rows}
        for r in connection.execute(
            select(
                p.transaction_id, p.location_id, p.item_id, p.batch_id, p.quantity, p.balance_after
            )
            .where(p.transaction_id.in_(list(rows)))
            .order_by(p.id)
        ):
            postings[r.transaction_id].append(
                Posting(
                    reference.location_by_id(r.location_id).location.code,
                    reference.item_by_id(r.item_id).item.code,
                    reference.batch_by_id(r.batch_id).batch.number,
                    r.quantity,
                    r.balance_after,
                )
            )
        return [self._transaction(rows[s], postings[s]) for s in sequences if s in rows]

    def _transaction(self, row, postings: list[Posting]) -> Transaction:
        location_by_id, user_label = self.reference.location_by_id, self.people.user_label
        return Transaction(
            sequence=row.id,
            number=row.number,
            kind=TransactionKind(row.kind),
            occurred_on=row.occurred_on,
            location_code=location_by_id(row.location_id).location.code,
            postings=tuple(postings),
            counterparty_code=(
                location_by_id(row.counterparty_id).location.code if row.counterparty_id else None
            ),
            reverses_sequence=row.reverses_id,
            shipment_sequence=row.shipment_id,
            reason=row.reason,
            memo=row.memo,
            previous_hash=row.previous_hash,
            hash=row.hash,
            chain_version=row.chain_version,
            maker_id=row.maker_id,
            approver_id=row.approver_id,
            receiver_id=row.receiver_id,
            maker=user_label(row.maker_id, row.chain_version, row.occurred_on),
            approver=(
                user_label(row.approver_id, on=row.occurred_on)
                if row.approver_id is not None
                else None
            ),
            receiver=(
                user_label(row.receiver_id, on=row.occurred_on)
                if row.receiver_id is not None
                else None
            ),
        )

    def reversal_of(self, sequence: int) -> str | None:
        """The number of the transaction that reversed `sequence`, if any."""
        self.session.flush()
        return self.session.connection.execute(
            select(t.transactions.c.number).where(t.transactions.c.reverses_id == sequence)
        ).scalar_one_or_none()

    def opening_of(self, location_id: int) -> str | None:
        """The number of the location's opening transaction (期初建账) that has not been
        reversed, if any: stored, or buffered in this database transaction (read without a
        flush, so that an import posting an opening for each of thousands of places writes
        its rows in a few large batches)."""
        opening = TransactionKind.opening.value
        reversed_here = {row.reverses_id for row in self.transaction_rows}
        for row in self.transaction_rows:
            if (row.kind, row.location_id) == (opening, location_id) and (
                row.id not in reversed_here
            ):
                return row.number
        tx = t.transactions.alias("tx")
        reversal = t.transactions.alias("reversal")
        stored = self.session.connection.execute(
            select(tx.c.id, tx.c.number)
            .outerjoin(reversal, reversal.c.reverses_id == tx.c.id)
            .where(
                tx.c.kind == opening,
                tx.c.location_id == location_id,
                reversal.c.id.is_(None),
            )
        ).all()
        return next((number for id_, number in stored if id_ not in reversed_here), None)

    def active_confirmation(self, shipment_sequence: int) -> str | None:
        """The number of the confirmation of a shipment that has not been reversed, if any."""
        self.session.flush()
        return self.session.run(ACTIVE_CONFIRMATION, (shipment_sequence,)).scalar_one_or_none()
