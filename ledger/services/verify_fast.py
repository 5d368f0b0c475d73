"""Verification in bulk: the reference `Verifier`'s pass over the transactions and the period
closes on the way, computed over columns — the fast path of `verify_ledger`.

1. The journal is read as Arrow columns (ledger/db/journal_columns.py: ADBC, two readers).
2. Every check of the reference is run over whole arrays (ledger/verify_columns.py): running
   balances by a cumulative sum per account, balance per item and batch, expiry, dates, people,
   chain versions, reversals; the hash chain recomputed in bulk (ledger/chain_columns.py) and
   each stored previous hash compared with its predecessor's hash; each close's balances and
   chain position compared with the running balances at its position.
3. The transactions and closes where anything might be wrong are replayed through the
   reference `Verifier`, set to the state it would have there: the findings are the
   reference's own, in its order. A ledger that verifies clean replays nothing.

The reference path stays the definition (`LEDGER_VERIFY=reference` uses it); a property test
tampers random ledgers and asserts both report the same findings.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Container

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection

from ledger.chain import CHAIN_VERSIONS
from ledger.chain_columns import ChainColumns, account_prefixes, json_texts
from ledger.db import close_checks, closes
from ledger.db.journal_columns import (
    CLOSE_ITEM_MOVEMENTS,
    CLOSE_MOVEMENTS,
    CLOSING_BALANCES,
    POSTINGS,
    TRANSACTIONS,
    ColumnReader,
    ColumnsUnavailable,
    location_paths,
    read_codes,
)
from ledger.services.verify_movements import Movements, agree
from ledger.verify import Verifier, transaction_encoding
from ledger.verify_columns import NONE, Running, factorize, flag, version_before
from ledger.verify_journal import Built, Codes, build, integers, plain
from ledger.verify_records import AccountCodes, StoredPosting, StoredTransaction

CloseLocations = Callable[[closes.CloseRow], Container[str] | None]


class FastPass:
    """The pass over the transactions after `after` and the closes due on the way, for
    `verifier` as `verify_ledger` set it up (its start, scope, users and chain versions)."""

    def __init__(
        self,
        connection: Connection,
        head: tuple[int, str],
        verifier: Verifier,
        after: int,
        close_locations: CloseLocations,
    ) -> None:
        self.connection = connection
        self.verifier = verifier
        self.close_locations = close_locations
        self.start = (verifier.last_sequence, verifier.last_hash, verifier.last_number)
        if after:  # since a close: the reference reads only what follows it, by index
            raise ColumnsUnavailable("a verification since a close")
        self.reader = ColumnReader(connection, head)  # may raise ColumnsUnavailable

    def run(self, pending: list[closes.CloseRow]) -> list[closes.CloseRow]:
        """Feed what needs feeding, check the closes due; the closes still pending after."""
        closing = [CLOSING_BALANCES, CLOSE_MOVEMENTS, CLOSE_ITEM_MOVEMENTS] if pending else []
        transactions, postings, *tables = self.reader.read([TRANSACTIONS, POSTINGS, *closing])
        kept, self.moved = tables[:1], tables[1:]
        self.codes = codes = read_codes(self.connection)
        verifier = self.verifier
        self.built = built = build(transactions, postings, codes, verifier.scope, verifier.running)
        journal = built.journal
        self.offsets = np.searchsorted(journal.posting_tx, np.arange(len(journal.sequence) + 1))
        self.running = Running(journal)
        users = np.fromiter(verifier.user_ids or (), dtype=np.int64)  # type: ignore[call-overload]
        flagged = flag(
            journal, self.running, users, verifier.version_starts, set(verifier.reversed)
        )
        flagged |= self._chain_flags(codes)
        self.rank = np.empty(len(journal.posting_tx), dtype=np.int64)
        self.rank[self.running.postings] = np.arange(len(self.running.postings))
        remaining = self._replay(flagged, pending, plain(kept[0]) if kept else None, codes)
        self._finish_state()
        return remaining

    def movements_agree(self, root_path: str | None) -> bool:
        """Every close's stored movements are what the postings say (from genesis; False
        also where the arrays cannot tell: the reference recomputes then)."""
        if len(self.moved) != 2:
            return False
        every = close_checks.positions(self.connection)
        relevant = [c for c in every if root_path is None or c.root_path in (None, root_path)]
        paths = location_paths(self.connection)
        physical = {id_: value for id_, (_, value) in self.codes.locations.items()}
        movements = Movements(self.built, paths, physical)
        rows, item_rows = (plain(table) for table in self.moved)
        return agree(movements, every, relevant, root_path, rows, item_rows)

    # ---- the chain ---------------------------------------------------------------------------

    def _chain_flags(self, codes: Codes) -> np.ndarray:
        """Rows whose sequence, previous hash or own hash is not what the chain says."""
        built, journal = self.built, self.built.journal
        tx = built.transactions
        start_sequence, start_hash, _ = self.start
        flagged = np.zeros(len(journal.sequence), dtype=bool)
        flagged[0] = journal.sequence[0] != start_sequence + 1
        hashes = tx.column("hash").combine_chunks()
        before = pa.concat_arrays([pa.array([start_hash]), hashes.slice(0, len(hashes) - 1)])
        linked = pc.not_equal(tx.column("previous_hash"), before)
        flagged |= pc.fill_null(linked, True).to_numpy(zero_copy_only=False)
        largest = max(codes.locations, default=0)
        locations = json_texts([codes.locations.get(i, (None,))[0] for i in range(largest + 1)])
        prefixes = account_prefixes(built.accounts).take(pa.array(journal.account))
        postings = pc.binary_join_element_wise(
            prefixes, pc.cast(pa.array(journal.quantity), pa.string()), "]", ""
        )
        dates = pa.array([day.isoformat() for day in built.days]).take(pa.array(built.day_index))
        chain = ChainColumns(
            tx,
            dates,
            locations,
            postings,
            self.offsets,
            lambda row: transaction_encoding(self._transaction(row)),
        )
        return flagged | chain.mismatches(np.isin(journal.version, list(CHAIN_VERSIONS)))

    # ---- the replay --------------------------------------------------------------------------

    def _replay(
        self,
        flagged: np.ndarray,
        pending: list[closes.CloseRow],
        kept: pa.Table | None,
        codes: Codes,
    ) -> list[closes.CloseRow]:
        """Feed the flagged rows to the verifier (and mark the other reversals), and check each
        close where the reference would: after the first row at or past its sequence."""
        journal = self.built.journal
        sequence = journal.sequence
        due: dict[int, list[closes.CloseRow]] = {}
        remaining = []
        highest = 0
        for close in pending:
            highest = max(highest, close.sequence)
            row = -1 if highest <= self.start[0] else int(np.searchsorted(sequence, highest))
            if row >= len(sequence):
                remaining.append(close)
            else:
                due.setdefault(row, []).append(close)
        reversals = journal.reversal & journal.in_scope & (journal.reverses != NONE)
        rows = np.flatnonzero(flagged | reversals).tolist()
        self.versions = version_before(journal)
        closing = _ClosingBalances(kept, codes, self.built) if kept is not None else None
        for close in due.pop(-1, []):
            self._check_close(close, -1, closing)
        for row in sorted(set(rows) | set(due)):
            if flagged[row]:
                self._feed(row)
            elif reversals[row]:
                self.verifier.reversed[int(journal.reverses[row])] = self._number(row)
            for close in due.get(row, []):
                self._check_close(close, row, closing)
        return remaining

    def _feed(self, row: int) -> None:
        verifier, journal = self.verifier, self.built.journal
        self._position(row - 1)
        verifier.last_version = int(self.versions[row])
        postings = range(int(self.offsets[row]), int(self.offsets[row + 1]))
        counted = [p for p in postings if journal.counted[p]]
        before = self.running.before(self.rank[counted]).tolist() if counted else []
        for posting, balance in reversed(
            list(zip(counted, before, strict=True))
        ):  # the first one counts
            verifier.running[self.built.accounts[journal.account[posting]]] = balance
        verifier.feed(self._transaction(row))

    def _position(self, row: int) -> None:
        """The verifier's chain position after row `row` (-1: the start)."""
        verifier = self.verifier
        if row < 0:
            verifier.last_sequence, verifier.last_hash, verifier.last_number = self.start
            return
        journal = self.built.journal
        verifier.last_sequence = int(journal.sequence[row])
        verifier.last_hash = self.built.transactions.column("hash")[row].as_py()
        verifier.last_number = (
            self._number(row) if journal.in_scope[row] else f"#{journal.sequence[row]}"
        )

    def _number(self, row: int) -> str:
        return self.built.transactions.column("number")[row].as_py()

    def _balances_at(self, row: int) -> dict[AccountCodes, int]:
        """The reference's running dict after row `row`, in its insertion order."""
        count = int(self.built.running_accounts[row + 1])
        values = self.running.at(row, count).tolist()
        return dict(zip(self.built.accounts[:count], values, strict=True))

    def _check_close(self, close: closes.CloseRow, row: int, closing: _ClosingBalances | None):
        locations = self.close_locations(close)
        journal = self.built.journal
        at = (self.start[0], self.start[1]) if row < 0 else (
            int(journal.sequence[row]), self.built.transactions.column("hash")[row].as_py()
        )  # fmt: skip
        count = int(self.built.running_accounts[row + 1])
        computed = np.zeros(len(self.built.accounts), dtype=np.int64)
        computed[:count] = self.running.at(row, count)
        if (
            closing is not None
            and at == (close.sequence, close.hash)
            and closing.agrees(close.id, computed, locations)
        ):
            return
        self._position(row)
        self.verifier.running = self._balances_at(row)
        self.verifier.check_close(
            close.period_end.isoformat(),
            close.sequence,
            close.hash,
            closes.closing_balances(self.connection, close.id),
            locations=locations,
        )

    def _finish_state(self) -> None:
        """The verifier as the reference leaves it after the last transaction."""
        verifier, journal = self.verifier, self.built.journal
        last = len(journal.sequence) - 1
        self._position(last)
        verifier.last_version = max(int(self.versions[last]), _known(int(journal.version[last])))
        verifier.running = self._balances_at(last)
        mine = journal.in_scope
        verifier.transactions_checked = int(mine.sum())
        verifier.postings_checked = int(mine[journal.posting_tx].sum())

    def _transaction(self, row: int) -> StoredTransaction:
        """Row `row` as the reference reads it (ledger.db.journal_queries.stored_transactions)."""
        built = self.built
        tx = {name: built.transactions.column(name)[row].as_py() for name in _FIELDS}
        day = built.days[int(built.day_index[row])]
        stored_day = built.raw_days[row].as_py()
        postings = []
        for p in range(int(self.offsets[row]), int(self.offsets[row + 1])):
            location, item, number = built.accounts[built.journal.account[p]]
            raw = built.posting_days[p].as_py()
            postings.append(
                StoredPosting(
                    location,
                    bool(built.journal.physical[p]),
                    item,
                    number,
                    self.codes.batches[int(built.batch[p])][1],
                    int(built.journal.quantity[p]),
                    int(built.journal.balance[p]),
                    day if raw == stored_day else _as_day(raw),
                )
            )
        codes = self.codes.locations
        return StoredTransaction(
            sequence=tx["id"],
            number=tx["number"],
            kind=tx["kind"],
            occurred_on=day,
            location_code=codes[tx["location_id"]][0],
            counterparty_code=None
            if tx["counterparty_id"] is None
            else codes[tx["counterparty_id"]][0],
            reverses_sequence=tx["reverses_id"],
            shipment_sequence=tx["shipment_id"],
            reason=tx["reason"],
            memo=tx["memo"],
            previous_hash=tx["previous_hash"],
            hash=tx["hash"],
            postings=tuple(postings),
            chain_version=tx["chain_version"],
            maker_id=tx["maker_id"],
            approver_id=tx["approver_id"],
            receiver_id=tx["receiver_id"],
        )


_FIELDS = (
    "id", "number", "kind", "location_id", "counterparty_id", "reverses_id", "shipment_id",
    "reason", "memo", "previous_hash", "hash", "chain_version", "maker_id", "approver_id",
    "receiver_id",
)  # fmt: skip


def _known(version: int) -> int:
    return version if version in CHAIN_VERSIONS else 1


def _as_day(value) -> dt.date | str:
    """A posting's stored date that differs from its transaction's (as the reference reads
    it: text that is not a date is kept as it is)."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


class _ClosingBalances:
    """Every close's kept balances, by account number (codes as the reference names them;
    accounts the running balances never held numbered after them)."""

    def __init__(self, kept: pa.Table, codes: Codes, built: Built) -> None:
        accounts = built.accounts
        number = {account: n for n, account in enumerate(accounts)}
        self.accounts = len(accounts)
        close_id = integers(kept.column("close_id"))
        location = integers(kept.column("location_id"))
        batch = integers(kept.column("batch_id"))
        width = max(int(batch.max()) if len(batch) else 0, int(built.batch.max())) + 1
        pairs, inverse = factorize(location * width + batch)
        # A kept (location, batch) is the account of the postings at that location in that
        # batch under the batch's own item: found among the postings' accounts by ids.
        ids = built.id_triples
        item_of = np.full(width, -1, dtype=np.int64)
        for batch_id, item_id in codes.batch_item_ids.items():
            if 0 <= batch_id < width:
                item_of[batch_id] = item_id
        own = ids[:, 1] == item_of[ids[:, 2]]
        posted = ids[own, 0] * width + ids[own, 2]
        order = np.argsort(posted)
        spot = np.minimum(np.searchsorted(posted[order], pairs), max(len(posted) - 1, 0))
        hit = posted[order][spot] == pairs if len(posted) else np.zeros(len(pairs), dtype=bool)
        pair_number = np.where(hit, built.id_number[own][order][spot] if len(posted) else 0, -1)
        for at in np.flatnonzero(~hit).tolist():  # kept where nothing was posted: by codes
            location_id, batch_id = divmod(int(pairs[at]), width)
            triple = (
                codes.locations.get(location_id, ("?", False))[0],
                codes.batch_items.get(batch_id, "?"),
                codes.batches.get(batch_id, ("?", None))[0],
            )
            pair_number[at] = number.setdefault(triple, len(number))
        self.location_codes = [account[0] for account in number]
        found = pair_number[inverse]
        order = np.lexsort((found, close_id))
        close_id, found, on_hand = (
            close_id[order],
            found[order],
            integers(kept.column("on_hand"))[order],
        )
        twice = (close_id[1:] == close_id[:-1]) & (found[1:] == found[:-1])
        self.twice = set(close_id[1:][twice].tolist())  # an account kept twice: the reference
        bounds = np.flatnonzero(np.diff(close_id, prepend=-1, append=-2)).tolist()
        self.rows = {
            int(close_id[start]): (found[start:end], on_hand[start:end])
            for start, end in itertools.pairwise(bounds)
        }
        self.wanted: dict[Container[str] | None, np.ndarray] = {}

    def agrees(self, close_id: int, computed: np.ndarray, locations: Container[str] | None) -> bool:
        """The close kept exactly the nonzero balances `computed` (at these locations)."""
        if close_id in self.twice:
            return False
        empty = np.zeros(0, np.int64)
        found, on_hand = self.rows.get(close_id, (empty, empty))
        if locations not in self.wanted:
            self.wanted[locations] = np.array(
                [locations is None or code in locations for code in self.location_codes]
            )
        wanted = self.wanted[locations]
        kept = np.zeros(len(wanted), dtype=np.int64)
        kept[found] = on_hand
        every = np.zeros(len(wanted), dtype=np.int64)
        every[: len(computed)] = computed
        return bool(np.array_equal(kept[wanted], every[wanted]))
