"""The reconciliation core (帐物相符): book balances against counted quantities. Pure: no I/O.

Lines are keyed by (location, item, batch) storage ids. Every key on either side gets one
outcome:

- `match` (相符): counted equals the book;
- `gain` (盘盈): counted more than the book; `loss` (盘亏): counted less;
- `not_counted` (未盘): on the books, not counted (a blind count still open, or a line the
  counters missed): reported with a difference of 0, never a loss. A line becomes a loss to
  zero only when it is counted as 0 — `uncounted` lists the lines to count as 0 when the
  counters declare a place fully counted. (`missing_counts_are_zero` treats every missing count
  as 0 at once; the ledger's stocktakes never use it.)
- `not_on_books`: counted, but the books have no such line (a gain from zero).

The match rate (帐物相符率) of a location is its matching lines over its lines that were judged
(every line, except `not_counted` ones while the count is not final); it passes when it is at or
above the threshold (the seeds' offices require 98%). All of it is vectorised with numpy: no
Python loop over lines.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

MATCH, GAIN, LOSS, NOT_COUNTED, NOT_ON_BOOKS = 0, 1, 2, 3, 4
OUTCOMES = ("match", "gain", "loss", "not_counted", "not_on_books")
OUTCOME_NAMES = ("相符", "盘盈", "盘亏", "未盘", "账外")
DEFAULT_THRESHOLD = 0.98
ID_BITS = 21  # item and batch ids below 2**21, location ids below 2**21: one int64 key


class Lines(NamedTuple):
    """Quantities per account, as parallel integer arrays (one element per line)."""

    location: np.ndarray
    item: np.ndarray
    batch: np.ndarray
    quantity: np.ndarray

    @classmethod
    def of(cls, rows) -> Lines:
        """From (location id, item id, batch id, quantity) tuples."""
        array = np.asarray(list(rows), dtype=np.int64).reshape(-1, 4)
        return cls(array[:, 0], array[:, 1], array[:, 2], array[:, 3])


class LocationSummary(NamedTuple):
    location: int
    lines: int  # judged lines
    matched: int
    gains: int
    losses: int
    not_counted: int
    not_on_books: int
    rate: float  # matched / lines; 1.0 when nothing was judged
    passed: bool


class Reconciliation(NamedTuple):
    """Per line (sorted by key): ids, book and counted quantities, difference, outcome code."""

    location: np.ndarray
    item: np.ndarray
    batch: np.ndarray
    book: np.ndarray
    counted: np.ndarray
    difference: np.ndarray  # counted − book (盘盈 > 0, 盘亏 < 0)
    outcome: np.ndarray
    by_location: tuple[LocationSummary, ...]
    lines: int
    matched: int
    rate: float
    threshold: float
    passed: bool


def _keys(lines: Lines) -> np.ndarray:
    for name, values in (
        ("location", lines.location),
        ("item", lines.item),
        ("batch", lines.batch),
    ):
        if values.size and (values.min() < 0 or values.max() >= 1 << ID_BITS):
            raise ValueError(f"{name} ids must lie in [0, 2**{ID_BITS})")
    return (lines.location << (2 * ID_BITS)) | (lines.item << ID_BITS) | lines.batch


def _summed(keys: np.ndarray, quantity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique keys and the quantities added up per key (several counters, several scans)."""
    unique, inverse = np.unique(keys, return_inverse=True)
    totals = np.zeros(unique.size, dtype=np.int64)
    np.add.at(totals, inverse, quantity)
    return unique, totals


def uncounted(book: Lines, counted: Lines, locations) -> Lines:
    """The lines on the books at `locations` (location ids) with a quantity but no count: what
    a declaration "everything else here is zero" counts as 0."""
    book_keys, book_qty = _summed(_keys(book), book.quantity.astype(np.int64))
    count_keys = np.unique(_keys(counted))
    places = np.asarray(list(locations), dtype=np.int64)
    chosen = (
        ~np.isin(book_keys, count_keys, assume_unique=True)
        & np.isin(book_keys >> (2 * ID_BITS), places)
        & (book_qty != 0)
    )
    keys = book_keys[chosen]
    mask = (1 << ID_BITS) - 1
    return Lines(
        keys >> (2 * ID_BITS),
        (keys >> ID_BITS) & mask,
        keys & mask,
        np.zeros(keys.size, dtype=np.int64),
    )


def reconcile(
    book: Lines,
    counted: Lines,
    threshold: float = DEFAULT_THRESHOLD,
    missing_counts_are_zero: bool = False,
) -> Reconciliation:
    """Compare `book` with `counted`; see the module's text for the outcomes and the rate."""
    if not 0 <= threshold <= 1:
        raise ValueError("threshold must be between 0 and 1")
    book_keys, book_qty = _summed(_keys(book), book.quantity.astype(np.int64))
    count_keys, count_qty = _summed(_keys(counted), counted.quantity.astype(np.int64))
    keys = np.union1d(book_keys, count_keys)
    on_books = np.isin(keys, book_keys, assume_unique=True)
    was_counted = np.isin(keys, count_keys, assume_unique=True)
    book_all = np.zeros(keys.size, dtype=np.int64)
    book_all[on_books] = book_qty
    counted_all = np.zeros(keys.size, dtype=np.int64)
    counted_all[was_counted] = count_qty
    difference = counted_all - book_all
    outcome = np.full(keys.size, MATCH, dtype=np.int8)
    outcome[difference > 0] = GAIN
    outcome[difference < 0] = LOSS
    if not missing_counts_are_zero:
        outcome[~was_counted] = NOT_COUNTED
        difference[~was_counted] = 0
    outcome[~on_books & was_counted & (counted_all != 0)] = NOT_ON_BOOKS
    mask = (1 << ID_BITS) - 1
    location = keys >> (2 * ID_BITS)
    judged = outcome != NOT_COUNTED
    places, where = np.unique(location, return_inverse=True)
    counts = np.zeros((places.size, 5), dtype=np.int64)
    np.add.at(counts, (where, outcome), 1)
    judged_per_place = counts.sum(axis=1) - counts[:, NOT_COUNTED]
    rates = np.divide(
        counts[:, MATCH],
        judged_per_place,
        out=np.ones(places.size, dtype=np.float64),
        where=judged_per_place > 0,
    )
    summaries = tuple(
        LocationSummary(
            int(place),
            int(judged_per_place[i]),
            int(counts[i, MATCH]),
            int(counts[i, GAIN]),
            int(counts[i, LOSS]),
            int(counts[i, NOT_COUNTED]),
            int(counts[i, NOT_ON_BOOKS]),
            float(rates[i]),
            bool(rates[i] >= threshold),
        )
        for i, place in enumerate(places)
    )
    lines = int(judged.sum())
    matched = int((outcome == MATCH).sum())
    rate = matched / lines if lines else 1.0
    return Reconciliation(
        location,
        (keys >> ID_BITS) & mask,
        keys & mask,
        book_all,
        counted_all,
        difference,
        outcome,
        summaries,
        lines,
        matched,
        rate,
        threshold,
        rate >= threshold,
    )
