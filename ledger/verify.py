"""Verification: re-check the six invariants of the ledger over everything stored.

Pure: the storage layer feeds transactions in sequence order (postings in stored order) into a
`Verifier`, then the stored balances; the verifier returns precise findings. Nothing here reads
a database, so the same checks run over any copy of the ledger.

Invariants (DESIGN §3):
1. every transaction's postings sum to zero per (item, batch);
2. no physical location's balance is ever below zero;
3. an expired batch is never issued, transferred or distributed;
4. stored balances equal the sum of postings; running balances are consistent;
5. the hash chain is unbroken; no transaction or posting was altered or removed (a posting's
   date is its transaction's); what a period close kept equals what the postings say; the
   chain still holds every checkpoint handed out; reference data (users too) equals its last
   version, and every user a transaction names exists;
6. reserved ≤ on hand for every account (and equals the open reservations).

Every finding has a stable code; docs/verify.md lists them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Iterable

from ledger.chain import (
    CHAIN_VERSIONS,
    GENESIS_HASH,
    canonical_encoding,
    chain_hash,
)
from ledger.model import KINDS_REFUSING_EXPIRED, TransactionKind
from ledger.verify_records import (  # noqa: F401  (named here for the callers)
    AccountCodes,
    Finding,
    StoredBalance,
    StoredPosting,
    StoredTransaction,
    account_subject,
    transaction_subject,
)


def transaction_encoding(tx: StoredTransaction) -> bytes:
    """The bytes the chain hashes for a stored transaction (of a known chain version)."""
    return canonical_encoding(
        tx.sequence,
        tx.number,
        tx.kind,
        tx.occurred_on,
        tx.location_code,
        tx.counterparty_code,
        tx.reverses_sequence,
        tx.shipment_sequence,
        tx.reason,
        tx.memo,
        [(p.location_code, p.item_code, p.batch_number, p.quantity) for p in tx.postings],
        tx.chain_version,
        (tx.maker_id, tx.approver_id, tx.receiver_id),
    )


class Verifier:
    """Feeds on stored transactions in sequence order and reports what does not hold.

    start_sequence / start_hash: where to begin — genesis, or a period close's digest — and
    start_balances: the account balances at that point (empty at genesis), and start_reversed:
    the transactions already reversed by then (so a second reversal after a close is found).
    scope: the codes of the physical locations of one root, for a verification of that root
    alone (None: the whole ledger). The hash chain is one for every root, so every transaction
    is fed; a transaction of another root (its location outside the scope) only carries the
    chain on: what is found on it is counted in `elsewhere`, not named, and the other checks
    (and the counts of transactions and postings checked) cover the root's own transactions
    and the accounts at its own locations — not the virtual ones, whose balances every root
    shares.
    """

    def __init__(
        self,
        start_sequence: int = 0,
        start_hash: str = GENESIS_HASH,
        start_balances: dict[AccountCodes, int] | None = None,
        start_reversed: dict[int, str] | None = None,
        scope: frozenset[str] | None = None,
    ) -> None:
        self.findings: list[Finding] = []
        self.scope = scope
        self.elsewhere = 0  # findings on other roots' transactions (with a scope), not named
        self.last_sequence = start_sequence
        self.last_hash = start_hash
        self.last_number = "genesis" if start_sequence == 0 else f"#{start_sequence}"
        self.running: dict[AccountCodes, int] = dict(start_balances or {})
        # reversed sequence -> the reversal's number, including those before the start
        self.reversed: dict[int, str] = dict(start_reversed or {})
        self.transactions_checked = 0
        self.postings_checked = 0
        self.last_version = 1  # chain versions seen so far never go down
        # version → the first sequence hashed with it (from storage; empty: not checked)
        self.version_starts: dict[int, int] = {}
        # the ids of every stored user: a maker, approver or receiver must be one (None: not
        # checked)
        self.user_ids: Container[int] | None = None

    def feed(self, tx: StoredTransaction) -> None:
        if self.scope is not None and tx.location_code not in self.scope:
            self._feed_elsewhere(tx)
            return
        self.transactions_checked += 1
        self.postings_checked += len(tx.postings)
        self._check_chain(tx)
        if self.user_ids is not None:
            self._check_people(tx, self.user_ids)
        self._check_balanced(tx)
        if tx.kind in KINDS_REFUSING_EXPIRED:
            self._check_expired(tx)
        self._check_running_balances(tx)
        if tx.reverses_sequence is not None:
            self._check_single_reversal(tx)

    def _feed_elsewhere(self, tx: StoredTransaction) -> None:
        """Another root's transaction: the shared chain goes through it; what is wrong with it
        is counted, not named."""
        before = len(self.findings)
        self._check_chain(tx)
        if self.user_ids is not None:
            self._check_people(tx, self.user_ids)
        self.elsewhere += len(self.findings) - before
        del self.findings[before:]
        self.last_number = f"#{tx.sequence}"

    def _check_chain(self, tx: StoredTransaction) -> None:
        if tx.sequence != self.last_sequence + 1:
            missing = (
                f"#{self.last_sequence + 1}..#{tx.sequence - 1}"
                if tx.sequence > self.last_sequence + 1
                else "none"
            )
            self.findings.append(
                Finding(
                    5,
                    "sequence_gap",
                    transaction_subject(tx),
                    f"sequence jumps from #{self.last_sequence} to #{tx.sequence}: "
                    f"missing {missing} (removed?)",
                    str(self.last_sequence + 1),
                    str(tx.sequence),
                )
            )
        if tx.previous_hash != self.last_hash:
            self.findings.append(
                Finding(
                    5,
                    "chain_broken",
                    f"transaction {self.last_number} (#{self.last_sequence})",
                    f"its hash differs from the one recorded as previous by {tx.number} "
                    f"(#{tx.sequence}): it or the chain was altered",
                    tx.previous_hash,
                    self.last_hash,
                )
            )
        if not self._check_version(tx):
            self.last_sequence = tx.sequence
            self.last_hash = tx.hash
            self.last_number = tx.number
            return
        recomputed = chain_hash(tx.previous_hash, transaction_encoding(tx))
        if recomputed != tx.hash:
            self._find(
                5,
                "hash_mismatch",
                transaction_subject(tx),
                "content does not match its hash: a field or a posting was altered or removed",
                tx.hash,
                recomputed,
            )
        self.last_sequence = tx.sequence
        self.last_hash = tx.hash
        self.last_number = tx.number

    def _check_version(self, tx: StoredTransaction) -> bool:
        """The chain version is known and never goes down (an old encoding leaves the people
        out of the hash: a transaction rewritten to it would hide who made it)."""
        if tx.chain_version not in CHAIN_VERSIONS:
            self._find(
                5,
                "chain_version_unknown",
                transaction_subject(tx),
                f"recorded with chain version {tx.chain_version}, which no release wrote",
                "/".join(str(v) for v in sorted(CHAIN_VERSIONS)),
                str(tx.chain_version),
            )
            return False
        expected = max(
            (v for v, first in self.version_starts.items() if first <= tx.sequence), default=None
        )
        if expected is not None and tx.chain_version != expected:
            self.findings.append(
                Finding(
                    5,
                    "chain_version_mismatch",
                    transaction_subject(tx),
                    f"recorded with chain version {tx.chain_version}, but every transaction from "
                    f"#{self.version_starts[expected]} on is hashed with version {expected}",
                    str(expected),
                    str(tx.chain_version),
                )
            )
        elif tx.chain_version < self.last_version:
            self.findings.append(
                Finding(
                    5,
                    "chain_version_downgraded",
                    transaction_subject(tx),
                    f"recorded with chain version {tx.chain_version} after a transaction of "
                    f"version {self.last_version}: its people were left out of its hash",
                    str(self.last_version),
                    str(tx.chain_version),
                )
            )
        if tx.chain_version < 2 and (tx.maker_id or tx.approver_id or tx.receiver_id):
            self._find(
                5,
                "people_not_hashed",
                transaction_subject(tx),
                "names a maker, approver or receiver but its chain version does not hash them",
                None,
                f"{tx.maker_id}/{tx.approver_id}/{tx.receiver_id}",
            )
        self.last_version = max(self.last_version, tx.chain_version)
        return True

    def _check_people(self, tx: StoredTransaction, users: Container[int]) -> None:
        """The maker, approver and receiver a transaction names are stored users (their ids are
        hashed, their labels are not: a user removed or renumbered would change who a voucher
        names)."""
        maker, approver, receiver = tx.maker_id, tx.approver_id, tx.receiver_id
        if (
            (maker is None or maker in users)
            and (approver is None or approver in users)
            and (receiver is None or receiver in users)
        ):
            return
        for role, user_id in (("maker", maker), ("approver", approver), ("receiver", receiver)):
            if user_id is not None and user_id not in users:
                self._find(
                    5,
                    "unknown_user",
                    transaction_subject(tx),
                    f"its {role}_id names no user: the user was removed or the id altered",
                    "a stored user",
                    f"{role}_id {user_id}",
                )

    def _check_balanced(self, tx: StoredTransaction) -> None:
        postings = tx.postings
        if len(postings) == 2:  # the usual shape: one unit moved from one place to another
            first, second = postings
            if (
                first.quantity + second.quantity == 0
                and first.item_code == second.item_code
                and first.batch_number == second.batch_number
            ):
                return
        totals: dict[tuple[str, str], int] = {}
        for posting in tx.postings:
            pair = (posting.item_code, posting.batch_number)
            totals[pair] = totals.get(pair, 0) + posting.quantity
        for (item, batch), total in totals.items():
            if total != 0:
                self._find(
                    1,
                    "unbalanced_transaction",
                    transaction_subject(tx),
                    f"postings of {item}/{batch} sum to {total}, not zero",
                    "0",
                    str(total),
                )
        if len(tx.postings) < 2:
            self._find(
                1,
                "too_few_postings",
                transaction_subject(tx),
                f"has {len(tx.postings)} posting(s); a transaction has at least two",
                "2",
                str(len(tx.postings)),
            )

    def _check_expired(self, tx: StoredTransaction) -> None:
        if tx.kind not in KINDS_REFUSING_EXPIRED:
            return
        for posting in tx.postings:
            expires = posting.batch_expires_on
            if posting.quantity < 0 and expires is not None and tx.occurred_on > expires:
                self.findings.append(
                    Finding(
                        3,
                        "expired_batch_moved",
                        transaction_subject(tx),
                        f"{tx.kind} of batch {posting.item_code}/{posting.batch_number} "
                        f"on {tx.occurred_on}, after its expiry {expires}",
                        f"on or before {expires}",
                        str(tx.occurred_on),
                    )
                )

    def _check_running_balances(self, tx: StoredTransaction) -> None:
        day, scope = tx.occurred_on, self.scope
        for posting in tx.postings:
            account = (posting.location_code, posting.item_code, posting.batch_number)
            if posting.occurred_on != day and posting.occurred_on is not None:
                self._misdated(tx, account, posting.occurred_on)
            if scope is not None and posting.location_code not in scope:
                continue  # a shared virtual account: its balance holds every root's postings
            balance = self.running.get(account, 0) + posting.quantity
            self.running[account] = balance
            if posting.balance_after != balance:
                self._find(
                    4,
                    "running_balance_mismatch",
                    f"{transaction_subject(tx)} on {account_subject(account)}",
                    "balance recorded after the posting differs from the sum of postings",
                    str(balance),
                    str(posting.balance_after),
                )
            if posting.physical and balance < 0:
                self._find(
                    2,
                    "negative_balance",
                    f"{transaction_subject(tx)} on {account_subject(account)}",
                    "a physical location's balance went below zero",
                    "≥ 0",
                    str(balance),
                )

    def _misdated(self, tx: StoredTransaction, account: AccountCodes, day: dt.date | str) -> None:
        self.findings.append(
            Finding(
                5,
                "posting_date_mismatch",
                f"{transaction_subject(tx)} on {account_subject(account)}",
                "the posting's stored date differs from its transaction's: reports by date "
                "and period closes read the posting's",
                str(tx.occurred_on),
                str(day),
            )
        )

    def _check_single_reversal(self, tx: StoredTransaction) -> None:
        if tx.kind != TransactionKind.reversal or tx.reverses_sequence is None:
            return
        earlier = self.reversed.get(tx.reverses_sequence)
        if earlier is not None:
            self._find(
                5,
                "reversed_twice",
                transaction_subject(tx),
                f"reverses #{tx.reverses_sequence}, already reversed by {earlier}",
            )
        self.reversed[tx.reverses_sequence] = tx.number

    def check_close(
        self,
        period_end: str,
        sequence: int,
        digest: str,
        balances: dict[AccountCodes, int],
        locations: Container[str] | None = None,
    ) -> None:
        """At a period close's sequence: the chain and every account must be as it recorded.
        (Its count of balances, and what it kept besides, are checked by
        ledger/services/history_checks.py.)
        locations: compare only the accounts at these location codes (a close of one root, or
        a verification of one root); None: every account."""
        subject = f"period close {period_end} (#{sequence})"
        if self.last_sequence != sequence or self.last_hash != digest:
            self._find(
                5,
                "close_digest_mismatch",
                subject,
                "the chain at the close's sequence differs from the digest it recorded",
                f"#{sequence} {digest}",
                f"#{self.last_sequence} {self.last_hash}",
            )
        computed = {account: balance for account, balance in self.running.items() if balance}
        kept = {account: balance for account, balance in balances.items() if balance}
        if locations is not None:
            computed = {a: balance for a, balance in computed.items() if a[0] in locations}
            kept = {a: balance for a, balance in kept.items() if a[0] in locations}
        if computed == kept:  # (the usual case, compared at C speed; an absent account is 0)
            return
        for account in sorted(set(kept) | set(computed)):
            expected, recorded = computed.get(account, 0), kept.get(account, 0)
            if expected != recorded:
                self._find(
                    4,
                    "closing_balance_mismatch",
                    f"{subject}: {account_subject(account)}",
                    "the closing balance differs from the sum of the postings before it",
                    str(expected),
                    str(recorded),
                )

    def assume_unchanged(self, balances: dict[AccountCodes, int]) -> None:
        """Balances at the start of accounts that nothing fed since touched: they still hold
        them. (A verification since a close starts from the balances of the accounts its
        transactions touch, and is given the rest only where a stored row needs comparing.)"""
        for account, balance in balances.items():
            self.running.setdefault(account, balance)

    def finish(
        self,
        stored: Iterable[StoredBalance],
        chain_head: tuple[int, str] | None,
    ) -> list[Finding]:
        """Compare stored balances and the chain head with what the postings add up to."""
        seen: set[AccountCodes] = set()
        for row in stored:
            account = (row.location_code, row.item_code, row.batch_number)
            seen.add(account)
            self._check_stored(row, account)
        for account, balance in self.running.items():
            if account not in seen and balance != 0:
                self._find(
                    4,
                    "balance_missing",
                    account_subject(account),
                    "postings add up to a balance but no stored balance row exists",
                    str(balance),
                    "none",
                )
        if chain_head is not None:
            self._check_head(chain_head)
        return self.findings

    def _find(
        self,
        invariant: int,
        code: str,
        subject: str,
        message: str,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        self.findings.append(Finding(invariant, code, subject, message, expected, found))

    def _check_stored(self, row: StoredBalance, account: AccountCodes) -> None:
        """One stored balance row against the postings' running sum and its own bounds."""
        expected = self.running.get(account, 0)
        subject = account_subject(account)
        if row.on_hand != expected:
            self._find(
                4,
                "balance_mismatch",
                subject,
                "stored on-hand balance differs from the sum of its postings",
                str(expected),
                str(row.on_hand),
            )
        if row.physical and row.on_hand < 0:
            self._find(
                2, "negative_balance", subject, "stored balance below zero", "≥ 0", str(row.on_hand)
            )
        if row.physical and row.reserved > row.on_hand:
            self._find(
                6,
                "reserved_exceeds_on_hand",
                subject,
                "more reserved than on hand",
                f"≤ {row.on_hand}",
                str(row.reserved),
            )
        if row.reserved != row.reservations_open or row.reserved < 0:
            self._find(
                6,
                "reserved_mismatch",
                subject,
                "stored reserved quantity differs from the open reservations",
                str(row.reservations_open),
                str(row.reserved),
            )

    def _check_head(self, chain_head: tuple[int, str]) -> None:
        """The recorded chain head against the last transaction read."""
        head_sequence, head_hash = chain_head
        if (head_sequence, head_hash) != (self.last_sequence, self.last_hash):
            self.findings.append(
                Finding(
                    5,
                    "chain_head_mismatch",
                    "chain head",
                    "the recorded chain head is not the last transaction: "
                    "transactions at the end were removed or added outside the ledger",
                    f"#{head_sequence} {head_hash[:16]}",
                    f"#{self.last_sequence} {self.last_hash[:16]}",
                )
            )
