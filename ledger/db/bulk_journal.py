"""The bulk loader's journal: the journal's `append` (ledger/db/journal.py) for a loader that
starts on an empty ledger and posts millions of movements, with its per-transaction work kept
to what the ledger needs.

Every transaction is checked by the posting engine's rules (ledger/posting.py `apply_legs`),
numbered by the same `Numbering`, checked against closed periods, and chained with the same
canonical encoding and hash (ledger/chain.py), so the rows are those `Journal.append` writes for
the same movements. What it saves: the legs of a transaction whose accounts are all different
(nearly all of them) are checked and applied by a loop over plain tuples; one that names an
account twice, or that would be refused, goes through `apply_legs` itself, which nets it and
raises its exact refusal. The account states start empty (nothing is stored yet) and are
written once, at the end, as new balance rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence

from ledger.chain import CHAIN_VERSION_CURRENT, canonical_encoding
from ledger.db.catalog import LocationEntry
from ledger.db.numbering import Numbering
from ledger.db.reference_data import ReferenceData
from ledger.db.session import Session
from ledger.limits import postings_per_transaction_max
from ledger.model import VOUCHER_PREFIX, TransactionKind
from ledger.posting import AccountState, Leg, Move, apply_legs, check_period_open, legs_of_moves

# An account by storage ids: (location id, item id, batch id), equal to its `AccountKey`.
Key = tuple[int, int, int]
KINDS = {kind: (kind.value, VOUCHER_PREFIX[kind]) for kind in TransactionKind}  # code, prefix


class BulkJournal:
    def __init__(
        self,
        session: Session,
        reference: ReferenceData,
        numbering: Numbering,
        head: Sequence,
        closed_through: Callable[[LocationEntry], dt.date | None],
        people: tuple[int | None, int | None],
    ) -> None:
        self.session = session
        self.reference = reference
        self.numbering = numbering
        self.sequence, self.hash = int(head[0]), str(head[1])
        self.closed_through = closed_through
        self.maker_id, self.approver_id = people
        self.recorded_at = session.write_datetime(session.recorded_at)
        self.states: dict[Key, AccountState] = {}
        self.codes: dict[Key, tuple[str, str, str]] = {}  # what the chain hashes of an account
        self.closed: dict[int, dt.date | None] = {}  # location id → end of its last close
        self.days: dict[dt.date, object] = {}  # a day as written (ISO text for SQLite)
        self.transaction_rows: list[tuple] = []  # as `journal.TransactionRow`
        self.posting_rows: list[tuple] = []
        self.postings = 0

    def append(
        self,
        kind: TransactionKind,
        occurred_on: dt.date,
        location: LocationEntry,
        moves: Sequence[Move],
        counterparty: LocationEntry | None = None,
        shipment_sequence: int | None = None,
        reason: str | None = None,
        memo: str = "",
    ) -> tuple[int, str]:
        """Check and apply the moves (two legs each), number and chain the transaction and
        buffer its rows; its sequence and number."""
        legs = self._legs(moves)
        balances_after = self._apply(legs, moves, occurred_on)
        kind_code, prefix = KINDS[kind]
        number = self.numbering.next_number_for(prefix, occurred_on.year)
        try:
            closed = self.closed[location.id]
        except KeyError:
            closed = self.closed[location.id] = self.closed_through(location)
        if closed is not None:
            check_period_open(occurred_on, closed)
        codes, read = self.codes, self._codes
        lines = [(*(codes.get(key) or read(key)), quantity) for key, quantity, _ in legs]
        sequence, previous_hash = self.sequence + 1, self.hash
        receiver_id = self.maker_id if kind is TransactionKind.confirmation else None
        encoding = canonical_encoding(
            sequence,
            number,
            kind_code,
            occurred_on,
            location.location.code,
            counterparty.location.code if counterparty else None,
            None,
            shipment_sequence,
            reason,
            memo,
            lines,
            CHAIN_VERSION_CURRENT,
            (self.maker_id, self.approver_id, receiver_id),
        )
        digest = hashlib.sha256(previous_hash.encode("ascii") + encoding).hexdigest()
        day = self.days.get(occurred_on)
        if day is None:
            day = self.days[occurred_on] = self.session.write_date(occurred_on)
        self.transaction_rows.append(
            (
                sequence,
                number,
                kind_code,
                day,
                self.recorded_at,
                location.id,
                counterparty.id if counterparty else None,
                None,
                shipment_sequence,
                reason,
                memo,
                previous_hash,
                digest,
                CHAIN_VERSION_CURRENT,
                self.maker_id,
                self.approver_id,
                receiver_id,
            )
        )
        self.posting_rows += [
            (sequence, *key, quantity, balance, day)
            for (key, quantity, _), balance in zip(legs, balances_after, strict=True)
        ]
        self.sequence, self.hash = sequence, digest
        self.postings += len(legs)
        return sequence, number

    @staticmethod
    def _legs(moves: Sequence[Move]) -> list[tuple[Key, int, bool]]:
        """(account, quantity, physical) of each leg: minus at each move's source, plus at its
        destination (`legs_of_moves`'s legs, as plain tuples)."""
        legs: list[tuple[Key, int, bool]] = []
        for (
            source,
            source_physical,
            destination,
            destination_physical,
            item,
            batch,
            quantity,
            _,
        ) in moves:
            legs += (
                ((source, item, batch), -quantity, source_physical),
                ((destination, item, batch), quantity, destination_physical),
            )
        return legs

    def _apply(
        self, legs: list[tuple[Key, int, bool]], moves: Sequence[Move], occurred_on: dt.date
    ) -> list[int]:
        """The balance after each leg, as `apply_legs` computes it; refused as it refuses.
        Legs on different accounts that it would pass are applied here; any other goes to
        `apply_legs` (nothing is changed before it)."""
        states = self.states
        if len(legs) == 2:  # one move: two accounts unless it goes to its own place
            if legs[0][0] == legs[1][0] or moves[0].reservation_consumed:
                return self._apply_legs(moves, occurred_on)
        elif (
            not 2 < len(legs) <= postings_per_transaction_max
            or len({key for key, _, _ in legs}) != len(legs)
            or any(move.reservation_consumed for move in moves)
        ):
            return self._apply_legs(moves, occurred_on)
        for key, quantity, physical in legs:  # what `apply_legs` refuses, first
            if not physical:
                continue
            state = states.get(key)
            if state is None:
                if quantity < 0:
                    return self._apply_legs(moves, occurred_on)
            elif (
                state.last_on is not None and occurred_on < state.last_on
            ) or state.on_hand - state.reserved + quantity < 0:
                return self._apply_legs(moves, occurred_on)
        balances_after = []
        for key, quantity, physical in legs:
            state = states.get(key)
            if state is None:
                state = states[key] = AccountState(is_new=True)
            state.on_hand += quantity
            if physical and (state.last_on is None or occurred_on > state.last_on):
                state.last_on = occurred_on
            balances_after.append(state.on_hand)
        return balances_after

    def _apply_legs(self, moves: Sequence[Move], occurred_on: dt.date) -> list[int]:
        """The posting engine itself: nets the legs per account and refuses with its codes."""
        legs: list[Leg] = legs_of_moves(moves)
        states: dict = self.states  # keyed by plain tuples, equal to the legs' AccountKeys
        return apply_legs(legs, states, occurred_on, self.reference.describe)

    def _codes(self, key: Key) -> tuple[str, str, str]:
        """(location code, item code, batch number) of an account; codes never change."""
        reference = self.reference
        codes = self.codes[key] = (
            reference.location_by_id(key[0]).location.code,
            reference.item_by_id(key[1]).item.code,
            reference.batch_by_id(key[2]).batch.number,
        )
        return codes

    def balance_rows(self) -> list[tuple]:
        """Every account as a new balance row (`accounts.BALANCES_INSERT`), in key order."""
        write_date = self.session.write_date
        return [
            (state.on_hand, state.reserved, write_date(state.last_on), *key)
            for key, state in sorted(self.states.items())
        ]

    def head(self) -> tuple[int, str]:
        return self.sequence, self.hash
