"""The hash chain over transactions.

hash(n) = sha256(hash(n-1) ‖ canonical encoding of transaction n), hex; hash(0) is 64 zeros.
The canonical encoding is compact JSON of a fixed array of the transaction's content, with
postings in their stored order, using codes (not storage ids) so that a digest means the same
thing in any copy of the ledger. Running balances are derived and not hashed; `verify` checks
them separately.

Chain versions: each transaction records the encoding it was hashed with, so that the content
hashed can grow without rewriting history. Version 1 (transactions recorded before migration
0008) is the array above; version 2 appends the people on the voucher — [maker, approver,
receiver] as user ids (null where the flow has none). `verify` knows both; a version never goes
down along the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

import msgspec

GENESIS_HASH = "0" * 64
CHAIN_VERSION_CURRENT = 2  # what new transactions are hashed with
CHAIN_VERSIONS = frozenset({1, 2})

_encoder = msgspec.json.Encoder()


def canonical_encoding(
    sequence: int,
    number: str,
    kind: str,
    occurred_on: dt.date,
    location_code: str,
    counterparty_code: str | None,
    reverses_sequence: int | None,
    shipment_sequence: int | None,
    reason: str | None,
    memo: str,
    postings: Iterable[tuple[str, str, str, int]],
    version: int = CHAIN_VERSION_CURRENT,
    people: tuple[int | None, int | None, int | None] = (None, None, None),
) -> bytes:
    """The bytes that are hashed. Postings are (location code, item code, batch number, qty);
    people (version 2 on) are the maker's, approver's and receiver's user ids."""
    if version not in CHAIN_VERSIONS:
        raise ValueError(f"unknown chain version {version}")
    content = [
        sequence,
        number,
        kind,
        occurred_on.isoformat(),
        location_code,
        counterparty_code,
        reverses_sequence,
        shipment_sequence,
        reason,
        memo,
        postings if isinstance(postings, list) else list(postings),  # tuples encode as arrays
    ]
    if version >= 2:
        content.append(list(people))
    return _encoder.encode(content)


def chain_hash(previous_hash: str, encoding: bytes) -> str:
    return hashlib.sha256(previous_hash.encode("ascii") + encoding).hexdigest()
