"""Storage of period closes (月结) and their closing balances."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import Connection, func, insert, literal, select, union_all

from ledger.db import tables as t
from ledger.db.queries import driver_tuples
from ledger.db.store import LedgerStore

_C, _B = t.period_closes.c, t.closing_balances.c


class CloseRow(NamedTuple):
    id: int
    period_end: dt.date
    sequence: int
    hash: str
    accounts: int
    closed_at: dt.datetime
    closed_by: int | None


def _close(row) -> CloseRow:
    values = list(row)
    values[1] = LedgerStore._read_date(values[1])
    return CloseRow(*values)


def closes(connection: Connection) -> list[CloseRow]:
    return [
        _close(row)
        for row in connection.execute(select(*t.period_closes.c).order_by(_C.period_end))
    ]


def last_close(connection: Connection) -> CloseRow | None:
    row = connection.execute(
        select(*t.period_closes.c).order_by(_C.period_end.desc()).limit(1)
    ).first()
    return _close(row) if row else None


def record_close(
    store: LedgerStore,
    period_end: dt.date,
    sequence: int,
    digest: str,
    actor: int | None,
) -> CloseRow:
    """Insert the close, copy every account's current balance into closing_balances, and keep
    the movements per kind dated up to `period_end` (the previous close's plus those since)."""
    previous = last_close(store.connection)
    close_id = store.connection.execute(
        insert(t.period_closes).returning(_C.id),
        {
            "period_end": period_end,
            "sequence": sequence,
            "hash": digest,
            "accounts": 0,
            "closed_at": dt.datetime.now(dt.UTC),
            "closed_by": actor,
        },
    ).scalar_one()
    copied = store.connection.exec_driver_sql(
        store._statement(
            "INSERT INTO closing_balances (close_id, location_id, item_id, batch_id, on_hand) "
            "SELECT ?, location_id, item_id, batch_id, on_hand FROM balances"
        ),
        (close_id,),
    ).rowcount
    store.connection.execute(
        t.period_closes.update().where(_C.id == close_id).values(accounts=copied)
    )
    _record_movements(store.connection, close_id, previous, period_end)
    if store.connection.dialect.name == "postgresql":  # plan reports on the rows just kept
        store.connection.exec_driver_sql("ANALYZE close_movements, close_item_movements")
    return _close(
        store.connection.execute(select(*t.period_closes.c).where(_C.id == close_id)).one()
    )


def _record_movements(
    connection: Connection, close_id: int, previous: CloseRow | None, period_end: dt.date
) -> None:
    m, p, tx, loc = t.close_movements.c, t.postings.c, t.transactions.c, t.locations.c
    # Both bounds, even for the first close: with only one SQLite's planner scans every posting
    # instead of reading the transactions' date index.
    since = previous.period_end if previous is not None else dt.date.min
    dated = [tx.occurred_on > since, tx.occurred_on <= period_end, loc.physical.is_(True)]
    moved_since = (
        select(
            p.location_id,
            p.item_id,
            p.batch_id,
            tx.kind,
            (p.quantity > 0).label("incoming"),
            func.abs(p.quantity).label("quantity"),
        )
        .select_from(t.transactions)
        .join(t.postings, p.transaction_id == tx.id)
        .join(t.locations, loc.id == p.location_id)
        .where(*dated)
    )
    parts = [moved_since]
    if previous is not None:
        parts.insert(
            0,
            select(m.location_id, m.item_id, m.batch_id, m.kind, m.incoming, m.quantity).where(
                m.close_id == previous.id
            ),
        )
    moved = union_all(*parts).subquery() if len(parts) > 1 else moved_since.subquery()
    keys = [moved.c.location_id, moved.c.item_id, moved.c.batch_id, moved.c.kind, moved.c.incoming]
    connection.execute(
        insert(t.close_movements).from_select(
            ["close_id", "location_id", "item_id", "batch_id", "kind", "incoming", "quantity"],
            select(literal(close_id), *keys, func.sum(moved.c.quantity)).group_by(*keys),
        )
    )
    by_item = [m.location_id, m.item_id, m.kind, m.incoming]
    connection.execute(
        insert(t.close_item_movements).from_select(
            ["close_id", "location_id", "item_id", "kind", "incoming", "quantity"],
            select(literal(close_id), *by_item, func.sum(m.quantity))
            .where(m.close_id == close_id)
            .group_by(*by_item),
        )
    )


def closing_balances(connection: Connection, close_id: int) -> dict[tuple[str, str, str], int]:
    """A close's balances by (location code, item code, batch number). Read by ids and named
    in Python: a close of a city holds hundreds of thousands of accounts."""
    locations = dict(connection.execute(select(t.locations.c.id, t.locations.c.code)).all())
    items = dict(connection.execute(select(t.items.c.id, t.items.c.code)).all())
    batches = dict(connection.execute(select(t.batches.c.id, t.batches.c.number)).all())
    rows = driver_tuples(
        connection,
        select(_B.location_id, _B.item_id, _B.batch_id, _B.on_hand).where(_B.close_id == close_id),
    )
    return {
        (locations[location], items[item], batches[batch]): on_hand
        for location, item, batch, on_hand in rows
    }


def transactions_after(connection: Connection, sequence: int) -> int:
    return connection.execute(
        select(func.count()).select_from(t.transactions).where(t.transactions.c.id > sequence)
    ).scalar_one()
