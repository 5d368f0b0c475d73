"""Storage of period closes (月结) and their closing balances."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import Connection, and_, func, insert, literal, or_, select, union_all

from ledger.db import tables as t
from ledger.db.queries import account_codes, driver_tuples, open_reservations
from ledger.db.store import LedgerStore
from ledger.verify import AccountCodes, StoredBalance

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


def _touched_after(after: int):
    """The accounts with postings after sequence `after`."""
    p = t.postings.c
    # Read by the index on the sequence first (a CTE kept as written): asked for distinct
    # accounts at once, SQLite scans the whole account index in order instead.
    after_rows = (
        select(p.location_id, p.item_id, p.batch_id)
        .where(p.transaction_id > after)
        .cte("posted_after")
        .prefix_with("MATERIALIZED")
    )
    return select(after_rows).distinct().subquery("touched")


def _same_account(a, b):
    return and_(a.location_id == b.location_id, a.item_id == b.item_id, a.batch_id == b.batch_id)


def closing_balances(
    connection: Connection, close_id: int, touched_after: int | None = None
) -> dict[AccountCodes, int]:
    """A close's balances by (location code, item code, batch number) — with `touched_after`,
    only those of accounts with postings after that sequence. Read by ids and named in Python:
    a close of a city holds hundreds of thousands of accounts."""
    locations, batches = account_codes(connection)
    query = select(_B.location_id, _B.batch_id, _B.on_hand).where(_B.close_id == close_id)
    if touched_after is not None:
        touched = _touched_after(touched_after)
        query = query.select_from(touched.join(t.closing_balances, _same_account(_B, touched.c)))
    return {
        (locations[location], *batches[batch]): on_hand
        for location, batch, on_hand in driver_tuples(connection, query)
    }


def balances_to_check(
    connection: Connection, close_id: int, after: int
) -> tuple[list[StoredBalance], dict[AccountCodes, int]]:
    """What a verification since a close compares its sums with: of the stored balances, those
    of the accounts with postings after sequence `after`, and of the rest only those that differ
    from the close's balance or fail a check of their own (below zero at a physical place, more
    reserved than on hand, reserved unlike the open reservations); and the close's balances of
    every account returned or, no longer stored, held stock at the close. Every other account
    is unchanged since the close and correct: found in the database, not read out of it."""
    b, c, location = t.balances.c, _B, t.locations.c
    touched = _touched_after(after)
    open_reserved = open_reservations()
    rows = driver_tuples(
        connection,
        select(
            b.location_id,
            b.item_id,
            b.batch_id,
            location.physical,
            b.on_hand,
            b.reserved,
            func.coalesce(open_reserved.c.open, 0),
            c.close_id,
            c.on_hand,
        )
        .select_from(t.balances)
        .join(t.locations, location.id == b.location_id)
        .outerjoin(t.closing_balances, and_(c.close_id == close_id, _same_account(c, b)))
        .outerjoin(open_reserved, _same_account(open_reserved.c, b))
        .outerjoin(touched, _same_account(touched.c, b))
        .where(
            or_(
                touched.c.location_id.is_not(None),
                b.on_hand != func.coalesce(c.on_hand, 0),
                b.reserved != func.coalesce(open_reserved.c.open, 0),
                b.reserved < 0,
                and_(location.physical, or_(b.on_hand < 0, b.reserved > b.on_hand)),
            )
        ),
    )
    gone = driver_tuples(
        connection,
        select(c.location_id, c.item_id, c.batch_id, c.on_hand)
        .select_from(t.closing_balances)
        .outerjoin(t.balances, _same_account(b, c))
        .where(c.close_id == close_id, c.on_hand != 0, b.location_id.is_(None)),
    )
    locations, batches = account_codes(connection)
    stored, kept = [], {}
    for location_id, _, batch, physical, on_hand, reserved, open_, closed, at_close in rows:
        code, item_code, number = account = (locations[location_id], *batches[batch])
        stored.append(
            StoredBalance(code, bool(physical), item_code, number, on_hand, reserved, int(open_))
        )
        if closed is not None:
            kept[account] = at_close
    for location_id, _, batch, at_close in gone:
        kept[(locations[location_id], *batches[batch])] = at_close
    return stored, kept


def transactions_after(connection: Connection, sequence: int) -> int:
    return connection.execute(
        select(func.count()).select_from(t.transactions).where(t.transactions.c.id > sequence)
    ).scalar_one()
