"""The hash chain recomputed in bulk: every transaction's canonical encoding built from columns
(Arrow compute kernels, in C) and hashed in one tight loop over a single buffer (hashlib's
SHA-256). The bytes are those of `ledger.chain.canonical_encoding` — the chain's definition is
unchanged: a transaction whose text would need escaping in JSON (a quote, a backslash, a
control character) is encoded by `canonical_encoding` itself, and codes are encoded by the same
msgspec encoder.

Encoding a slice of transactions (Arrow releases the GIL) runs on a second thread while the
previous slice is hashed, so the two cores share the work.
"""

from __future__ import annotations

import binascii
import hashlib
import operator
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SLICE_ROWS = 100_000  # transactions encoded, then hashed, at a time
_NEEDS_ESCAPE = r'["\\\x00-\x1f]'  # what msgspec's JSON escapes in a string
_json = msgspec.json.Encoder()
_DIGEST = operator.methodcaller("digest")


def json_texts(values: list[str | None]) -> pa.Array:
    """Each text as a JSON string literal (null for None), as the chain's encoder writes it."""
    return pa.array(
        [None if value is None else _json.encode(value).decode() for value in values], pa.string()
    )


def account_prefixes(accounts: list[tuple[str, str, str]]) -> pa.Array:
    """`["location","item","batch",` for each account: a posting's encoding less its quantity."""
    return pa.array([_json.encode(list(account))[:-1].decode() + "," for account in accounts])


class ChainColumns:
    """What the encodings are built from, aligned by transaction (row i) or by posting.

    transactions: the stored transactions (ledger.db.journal_columns.transaction_columns).
    dates: each transaction's date as `canonical_encoding` writes it (ISO), by row.
    locations: each location's code as a JSON string, indexed by location id (null: no such id).
    postings: each posting's encoding (`["loc","item","batch",quantity]`), in chain order.
    offsets: transaction i's postings are postings[offsets[i]:offsets[i + 1]].
    reference: the canonical encoding of row i computed by `canonical_encoding` (the rows whose
    text needs escaping, and whose hash therefore is not built here).
    """

    def __init__(
        self,
        transactions: pa.Table,
        dates: pa.Array,
        locations: pa.Array,
        postings: pa.Array,
        offsets: np.ndarray,
        reference: Callable[[int], bytes],
    ) -> None:
        self.transactions = transactions
        self.dates = dates
        self.locations = locations
        self.postings = postings
        self.offsets = offsets
        self.reference = reference

    def mismatches(self, checked: np.ndarray) -> np.ndarray:
        """The rows (among `checked`, a boolean mask) whose stored hash is not the SHA-256 of
        their stored previous hash and their canonical encoding."""
        count = self.transactions.num_rows
        wrong = np.zeros(count, dtype=bool)
        slices = [(start, min(start + SLICE_ROWS, count)) for start in range(0, count, SLICE_ROWS)]
        with ThreadPoolExecutor(1) as encoder:
            pending = iter(slices)
            future = encoder.submit(self._encode, *next(pending)) if slices else None
            for start, end in slices:
                assert future is not None  # one future per slice
                inputs, escaped = future.result()
                following = next(pending, None)
                if following is not None:
                    future = encoder.submit(self._encode, *following)
                stored = self.transactions.column("hash").slice(start, end - start)
                different = pc.not_equal(stored, _hex_digests(inputs))
                wrong[start:end] = pc.fill_null(different, True).to_numpy(zero_copy_only=False)
                for row in np.flatnonzero(escaped & checked[start:end]):
                    wrong[start + row] = self._by_reference(start + int(row))
        return wrong & checked

    def _by_reference(self, row: int) -> bool:
        previous, stored = (
            self.transactions.column(name)[row].as_py() for name in ("previous_hash", "hash")
        )
        digest = hashlib.sha256(previous.encode("ascii") + self.reference(row)).hexdigest()
        return bool(digest != stored)

    def _encode(self, start: int, end: int) -> tuple[pa.Array, np.ndarray]:
        """The hash inputs (previous hash ‖ encoding) of rows start..end, and which of them
        need escaping (their input here is not the encoding: they are hashed by reference)."""
        tx = {name: column.combine_chunks() for name, column in self._slice(start, end)}
        escaped = np.zeros(end - start, dtype=bool)
        for name in ("number", "kind", "reason", "memo"):
            found = pc.match_substring_regex(tx[name], _NEEDS_ESCAPE)
            escaped |= pc.fill_null(found, False).to_numpy(zero_copy_only=False)
        first, last = int(self.offsets[start]), int(self.offsets[end])
        lists = pa.ListArray.from_arrays(
            pa.array(self.offsets[start : end + 1] - first, pa.int32()),
            self.postings.slice(first, last - first),
        )
        people = pc.binary_join_element_wise(
            ",[", _number(tx["maker_id"]), ",", _number(tx["approver_id"]), ",",
            _number(tx["receiver_id"]), "]", "",
        )  # fmt: skip
        version_two = pc.greater_equal(tx["chain_version"], 2)
        inputs = pc.binary_join_element_wise(  # texts quoted by the separators around them
            tx["previous_hash"], "[", pc.cast(tx["id"], pa.string()),
            ',"', tx["number"], '","', tx["kind"], '","', self.dates.slice(start, end - start),
            '",', self.locations.take(tx["location_id"]),
            ",", pc.fill_null(self.locations.take(tx["counterparty_id"]), "null"),
            ",", _number(tx["reverses_id"]), ",", _number(tx["shipment_id"]),
            ",", pc.fill_null(_quoted(tx["reason"]), "null"), ',"', tx["memo"],
            '",[', pc.binary_join(lists, ","), "]",
            pc.if_else(version_two, people, ""), "]", "",
        )  # fmt: skip
        return inputs, escaped

    def _slice(self, start: int, end: int) -> Iterator[tuple[str, pa.ChunkedArray]]:
        table = self.transactions.slice(start, end - start)
        for name in table.column_names:
            yield name, table.column(name)


def _quoted(texts: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise('"', texts, '"', "")


def _number(values: pa.Array) -> pa.Array:
    return pc.fill_null(pc.cast(values, pa.string()), "null")


def _hex_digests(inputs: pa.Array) -> pa.Array:
    """The SHA-256 of each string, as lowercase hex (what `chain_hash` stores)."""
    count = len(inputs)
    _, offsets_buffer, data = inputs.buffers()
    offsets = np.frombuffer(offsets_buffer, np.int32, count + 1, inputs.offset * 4).tolist()
    view = memoryview(data) if data is not None else memoryview(b"")
    # Built-in callables mapped over the rows: no Python bytecode runs per transaction.
    pieces = map(view.__getitem__, map(slice, offsets[:-1], offsets[1:]))
    digests = b"".join(map(_DIGEST, map(hashlib.sha256, pieces)))
    hex_offsets = np.arange(0, 64 * (count + 1), 64, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(),
        count,
        [None, pa.py_buffer(hex_offsets), pa.py_buffer(binascii.hexlify(digests))],
    )
