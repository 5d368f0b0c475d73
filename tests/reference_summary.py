"""The 收发存汇总表 as it was computed before the movement totals, kept as a reference for tests:
from the postings (as-of balances at both ends and the postings dated in the period) or, where
the root has period closes, from the nearest close's kept movements plus the postings between
it and each end of the period. It shares the summing (`reports._Cells`) and the columns with
the report, not where the figures come from."""

from __future__ import annotations

import datetime as dt

import numpy as np

from ledger.db import closes
from ledger.db import report_queries as rq
from ledger.db.store import LedgerStore
from ledger.services import reports
from ledger.services.report_common import item_id_of


class _Cells(reports._Cells):
    def balances(self, balances: dict[tuple[int, int, int], int], column: int) -> None:
        """Balances of accounts (location, item, batch) put in `column`."""
        if balances:
            keys = np.array(list(balances), dtype=np.int64)[:, : self.key_width]
            self.parts.append((keys, column, np.fromiter(balances.values(), np.int64)))


def _cumulative(store, recorded, cells, side, path, day, item_id, by_batch) -> None:
    """Everything dated up to the end of `day` into `cells` as `side`, taken from the nearest
    of the `recorded` period closes (there must be some) and the postings between it and `day`."""
    connection = store.connection
    columns = reports._COLUMNS
    before = next((c for c in reversed(recorded) if c.period_end <= day), None)
    after = next((c for c in recorded if c.period_end >= day), None)
    if before is not None:
        start = before.period_end
    else:  # the day before the ledger's first acts as a close that holds nothing
        first = rq.first_day(connection)
        start = first - dt.timedelta(days=1) if first is not None else day
    forward = (day - start).days
    backward = (after.period_end - day).days if after is not None else None

    def kept(close):
        return rq.close_movements(connection, close.id, path, columns, item_id, by_batch)

    def dated(since, through):
        return rq.dated_movements(connection, path, since, through, columns, item_id, by_batch)

    if backward is None or forward <= backward:
        if before is not None:
            cells.moves(kept(before), 1, side)
        cells.moves(dated(start, day), 1, side)
    else:  # nearer the next close: what it keeps less what was dated after `day`
        cells.moves(kept(after), 1, side)
        cells.moves(dated(day, after.period_end), -1, side)


def summary_rows(
    store: LedgerStore,
    under: str,
    date_from: dt.date,
    date_to: dt.date,
    item_code: str | None = None,
    by_batch: bool = False,
) -> dict[tuple, dict[str, int]]:
    """What `reports.period_summary_rows` answered before the movement totals."""
    top = store.location(under, "under")
    item_id = item_id_of(store, item_code)
    day_before = date_from - dt.timedelta(days=1)
    cells = _Cells(3 if by_batch else 2)
    recorded = closes.closes(store.connection, store.location(top.path.split("/")[1]).id)
    width = len(reports.SUMMARY_KEYS)
    if recorded:
        _cumulative(store, recorded, cells, "start", top.path, day_before, item_id, by_batch)
        _cumulative(store, recorded, cells, "end", top.path, date_to, item_id, by_batch)
        accounts, figures = cells.table()
        moved = (figures[:, width] != 0) | (figures[:, width + 1] != 0)
        accounts, figures = accounts[moved], figures[moved]
    else:
        connection = store.connection
        item_ids = None if item_id is None else [item_id]
        at = reports.SUMMARY_KEYS.index
        for column, day in ((at("opening"), day_before), (at("closing"), date_to)):
            cells.balances(rq.physical_accounts_as_of(connection, top.path, day, item_ids), column)
        cells.moves(
            rq.dated_movements(
                connection, top.path, day_before, date_to, reports._COLUMNS, item_id, by_batch
            )
        )
        accounts, figures = cells.table()
    return {
        tuple(account): dict(zip(reports.SUMMARY_KEYS, values[:width], strict=True))
        for account, values in zip(accounts.tolist(), figures.tolist(), strict=True)
    }
