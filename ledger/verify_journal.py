"""The journal's Arrow columns turned into the arrays `verify_columns` checks: accounts numbered
by codes in the order the reference's running dict holds them, dates as day numbers, codes
looked up once per id. Pure: the columns and the reference data's codes come from the caller.

What this does not expect (a column of another type, an id no table holds, a date that is not
one) raises `UnusualColumns`: the caller verifies with the reference path, which reports (or
fails on) it as it always did.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ledger.model import KINDS_REFUSING_EXPIRED, TransactionKind
from ledger.verify_columns import NONE, Journal, factorize
from ledger.verify_records import AccountCodes

EPOCH = dt.date(1970, 1, 1).toordinal()
_INTEGER = ("id", "location_id", "chain_version", "transaction_id", "item_id", "batch_id")
_NUMBERS = ("quantity", "balance_after", "counterparty_id", "reverses_id", "shipment_id")
_PEOPLE = ("maker_id", "approver_id", "receiver_id")
_TEXTS = ("number", "kind", "reason", "memo", "previous_hash", "hash")


_TYPE = {name: pa.string() for name in _TEXTS} | {"occurred_on": pa.string()}


class UnusualColumns(Exception):
    """Columns the fast path does not take as they are: the reference path verifies instead."""


class Codes(NamedTuple):
    """Reference data by id: location (code, physical), item code, batch (number, expiry),
    the code and the id of each batch's item."""

    locations: dict[int, tuple[str, bool]]
    items: dict[int, str]
    batches: dict[int, tuple[str, dt.date | None]]
    batch_items: dict[int, str]
    batch_item_ids: dict[int, int]


class Built(NamedTuple):
    """The journal's arrays and what the replay and the chain need besides.

    transactions: the columns as read, types made plain (ints int64, texts string).
    days: the distinct transaction dates, parsed; day_index: each transaction's among them.
    posting_days, raw_days: each posting's and each transaction's date as stored.
    accounts: the code triple of each account number; running_accounts[j + 1]: how many of
    them the running dict holds after transaction j ([0]: at the start).
    posting_order: the postings kept, as indexes into those read; location, item, batch: each
    one's ids; id_triples: the distinct (location, item, batch) ids, id_account: each posting's
    index among them, id_number: each one's account number.
    """

    journal: Journal
    transactions: pa.Table
    days: list[dt.date]
    day_index: np.ndarray
    posting_days: pa.Array
    raw_days: pa.Array
    accounts: list[AccountCodes]
    running_accounts: np.ndarray
    posting_order: np.ndarray | slice  # a slice when every posting is kept, in order
    location: np.ndarray
    item: np.ndarray
    batch: np.ndarray
    id_triples: np.ndarray
    id_account: np.ndarray
    id_number: np.ndarray


def plain(table: pa.Table, required: tuple[str, ...] = ()) -> pa.Table:
    """Integer columns as int64 and texts as strings, or `UnusualColumns`."""
    columns = {}
    for name in table.column_names:
        column = table.column(name)  # chunks kept: copied whole only where an array is needed
        if column.null_count == len(column):  # nothing to type it by: SQLite says int64
            column = pa.chunked_array([pa.nulls(len(column), _TYPE.get(name, column.type))])
        kind = column.type
        if name in _INTEGER + _NUMBERS + _PEOPLE + ("close_id", "on_hand", "sequence"):
            if not (pa.types.is_integer(kind) or pa.types.is_null(kind)):
                raise UnusualColumns(f"{name} is {kind}")
            column = column.cast(pa.int64())
        elif name in _TEXTS:
            if not (pa.types.is_string(kind) or pa.types.is_null(kind)):
                raise UnusualColumns(f"{name} is {kind}")
            column = column.cast(pa.string())
        elif name == "occurred_on" and not (pa.types.is_string(kind) or pa.types.is_date32(kind)):
            raise UnusualColumns(f"{name} is {kind}")
        if name in required and column.null_count:
            raise UnusualColumns(f"{name} has nulls")
        columns[name] = column
    return pa.table(columns)


def integers(column: pa.Array) -> np.ndarray:
    """An integer column as int64, NONE for null."""
    return pc.fill_null(column, NONE).to_numpy(zero_copy_only=False).astype(np.int64)


def _array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def parse_days(raw: pa.Array) -> tuple[np.ndarray, list[dt.date]]:
    """Each stored date as (index into the distinct dates, the distinct dates parsed)."""
    encoded = pc.dictionary_encode(_array(raw))
    days = []
    for value in encoded.dictionary.to_pylist():
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError as error:
                raise UnusualColumns(f"date {value!r}") from error
        days.append(value)
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), days


def build(
    transactions: pa.Table,
    postings: pa.Table,
    codes: Codes,
    scope: frozenset[str] | None,
    start: dict[AccountCodes, int],
) -> Built:
    """The arrays for transactions and postings read in chain order (postings of no
    transaction read are left out, as the reference's merge leaves them)."""
    tx = plain(transactions, ("id", "number", "kind", "occurred_on", "location_id", "hash"))
    posts = plain(postings, ("transaction_id", "location_id", "item_id", "batch_id", "quantity"))
    sequence = integers(tx.column("id"))
    if len(sequence) == 0 or posts.num_rows == 0:
        raise UnusualColumns("no transactions or no postings")
    day_index, days = parse_days(tx.column("occurred_on"))
    day_numbers = np.array([day.toordinal() - EPOCH for day in days], dtype=np.int64)
    location_ids = integers(tx.column("location_id"))
    in_scope = _in_scope(location_ids, codes, scope)
    kinds = tx.column("kind")
    refusing = pc.is_in(kinds, pa.array([kind.value for kind in KINDS_REFUSING_EXPIRED]))
    reversal = pc.equal(kinds, TransactionKind.reversal.value)

    stored_tx = integers(posts.column("transaction_id"))
    row = np.searchsorted(sequence, stored_tx)
    kept = (row < len(sequence)) & (sequence[np.minimum(row, len(sequence) - 1)] == stored_tx)
    # (every posting kept, the usual case: a slice, no copy)
    order = slice(None) if kept.all() else np.flatnonzero(kept)
    posting_tx = row[order]
    location = integers(posts.column("location_id"))[order]
    item = integers(posts.column("item_id"))[order]
    batch = integers(posts.column("batch_id"))[order]
    counted = in_scope[posting_tx] & _at(location, codes, scope)
    ids, id_account = id_accounts(location, item, batch)
    accounts, id_number, pair, running = _accounts(
        (ids, id_account), counted, posting_tx, codes, start, len(sequence)
    )
    posting_days = posts.column("occurred_on")
    if not isinstance(order, slice):
        posting_days = posting_days.take(pa.array(order))
    raw_days = tx.column("occurred_on")
    misdated = pc.not_equal(posting_days, raw_days.take(pa.array(posting_tx)))
    journal = Journal(
        sequence=sequence,
        version=integers(tx.column("chain_version")),
        day=day_numbers[day_index],
        in_scope=in_scope,
        refuses_expired=refusing.to_numpy(zero_copy_only=False),
        reversal=reversal.to_numpy(zero_copy_only=False),
        reverses=integers(tx.column("reverses_id")),
        people=np.column_stack([integers(tx.column(name)) for name in _PEOPLE]),
        posting_tx=posting_tx,
        account=id_number[id_account],
        pair=pair,
        quantity=integers(posts.column("quantity"))[order],
        balance=integers(posts.column("balance_after"))[order],
        counted=counted,
        physical=_lookup(location, {k: v[1] for k, v in codes.locations.items()}, bool),
        expires=_expiries(batch, codes),
        misdated=pc.fill_null(misdated, True).to_numpy(zero_copy_only=False),
        start=np.array([start.get(a, 0) for a in accounts], dtype=np.int64),
    )
    return Built(
        journal,
        tx,
        days,
        day_index,
        posting_days,
        raw_days,
        accounts,
        running,
        order,
        location,
        item,
        batch,
        ids,
        id_account,
        id_number,
    )


def _in_scope(location_ids: np.ndarray, codes: Codes, scope: frozenset[str] | None) -> np.ndarray:
    if scope is None:
        return np.ones(len(location_ids), dtype=bool)
    inside = {id_: code in scope for id_, (code, _) in codes.locations.items()}
    return _lookup(location_ids, inside, bool)


def _at(location: np.ndarray, codes: Codes, scope: frozenset[str] | None) -> np.ndarray:
    """Postings at a location in scope (every one without a scope)."""
    return _in_scope(location, codes, scope)


def _lookup(ids: np.ndarray, values: dict, kind: type) -> np.ndarray:
    """values[id] for each id, or `UnusualColumns` for an id it does not hold."""
    if len(ids) == 0:
        return np.zeros(0, dtype=kind)
    largest = int(ids.max())
    if ids.min() < 0 or largest > 4 * (len(values) + 1_000_000):
        raise UnusualColumns("ids out of range")
    table: np.ndarray = np.zeros(largest + 1, dtype=kind)
    present = np.zeros(largest + 1, dtype=bool)
    for id_, value in values.items():
        if 0 <= id_ <= largest:
            table[id_], present[id_] = value, True
    if not present[ids].all():
        raise UnusualColumns("an id no table holds")
    return table[ids]


def _expiries(batch: np.ndarray, codes: Codes) -> np.ndarray:
    days = {
        id_: NONE if expires is None else expires.toordinal() - EPOCH
        for id_, (_, expires) in codes.batches.items()
    }
    return _lookup(batch, days, np.int64)


def id_accounts(
    location: np.ndarray, item: np.ndarray, batch: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (location, item, batch) id triples, in order, as a (n, 3) array, and each
    posting's index among them (in linear time: item × batch pairs first, then locations)."""
    width_batch = int(batch.max()) + 1
    if (int(item.max()) + 1) * width_batch >= 1 << 62:
        raise UnusualColumns("ids too wide to combine")
    pairs, pair = factorize(item * width_batch + batch)
    if (int(location.max()) + 1) * len(pairs) >= 1 << 62:
        raise UnusualColumns("ids too wide to combine")
    keys, account = factorize(location * len(pairs) + pair)
    place, chosen = np.divmod(keys, len(pairs))
    items, batches = np.divmod(pairs[chosen], width_batch)
    return np.column_stack([place, items, batches]), account


def _accounts(
    id_accounts: tuple[np.ndarray, np.ndarray],
    counted: np.ndarray,
    posting_tx: np.ndarray,
    codes: Codes,
    start: dict[AccountCodes, int],
    transactions: int,
) -> tuple[list[AccountCodes], np.ndarray, np.ndarray, np.ndarray]:
    """(code triple of each account number, each id triple's account number, each posting's
    item × batch number, how many accounts the running dict holds after each transaction)."""
    ids, inverse = id_accounts
    names = (
        _names(ids[:, 0], {id_: code for id_, (code, _) in codes.locations.items()}),
        _names(ids[:, 1], codes.items),
        _names(ids[:, 2], {id_: number for id_, (number, _) in codes.batches.items()}),
    )
    triples: list[AccountCodes] = list(zip(*names, strict=True))
    first = np.full(len(ids), len(inverse), dtype=np.int64)
    counted_at = np.flatnonzero(counted)
    np.minimum.at(first, inverse[counted_at], counted_at)
    if start or len(set(triples)) < len(triples):
        accounts, id_number, firsts = _numbered_by_codes(triples, first, start)
    else:  # one account per id triple (the usual case): numbered by their first postings
        order = np.argsort(first, kind="stable")
        accounts = [triples[i] for i in order.tolist()]
        id_number = np.empty(len(ids), dtype=np.int64)
        id_number[order] = np.arange(len(ids))
        firsts = first[order]
    firsts = firsts[firsts < len(inverse)]
    _, pair = factorize(ids[:, 1] * (int(ids[:, 2].max()) + 1) + ids[:, 2])
    named: dict[tuple[str, str], int] = {}
    pair_names = [(triples[i][1], triples[i][2]) for i in np.unique(pair, return_index=True)[1]]
    pair_number = np.array([named.setdefault(name, len(named)) for name in pair_names])
    after = np.searchsorted(posting_tx[firsts], np.arange(transactions), "right")
    running = np.concatenate(([len(start)], len(start) + after))
    return accounts, id_number, pair_number[pair][inverse], running


def _names(ids: np.ndarray, names: dict[int, str]) -> list[str]:
    """The name of each id, or `UnusualColumns` for an id no table holds."""
    found = [names.get(id_) for id_ in ids.tolist()]
    if None in found:
        raise UnusualColumns("an id no table holds")
    return found  # type: ignore[return-value]


def _numbered_by_codes(
    triples: list[AccountCodes], first: np.ndarray, start: dict[AccountCodes, int]
) -> tuple[list[AccountCodes], np.ndarray, np.ndarray]:
    """Accounts numbered as the running dict inserts them: the start's, then by first posting
    (several id triples may name one account by codes)."""
    number: dict[AccountCodes, int] = {account: n for n, account in enumerate(start)}
    earliest: dict[AccountCodes, int] = {}
    for triple, position in zip(triples, first.tolist(), strict=True):
        earliest[triple] = min(earliest.get(triple, position), position)
    fed = sorted(
        (position, triple) for triple, position in earliest.items() if triple not in number
    )
    for _, triple in fed:
        number[triple] = len(number)
    id_number = np.array([number[t] for t in triples], dtype=np.int64)
    return list(number), id_number, np.array([position for position, _ in fed], dtype=np.int64)
