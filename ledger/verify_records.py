"""What verification reads and reports: a finding, and the stored transactions, postings and
balances the storage layer feeds a `Verifier` (ledger/verify.py). Pure, no I/O."""

from __future__ import annotations

import datetime as dt

import msgspec

from ledger.chain import CHAIN_VERSION_CURRENT


class Finding(msgspec.Struct, frozen=True):
    """One thing `verify` found wrong.

    invariant: which of the six invariants (1–6) it breaks.
    code: what kind of finding, stable (e.g. `balance_mismatch`).
    subject: the transaction or account it is about, by voucher number and codes.
    message: what is wrong, in words.
    expected / found: the two values that disagree, where there are two.
    """

    invariant: int
    code: str
    subject: str
    message: str
    expected: str | None = None
    found: str | None = None


class StoredPosting(msgspec.Struct, frozen=True, array_like=True):
    """A posting as stored, with what verification needs to know about its batch and location."""

    location_code: str
    physical: bool
    item_code: str
    batch_number: str
    batch_expires_on: dt.date | None
    quantity: int
    balance_after: int
    # The date stored on the posting (postings.occurred_on): always its transaction's (as
    # read, even when not a date). None: not read (a caller that only checks the chain).
    occurred_on: dt.date | str | None = None


class StoredTransaction(msgspec.Struct, frozen=True):
    sequence: int
    number: str
    kind: str
    occurred_on: dt.date
    location_code: str
    counterparty_code: str | None
    reverses_sequence: int | None
    shipment_sequence: int | None
    reason: str | None
    memo: str
    previous_hash: str
    hash: str
    postings: tuple[StoredPosting, ...]
    chain_version: int = CHAIN_VERSION_CURRENT
    maker_id: int | None = None
    approver_id: int | None = None
    receiver_id: int | None = None


class StoredBalance(msgspec.Struct, frozen=True, array_like=True):
    location_code: str
    physical: bool
    item_code: str
    batch_number: str
    on_hand: int
    reserved: int
    reservations_open: int  # sum of open reservation quantities on this account


AccountCodes = tuple[str, str, str]


def account_subject(account: AccountCodes) -> str:
    location, item, batch = account
    return f"account {location}/{item}/{batch}"


def transaction_subject(tx: StoredTransaction) -> str:
    return f"transaction {tx.number} (#{tx.sequence})"
