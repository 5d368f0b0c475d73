"""The queries behind the auditors' reports. Every figure comes from the postings (as-of
balances are one index lookup per account; movements are grouped sums over a date range) or
from the movement totals the posting path keeps beside them (`totals_moved`)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import (
    BigInteger,
    Connection,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from ledger.db import tables as t
from ledger.db.raw_reads import driver_tuples
from ledger.totals import DAY, YEAR, Piece

# Which figure column a movement adds into, by direction and transaction kind: for incoming
# (True) and outgoing (False), transaction kind -> column number.
Columns = dict[bool, dict[str, int]]
UNMAPPED = -1  # the column of a kind a direction has no column for

# What moved, as plain tuples of integers: (*account, column, quantity), the account being
# (location id, item id) or, by batch, (location id, item id, batch id), the quantity absolute.
# A year's summary at scale reads hundreds of thousands of them.
Movement = tuple[int, ...]


def _column(kind, incoming, columns: Columns):
    """The column number of a movement, worked out in the database (one CASE per row)."""
    return case(
        (incoming, case(columns[True], value=kind, else_=UNMAPPED)),
        else_=case(columns[False], value=kind, else_=UNMAPPED),
    )


def physical_accounts_as_of(
    connection: Connection, path: str, as_of: dt.date, item_ids: list[int] | None = None
) -> dict[tuple[int, int, int], int]:
    """Balance at the end of `as_of` of every physical account under `path` (of these items)
    that had moved by then: its last running balance on or before the day, one index lookup per
    account."""
    b, p, loc = t.balances.c, t.postings.c, t.locations.c
    last = (
        select(p.balance_after)
        .where(
            p.location_id == b.location_id,
            p.item_id == b.item_id,
            p.batch_id == b.batch_id,
            p.occurred_on <= as_of,
        )
        .order_by(p.id.desc())
        .limit(1)
        .correlate(t.balances)
        .scalar_subquery()
    )
    query = (
        select(b.location_id, b.item_id, b.batch_id, last)
        .join(t.locations, loc.id == b.location_id)
        .where(loc.physical.is_(True), loc.path.startswith(path, autoescape=True))
    )
    if item_ids is not None:
        query = query.where(b.item_id.in_(item_ids))
    return {
        (row[0], row[1], row[2]): row[3] for row in connection.execute(query) if row[3] is not None
    }


def net_after(
    connection: Connection, path: str, after: dt.date, item_ids: list[int] | None = None
) -> dict[tuple[int, int, int], int]:
    """The net of the postings dated after `after`, per physical account under `path`."""
    p, loc = t.postings.c, t.locations.c
    query = (
        select(p.location_id, p.item_id, p.batch_id, func.sum(p.quantity))
        .join(t.locations, loc.id == p.location_id)
        .where(
            p.occurred_on > after,
            loc.physical.is_(True),
            loc.path.startswith(path, autoescape=True),
        )
        .group_by(p.location_id, p.item_id, p.batch_id)
    )
    if item_ids is not None:
        query = query.where(p.item_id.in_(item_ids))
    return {(row[0], row[1], row[2]): row[3] for row in connection.execute(query)}


def _physical_under(path: str):
    loc = t.locations.c
    return [loc.physical.is_(True), loc.path.startswith(path, autoescape=True)]


def dated_movements(
    connection: Connection,
    path: str,
    after: dt.date,
    through: dt.date,
    columns: Columns,
    item_id: int | None = None,
    by_batch: bool = True,
) -> list[Movement]:
    """Postings at physical accounts under `path` dated after `after` up to and including
    `through`, summed per account (or location × item) and column. Read through the
    transactions' date index (both bounds let SQLite's planner choose it), so a short range is
    cheap."""
    p, tx = t.postings.c, t.transactions.c
    conditions = [tx.occurred_on > after, tx.occurred_on <= through, *_physical_under(path)]
    if item_id is not None:
        conditions.append(p.item_id == item_id)
    account = [p.location_id, p.item_id] + ([p.batch_id] if by_batch else [])
    moved = (
        select(
            *account,
            _column(tx.kind, p.quantity > 0, columns).label("figure"),
            func.abs(p.quantity).label("quantity"),
        )
        .select_from(t.transactions)
        .join(t.postings, p.transaction_id == tx.id)
        .join(t.locations, t.locations.c.id == p.location_id)
        .where(*conditions)
        .subquery()
    )
    keys = [moved.c[column.name] for column in account] + [moved.c.figure]
    return driver_tuples(
        connection,
        select(*keys, cast(func.sum(moved.c.quantity), BigInteger)).group_by(*keys),
    )


def close_movements(
    connection: Connection,
    close_id: int,
    path: str,
    columns: Columns,
    item_id: int | None = None,
    by_batch: bool = True,
) -> list[Movement]:
    """What a period close keeps: everything dated up to its last day, per account (or location
    × item), kind and direction, for physical accounts under `path`, each row with its column.
    Rows are read as kept and then filtered by location in Python, which spares a join per row."""
    m = (t.close_movements if by_batch else t.close_item_movements).c
    under = set(
        connection.execute(select(t.locations.c.id).where(*_physical_under(path))).scalars()
    )
    conditions = [m.close_id == close_id]
    if item_id is not None:
        conditions.append(m.item_id == item_id)
    account = [m.location_id, m.item_id] + ([m.batch_id] if by_batch else [])
    rows = driver_tuples(
        connection,
        select(*account, _column(m.kind, m.incoming, columns), m.quantity).where(*conditions),
    )
    return [row for row in rows if row[0] in under]


def totals_moved(
    connection: Connection,
    path: str,
    plan: list[Piece],
    columns: Columns,
    item_id: int | None = None,
    by_batch: bool = True,
) -> list[Movement]:
    """What moved at the physical accounts under `path` (or the location × item), per column,
    as the signed sum of the movement totals of `plan` (ledger/totals.py): each set of totals
    one range of a table's key — by location × item, the months and years per location × item
    — summed and grouped by the database."""
    if not plan:
        return []
    under = select(t.locations.c.id).where(*_physical_under(path))
    parts = []
    for piece in plan:
        per_item = not by_batch and piece.grain != DAY
        m = (t.item_movement_totals if per_item else t.movement_totals).c
        account = [m.location_id, m.item_id] + ([m.batch_id] if by_batch else [])
        conditions = [
            m.grain == piece.grain,
            m.starts_on >= piece.first,
            m.starts_on <= piece.last,
            m.location_id.in_(under),
        ]
        if item_id is not None:
            conditions.append(m.item_id == item_id)
        quantity = m.quantity if piece.sign > 0 else -m.quantity
        parts.append(
            select(
                *account,
                _column(m.kind, m.incoming, columns).label("figure"),
                quantity.label("quantity"),
            ).where(*conditions)
        )
    moved = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    keys = [moved.c.location_id, moved.c.item_id]
    keys += [moved.c.batch_id] if by_batch else []
    keys.append(moved.c.figure)
    total = cast(func.sum(moved.c.quantity), BigInteger)
    return driver_tuples(
        connection, select(*keys, total).group_by(*keys).having(total != literal(0))
    )


def first_totals_day(connection: Connection) -> dt.date | None:
    """The first day of the earliest year with movement totals."""
    m = t.movement_totals.c
    first = connection.execute(select(func.min(m.starts_on)).where(m.grain == YEAR)).scalar()
    return dt.date.fromisoformat(first) if isinstance(first, str) else first


def first_day(connection: Connection) -> dt.date | None:
    """The earliest day any transaction is dated."""
    return connection.execute(select(func.min(t.transactions.c.occurred_on))).scalar()


class CardLine(NamedTuple):
    occurred_on: dt.date
    number: str
    kind: str
    memo: str
    counterparty_id: int | None
    quantity: int
    balance_after: int
    chain_version: int
    maker_id: int | None


def stock_card(
    connection: Connection,
    location_id: int,
    item_id: int,
    batch_id: int,
    date_from: dt.date,
    date_to: dt.date,
) -> tuple[int, list[CardLine]]:
    """An account's opening balance (end of the day before `date_from`) and its postings in
    the range, in order."""
    p, tx = t.postings.c, t.transactions.c
    account = [p.location_id == location_id, p.item_id == item_id, p.batch_id == batch_id]
    opening = connection.execute(
        select(p.balance_after)
        .where(*account, p.occurred_on < date_from)
        .order_by(p.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    rows = connection.execute(
        select(
            tx.occurred_on,
            tx.number,
            tx.kind,
            tx.memo,
            tx.counterparty_id,
            p.quantity,
            p.balance_after,
            tx.chain_version,
            tx.maker_id,
        )
        .join(t.transactions, tx.id == p.transaction_id)
        .where(*account, p.occurred_on >= date_from, p.occurred_on <= date_to)
        .order_by(p.id)
    )
    return opening or 0, [CardLine(*row) for row in rows]


class InTransit(NamedTuple):
    number: str
    occurred_on: dt.date
    source_id: int
    destination_id: int
    item_id: int
    batch_id: int
    quantity: int


def in_transit(connection: Connection, path: str) -> list[InTransit]:
    """Issues and transfers from or to `path`'s subtree not (or no longer) confirmed and not
    reversed, oldest first."""
    tx, p = t.transactions.c, t.postings.c
    confirmation = aliased(t.transactions)
    undo = aliased(t.transactions)
    undo_confirmation = aliased(t.transactions)
    source = aliased(t.locations)
    destination = aliased(t.locations)
    confirmed = exists().where(
        confirmation.c.shipment_id == tx.id,
        confirmation.c.kind == "confirmation",
        ~exists().where(undo_confirmation.c.reverses_id == confirmation.c.id),
    )
    reversed_ = exists().where(undo.c.reverses_id == tx.id)
    rows = connection.execute(
        select(
            tx.number,
            tx.occurred_on,
            tx.location_id,
            tx.counterparty_id,
            p.item_id,
            p.batch_id,
            p.quantity,
        )
        .join(t.postings, p.transaction_id == tx.id)
        .join(
            t.locations, and_(t.locations.c.id == p.location_id, t.locations.c.code == "in-transit")
        )
        .join(source, source.c.id == tx.location_id)
        .join(destination, destination.c.id == tx.counterparty_id)
        .where(
            tx.kind.in_(("issue", "transfer")),
            ~confirmed,
            ~reversed_,
            source.c.path.startswith(path, autoescape=True)
            | destination.c.path.startswith(path, autoescape=True),
        )
        .order_by(tx.occurred_on, tx.id)
    )
    return [InTransit(*row) for row in rows]


def villages_reached(
    connection: Connection, path: str, item_id: int, date_from: dt.date, date_to: dt.date
) -> tuple[list[int], set[int]]:
    """The villages under `path`, and those that received the item in the range."""
    loc, p = t.locations.c, t.postings.c
    villages = list(
        connection.execute(
            select(loc.id)
            .where(loc.level == "village", loc.path.startswith(path, autoescape=True))
            .order_by(loc.path)
        ).scalars()
    )
    reached = set(
        connection.execute(
            select(p.location_id)
            .join(t.locations, loc.id == p.location_id)
            .where(
                loc.level == "village",
                loc.path.startswith(path, autoescape=True),
                p.item_id == item_id,
                p.quantity > 0,
                p.occurred_on >= date_from,
                p.occurred_on <= date_to,
            )
            .distinct()
        ).scalars()
    )
    return villages, reached


def expiring(
    connection: Connection, path: str, until: dt.date
) -> list[tuple[int, int, int, int, dt.date]]:
    """Stock on hand under `path` of batches expiring on or before `until`."""
    b, batch, loc = t.balances.c, t.batches.c, t.locations.c
    rows = connection.execute(
        select(b.location_id, b.item_id, b.batch_id, b.on_hand, batch.expires_on)
        .join(t.batches, batch.id == b.batch_id)
        .join(t.locations, loc.id == b.location_id)
        .where(
            b.on_hand > 0,
            loc.physical.is_(True),
            loc.path.startswith(path, autoescape=True),
            batch.expires_on.is_not(None),
            batch.expires_on <= until,
        )
        .order_by(batch.expires_on, loc.path)
    )
    return [tuple(row) for row in rows]
