"""The `Verifier`'s checks as array operations over the whole journal at once (numpy): which
transactions a finding could be about, and the running balances the reference would hold at
any point of the chain. Pure, no I/O (ledger/verify_fast.py reads and replays).

The checks here only *select*: a transaction is flagged when any of the reference's checks
might find something on it (a superset: flagging more costs time, never a finding). The
flagged transactions are then fed to the reference `Verifier`, in its state at that point, so
that every finding is the reference's own — same code, subject, message and order.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ledger.chain import CHAIN_VERSIONS

NONE = np.iinfo(np.int64).min  # a null in an integer column (no stored value reaches it)


TABLE_MAX = 1 << 24  # integers below this are counted in a table, not sorted


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(values, return_inverse=True)` for integers >= 0: the distinct values in
    order and each value's index among them — in linear time (a table) while they are small."""
    if len(values) == 0 or int(values.max()) >= TABLE_MAX:
        unique, inverse = np.unique(values, return_inverse=True)
        return unique, inverse.reshape(-1)
    present = np.zeros(int(values.max()) + 1, dtype=bool)
    present[values] = True
    index = np.cumsum(present, dtype=np.int64) - 1
    return np.flatnonzero(present), index[values]


def stable_order(keys: np.ndarray) -> np.ndarray:
    """`np.argsort(keys, kind="stable")` for integers in [0, 2^32): two radix passes of 16
    bits (numpy sorts 16-bit keys by radix, in linear time)."""
    if len(keys) == 0 or int(keys.max()) >= 1 << 32 or int(keys.min()) < 0:
        return np.argsort(keys, kind="stable")
    low = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    if int(keys.max()) < 1 << 16:
        return low
    high = (keys[low] >> 16).astype(np.uint16)
    return low[np.argsort(high, kind="stable")]


class Journal(NamedTuple):
    """The journal as arrays: transactions in chain order (T rows), their postings in stored
    order (P rows), accounts numbered in the order the reference's running dict holds them.

    sequence, version, day, in_scope, refuses_expired, reversal, reverses: per transaction
    (day: days since 1970; reverses: NONE for none). people: (T, 3) maker, approver, receiver
    ids (NONE for none). posting_tx: each posting's transaction row; account, pair (item ×
    batch by codes), quantity, balance, counted (fed to the running balances), physical,
    expires (day, NONE for none), misdated (its stored date is not its transaction's).
    start: each account's balance at the start (0: none).
    """

    sequence: np.ndarray
    version: np.ndarray
    day: np.ndarray
    in_scope: np.ndarray
    refuses_expired: np.ndarray
    reversal: np.ndarray
    reverses: np.ndarray
    people: np.ndarray
    posting_tx: np.ndarray
    account: np.ndarray
    pair: np.ndarray
    quantity: np.ndarray
    balance: np.ndarray
    counted: np.ndarray
    physical: np.ndarray
    expires: np.ndarray
    misdated: np.ndarray
    start: np.ndarray


class Running:
    """The running balance of every account after every counted posting, grouped by account
    (a stable sort keeps chain order within each account)."""

    def __init__(self, journal: Journal) -> None:
        counted = np.flatnonzero(journal.counted)
        order = counted[stable_order(journal.account[counted])]
        self.postings = order  # posting indexes, by account then chain order
        self.accounts = journal.account[order]
        self.transactions = journal.posting_tx[order]
        sums = np.cumsum(journal.quantity[order])
        firsts = np.ones(len(order), dtype=bool)
        firsts[1:] = self.accounts[1:] != self.accounts[:-1]
        group_start = np.maximum.accumulate(np.where(firsts, np.arange(len(order)), 0))
        before_group = np.where(group_start > 0, sums[group_start - 1], 0)
        self.first = firsts
        self.after = journal.start[self.accounts] + sums - before_group  # after each posting
        self.start = journal.start
        self.count = len(journal.sequence)
        self.key = self.accounts.astype(np.int64) * (self.count + 1) + self.transactions

    def before(self, positions: np.ndarray) -> np.ndarray:
        """The balance of each posting's account just before it (positions: into `postings`)."""
        previous = np.maximum(positions - 1, 0)
        return np.where(
            self.first[positions], self.start[self.accounts[positions]], self.after[previous]
        )

    def at(self, row: int, accounts: int) -> np.ndarray:
        """Every account's balance (of the first `accounts`) after transaction `row` (-1: at
        the start)."""
        wanted = np.arange(accounts, dtype=np.int64)
        last = np.searchsorted(self.key, wanted * (self.count + 1) + row, side="right") - 1
        found = (last >= 0) & (self.accounts[np.maximum(last, 0)] == wanted)
        return np.where(found, self.after[np.maximum(last, 0)], self.start[:accounts])


def flag(
    journal: Journal,
    running: Running,
    users: np.ndarray,
    version_starts: dict[int, int],
    reversed_before: set[int],
) -> np.ndarray:
    """Every transaction the reference might report something on (before its hash and its
    link to the previous one, checked with the stored hashes). users: every stored user id;
    version_starts: each chain version and the first sequence hashed with it; reversed_before:
    the transactions reversed before the start."""
    flagged = _versions(journal, version_starts)
    people = journal.people
    known = np.isin(people, users) | (people == NONE)
    flagged |= ~known.all(axis=1)
    mine = journal.in_scope
    flagged |= mine & _unbalanced(journal)
    flagged |= _posting_flags(journal, running) & mine
    flagged |= mine & _reversed_again(journal, reversed_before)
    return flagged


def _versions(journal: Journal, version_starts: dict[int, int]) -> np.ndarray:
    """Gaps in the sequence (the first transaction's is checked by the caller), unknown,
    unexpected or downgraded chain versions, people left unhashed."""
    sequence, version = journal.sequence, journal.version
    known = np.isin(version, list(CHAIN_VERSIONS))
    flagged = ~known
    flagged[1:] |= sequence[1:] != sequence[:-1] + 1
    expected = np.full(len(version), NONE, dtype=np.int64)
    for number, first in version_starts.items():
        expected = np.where(sequence >= first, np.maximum(expected, number), expected)
    flagged |= known & (expected != NONE) & (version != expected)
    flagged |= known & (version < version_before(journal))
    flagged |= known & (version < 2) & (journal.people != NONE).any(axis=1)
    return flagged


def _unbalanced(journal: Journal) -> np.ndarray:
    """Transactions whose postings do not sum to zero per item and batch, or are fewer than
    two (two postings: the usual shape, checked pairwise)."""
    count = len(journal.sequence)
    postings = np.bincount(journal.posting_tx, minlength=count)
    flagged = postings < 2
    starts = np.concatenate(([0], np.cumsum(postings)[:-1]))
    pairs = np.flatnonzero(postings == 2)
    first = starts[pairs]
    quantity, pair = journal.quantity, journal.pair
    flagged[pairs] = (quantity[first] + quantity[first + 1] != 0) | (pair[first] != pair[first + 1])
    many = np.flatnonzero(postings[journal.posting_tx] > 2)
    if len(many):
        key = journal.posting_tx[many] * (int(pair.max()) + 1) + pair[many]
        order = np.argsort(key, kind="stable")
        key = key[order]
        bounds = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        sums = np.add.reduceat(quantity[many][order], bounds)
        flagged[journal.posting_tx[many][order][bounds][sums != 0]] = True
    return flagged


def _posting_flags(journal: Journal, running: Running) -> np.ndarray:
    """Expired batches moved, postings dated unlike their transaction, running balances unlike
    the sum of the postings, physical balances below zero."""
    count = len(journal.sequence)
    tx = journal.posting_tx
    day = journal.day[tx]
    expired = (
        journal.refuses_expired[tx]
        & (journal.quantity < 0)
        & (journal.expires != NONE)
        & (day > journal.expires)
    )
    suspect = expired | journal.misdated
    flagged = np.zeros(count, dtype=bool)
    flagged[tx[suspect]] = True
    order = running.postings
    wrong = (running.after != journal.balance[order]) | (
        journal.physical[order] & (running.after < 0)
    )
    flagged[running.transactions[wrong]] = True
    return flagged


def _reversed_again(journal: Journal, reversed_before: set[int]) -> np.ndarray:
    """Reversals of a transaction reversed before (by an earlier reversal of the root's, or
    before the start)."""
    flagged = np.zeros(len(journal.sequence), dtype=bool)
    rows = np.flatnonzero(journal.reversal & journal.in_scope & (journal.reverses != NONE))
    seen = set(reversed_before)
    for row in rows.tolist():
        target = int(journal.reverses[row])
        flagged[row] = target in seen
        seen.add(target)
    return flagged


def version_before(journal: Journal) -> np.ndarray:
    """The highest known chain version before each transaction (1 at the start)."""
    known = np.isin(journal.version, list(CHAIN_VERSIONS))
    highest = np.maximum.accumulate(np.where(known, journal.version, 1))
    return np.concatenate(([1], highest[:-1])) if len(highest) else highest
