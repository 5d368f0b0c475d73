"""What each period close kept as movements, checked over arrays — the fast side of
`ledger.db.close_checks.MovementCheck`, for a verification from genesis.

The reference recomputes each close's movements (per location, item, batch, transaction kind,
in or out: the sum of the quantities moved at physical locations, by the transaction's date)
as its predecessor's plus the postings dated in its period, and compares them with the rows
the close stored (close_movements, and per item close_item_movements). Here the same sums are
dense arrays (numpy bincount over the postings of the period, in memory already) and the
comparison one array equality. This only says whether everything agrees: where anything
differs — or the data is not what the arrays take (a zero quantity, sums past 2^52, a row
naming ids no posting has) — the reference recomputes, and names each difference.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ledger.db.close_checks import ClosePosition, previous_of
from ledger.model import TransactionKind
from ledger.verify_columns import NONE, stable_order
from ledger.verify_journal import EPOCH, Built, integers

KINDS = tuple(kind.value for kind in TransactionKind)  # coded 1..n as the reference packs them
_CELLS = 32  # kinds (< 16) × in/out per account
EXACT_SUM_MAX = 1 << 51  # float64 sums of integers below 2^53 are exact (with a margin)


class Movements:
    """The postings by period, as the movement checks need them.

    built: the journal's arrays; paths: each location id's path; physical: each location id's
    physical flag."""

    def __init__(self, built: Built, paths: dict[int, str], physical: dict[int, bool]) -> None:
        journal = built.journal
        self.paths = paths
        width_item, width_batch = int(built.item.max()) + 1, int(built.batch.max()) + 1
        self.widths = (width_item, width_batch)
        ids, account = built.id_triples, built.id_account
        self.accounts = (ids[:, 0] * width_item + ids[:, 1]) * width_batch + ids[:, 2]  # sorted
        kinds = pc.index_in(built.transactions.column("kind"), pa.array(KINDS))
        kind = pc.fill_null(kinds, -1).to_numpy(zero_copy_only=False).astype(np.int64) + 1
        incoming = journal.quantity > 0
        self.cell = (account * 16 + kind[journal.posting_tx]) * 2 + incoming
        self.moved = np.abs(journal.quantity)
        self.valid = (
            bool((journal.quantity != 0).all())
            and float(self.moved.sum(dtype=np.float64)) < EXACT_SUM_MAX
        )
        self.location = built.location
        places = np.zeros(int(built.location.max()) + 1, dtype=bool)
        for id_, value in physical.items():
            if id_ < len(places):
                places[id_] = value
        self.is_physical = places[built.location]
        day = journal.day[journal.posting_tx]
        self.by_day = stable_order(day - day.min()) if len(day) else np.zeros(0, np.int64)
        self.days = day[self.by_day]
        locations = self.accounts // (width_item * width_batch)
        self.cell_location = np.repeat(locations, _CELLS)
        rest = self.accounts // width_batch
        self.items, item_of = np.unique(rest, return_inverse=True)  # location × item
        self.item_cell = np.repeat(item_of.reshape(-1) * _CELLS, _CELLS) + np.tile(
            np.arange(_CELLS), len(self.accounts)
        )
        self.under_cache: dict[str | None, np.ndarray] = {}

    def _under(self, path: str | None) -> np.ndarray:
        """Each location id (up to the largest posted at) under `path`, as a lookup table."""
        if path not in self.under_cache:
            largest = int(self.location.max()) + 1
            table = np.zeros(largest, dtype=bool)
            for id_, at in self.paths.items():
                if id_ < largest:
                    table[id_] = path is None or at.startswith(path)
            self.under_cache[path] = table
        return self.under_cache[path]

    def expected(
        self, close: ClosePosition, previous: ClosePosition | None, base: np.ndarray | None, path
    ) -> np.ndarray:
        """The close's movements by cell: the previous close's (filtered to `path` when it
        was another root's) and the postings dated in its period at `path`'s physical places."""
        cells = len(self.accounts) * _CELLS
        total = np.zeros(cells, dtype=np.int64)
        if base is not None:
            total += base
            if path is not None and (previous is None or previous.root_path != path):
                total[~self._under(path)[self.cell_location]] = 0
        since = previous.period_end.toordinal() - EPOCH if previous is not None else NONE
        until = close.period_end.toordinal() - EPOCH
        low, high = np.searchsorted(self.days, [since, until], side="right")
        chosen = self.by_day[low:high]
        chosen = chosen[self.is_physical[chosen] & self._under(path)[self.location[chosen]]]
        sums = np.bincount(self.cell[chosen], weights=self.moved[chosen], minlength=cells)
        return total + sums.astype(np.int64)

    def stored(self, rows: pa.Table, with_batch: bool, path: str | None) -> tuple | None:
        """A close's stored rows as (cells, quantities), or None when one names no account
        (or kind) the postings have."""
        location = integers(rows.column("location_id"))
        under = self._under(path)
        inside = np.zeros(len(location), dtype=bool)
        known = location < len(under)
        inside[known] = under[location[known]]
        if path is None:
            inside[:] = True
        width_item, width_batch = self.widths
        item = integers(rows.column("item_id"))
        key = location * width_item + item
        table = self.items
        if with_batch:
            key = key * width_batch + integers(rows.column("batch_id"))
            table = self.accounts
        spot = np.minimum(np.searchsorted(table, key), len(table) - 1)
        kinds = pc.index_in(rows.column("kind"), pa.array(KINDS))
        kind = pc.fill_null(kinds, -1).to_numpy(zero_copy_only=False).astype(np.int64) + 1
        incoming = integers(pc.cast(rows.column("incoming"), pa.int64()))
        found = (table[spot] == key) & (kind > 0) & ((incoming == 0) | (incoming == 1))
        if not found[inside].all():
            return None
        cells = (spot * 16 + kind) * 2 + incoming
        return cells[inside], integers(rows.column("quantity"))[inside]


def agree(
    movements: Movements,
    closes: list[ClosePosition],
    relevant: list[ClosePosition],
    root_path: str | None,
    rows: pa.Table,
    item_rows: pa.Table,
) -> bool:
    """Every relevant close's stored movements equal what the postings say (as
    `MovementCheck.differences` reports none)."""
    if not movements.valid:
        return False
    by_close = _split(rows)
    items_by_close = _split(item_rows)
    expected: dict[int, np.ndarray] = {}
    cells = len(movements.accounts) * _CELLS
    item_cells = len(movements.items) * _CELLS
    for close in relevant:
        previous = previous_of(close, closes)
        path = close.root_path or root_path
        base = expected.get(previous.id) if previous is not None else None
        if previous is not None and base is None:
            base = np.zeros(cells, dtype=np.int64)
        mine = movements.expected(close, previous, base, path)
        if previous is not None and previous.root_path == close.root_path:
            expected.pop(previous.id, None)
        expected[close.id] = mine
        stored = movements.stored(by_close.get(close.id, rows.slice(0, 0)), True, path)
        if stored is None or not _same(mine, *stored):
            return False
        per_item = np.bincount(movements.item_cell, weights=mine, minlength=item_cells)
        stored_items = movements.stored(
            items_by_close.get(close.id, item_rows.slice(0, 0)), False, path
        )
        if stored_items is None or not _same(per_item.astype(np.int64), *stored_items):
            return False
    return True


def _same(expected: np.ndarray, cells: np.ndarray, quantities: np.ndarray) -> bool:
    """The stored (cell, quantity) rows are exactly the expected cells present (above 0)."""
    present = np.flatnonzero(expected)
    if len(cells) != len(present):
        return False
    order = np.argsort(cells, kind="stable")
    return bool(np.array_equal(cells[order], present)) and bool(
        np.array_equal(quantities[order], expected[present])
    )


def _split(rows: pa.Table) -> dict[int, pa.Table]:
    """A table's rows by close id."""
    close_id = integers(rows.column("close_id"))
    order = np.argsort(close_id, kind="stable")
    ordered = rows.take(pa.array(order))
    ids = close_id[order]
    if not len(ids):
        return {}
    bounds = np.flatnonzero(np.diff(ids, prepend=ids[:1] - 1, append=ids[-1:] + 1)).tolist()
    return {
        int(ids[start]): ordered.slice(start, end - start)
        for start, end in itertools.pairwise(bounds)
    }
