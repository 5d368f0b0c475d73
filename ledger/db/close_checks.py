"""Verification reads of what period closes (月结) kept, done in the database.

A close keeps its row (period end, chain position, how many balances), the balances at its
chain position (closing_balances) and the movements per kind up to its period end
(close_movements, and per location × item close_item_movements). Verification from genesis
recomputes every close's movements from the postings — a close's rows are the previous close's
plus what is dated after it, so each close is checked against the one before and the postings
of its own period, and every posting is read once whatever the number of closes. Verification
since a close checks the rows it reads: the close's chain position against the chain, and the
closing balances it starts from against the balances the postings recorded at that position.

The differences are found by SQL (EXCEPT both ways, a correlated lookup per account read), so
nothing is done in Python per posting or per account that agrees.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import Connection, and_, func, literal, or_, select, union_all

from ledger.db import tables as t
from ledger.db.queries import account_codes, driver_tuples

_C, _B, _M, _I = (
    t.period_closes.c,
    t.closing_balances.c,
    t.close_movements.c,
    t.close_item_movements.c,
)


class ClosePosition(NamedTuple):
    """A close as verification reads it. root_path: the path of the root (city) it closed, or
    None for a close of every root (made before roots were separate)."""

    id: int
    root_path: str | None
    period_end: dt.date
    sequence: int
    hash: str
    accounts: int


def positions(connection: Connection) -> list[ClosePosition]:
    """Every close, in chain order."""
    root = t.locations.alias("root")
    rows = connection.execute(
        select(_C.id, root.c.path, _C.period_end, _C.sequence, _C.hash, _C.accounts)
        .select_from(t.period_closes)
        .outerjoin(root, root.c.id == _C.root_id)
        .order_by(_C.sequence, _C.period_end, _C.id)
    )
    return [
        ClosePosition(close_id, path, _day(period_end), sequence, digest, accounts)
        for close_id, path, period_end, sequence, digest, accounts in rows
    ]


def previous_of(close: ClosePosition, closes: list[ClosePosition]) -> ClosePosition | None:
    """The close a close continued from, as it was made: the latest earlier close of its root
    or of every root (for a close of every root: the latest earlier close)."""
    earlier = [
        other
        for other in closes
        if (other.period_end, other.id) < (close.period_end, close.id)
        and (close.root_path is None or other.root_path in (None, close.root_path))
    ]
    return max(earlier, key=lambda other: (other.period_end, other.id), default=None)


def _under(path: str | None) -> list:
    loc = t.locations.c
    return [] if path is None else [loc.path.startswith(path, autoescape=True)]


def counted_accounts(connection: Connection, close: ClosePosition) -> int:
    """How many balances the close kept (its `accounts` says how many it wrote)."""
    return connection.execute(
        select(func.count()).select_from(t.closing_balances).where(_B.close_id == close.id)
    ).scalar_one()


Difference = tuple[str, int | None, int | None]  # (row named by codes, expected, found)


def movement_differences(
    connection: Connection,
    close: ClosePosition,
    previous: ClosePosition | None,
    path: str | None,
) -> tuple[list[Difference], list[Difference]]:
    """The rows of close_movements and of close_item_movements that differ from the previous
    close's movements plus the postings dated after it up to this close's period end, at the
    physical locations under `path` (None: every physical location)."""
    p, tx, loc = t.postings.c, t.transactions.c, t.locations.c
    since = previous.period_end if previous is not None else dt.date.min
    moved = (
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
        .where(
            tx.occurred_on > since,
            tx.occurred_on <= close.period_end,
            loc.physical.is_(True),
            *_under(path),
        )
    )
    parts = [moved]
    if previous is not None:
        kept = (
            select(_M.location_id, _M.item_id, _M.batch_id, _M.kind, _M.incoming, _M.quantity)
            .join(t.locations, loc.id == _M.location_id)
            .where(_M.close_id == previous.id, *_under(path))
        )
        parts.append(kept)
    both = union_all(*parts).subquery("recomputed")
    keys = [both.c.location_id, both.c.item_id, both.c.batch_id, both.c.kind, both.c.incoming]
    total = func.sum(both.c.quantity)
    if connection.dialect.name == "postgresql":  # SUM of a BIGINT is NUMERIC there
        total = func.cast(total, t.close_movements.c.quantity.type)
    expected = select(*keys, total.label("quantity")).group_by(*keys)
    stored = (
        select(_M.location_id, _M.item_id, _M.batch_id, _M.kind, _M.incoming, _M.quantity)
        .join(t.locations, loc.id == _M.location_id)
        .where(_M.close_id == close.id, *_under(path))
    )
    expected_rows = expected.subquery("expected")
    item_keys = [
        expected_rows.c.location_id,
        expected_rows.c.item_id,
        expected_rows.c.kind,
        expected_rows.c.incoming,
    ]
    item_total = func.sum(expected_rows.c.quantity)
    if connection.dialect.name == "postgresql":
        item_total = func.cast(item_total, t.close_item_movements.c.quantity.type)
    expected_items = select(*item_keys, item_total.label("quantity")).group_by(*item_keys)
    stored_items = (
        select(_I.location_id, _I.item_id, _I.kind, _I.incoming, _I.quantity)
        .join(t.locations, loc.id == _I.location_id)
        .where(_I.close_id == close.id, *_under(path))
    )
    locations, batches = account_codes(connection)
    items = dict(connection.execute(select(t.items.c.id, t.items.c.code)).all())

    def name_move(location_id, item_id, batch_id, kind, incoming) -> str:
        item_code, number = batches.get(batch_id, (items.get(item_id, f"#{item_id}"), "?"))
        return (
            f"{locations.get(location_id, f'#{location_id}')}/{item_code}/{number} "
            f"{kind} {'in' if incoming else 'out'}"
        )

    def name_item(location_id, item_id, kind, incoming) -> str:
        return (
            f"{locations.get(location_id, f'#{location_id}')}/{items.get(item_id, f'#{item_id}')} "
            f"{kind} {'in' if incoming else 'out'}"
        )

    return (
        _differences(connection, expected, stored, 5, name_move),
        _differences(connection, expected_items, stored_items, 4, name_item),
    )


def _differences(connection: Connection, expected, stored, width: int, name) -> list[Difference]:
    """Rows of `expected` not in `stored` and of `stored` not in `expected`, paired by key."""
    missing = driver_tuples(connection, expected.except_(stored))
    extra = driver_tuples(connection, stored.except_(expected))
    found: dict[tuple, list] = {}
    for row in missing:
        found.setdefault(_key(row[:width]), [None, None])[0] = row[width]
    for row in extra:
        found.setdefault(_key(row[:width]), [None, None])[1] = row[width]
    return [
        (name(*key), _int(expected_value), _int(found_value))
        for key, (expected_value, found_value) in sorted(found.items(), key=lambda kv: str(kv[0]))
    ]


def _key(values) -> tuple:
    return tuple(bool(value) if isinstance(value, bool) else value for value in values)


def _int(value) -> int | None:
    return None if value is None else int(value)


def closing_balance_differences(
    connection: Connection, close: ClosePosition, after: int
) -> list[Difference]:
    """Since a close: the closing balances a verification reads — of the accounts posted to
    after sequence `after`, and of those whose stored balance is unlike the close's or gone —
    against the balance each account's postings recorded at the close's chain position."""
    p, b = t.postings.c, t.balances.c
    bound = connection.execute(
        select(func.coalesce(func.max(p.id), 0)).where(p.transaction_id <= close.sequence)
    ).scalar_one()
    # Posting ids follow the chain (a posting is written with its transaction, in sequence
    # order): the account's last posting up to `bound` is its last up to the close.
    at_close = (
        select(p.balance_after)
        .where(
            p.location_id == _B.location_id,
            p.item_id == _B.item_id,
            p.batch_id == _B.batch_id,
            p.id <= bound,
        )
        .order_by(p.id.desc())
        .limit(1)
        .correlate(t.closing_balances)
        .scalar_subquery()
    )
    after_rows = (
        select(p.location_id, p.item_id, p.batch_id)
        .where(p.transaction_id > after)
        .cte("verified_after")
        .prefix_with("MATERIALIZED")
    )
    touched = select(after_rows).distinct().subquery("touched_since")
    same = and_(
        touched.c.location_id == _B.location_id,
        touched.c.item_id == _B.item_id,
        touched.c.batch_id == _B.batch_id,
    )
    stored = and_(
        b.location_id == _B.location_id, b.item_id == _B.item_id, b.batch_id == _B.batch_id
    )
    computed = func.coalesce(at_close, literal(0))
    rows = driver_tuples(
        connection,
        select(_B.location_id, _B.batch_id, _B.on_hand, computed)
        .select_from(t.closing_balances)
        .outerjoin(touched, same)
        .outerjoin(t.balances, stored)
        .where(
            _B.close_id == close.id,
            or_(
                touched.c.location_id.is_not(None),
                b.location_id.is_(None),
                b.on_hand != _B.on_hand,
            ),
            _B.on_hand != computed,
        ),
    )
    if not rows:
        return []
    locations, batches = account_codes(connection)
    return [
        (
            f"account {locations[location_id]}/{'/'.join(batches[batch_id])}",
            int(expected),
            int(kept),
        )
        for location_id, batch_id, kept, expected in rows
    ]


def closed_period_postings(
    connection: Connection, closes: list[ClosePosition], limit: int = 20
) -> list[tuple[ClosePosition, int, str, dt.date]]:
    """Transactions recorded after a close at its root's locations (every location for a close
    of every root) and dated on or before its period end: (close, sequence, number, date).
    Each close is checked up to the next close of the same root — a later one past that is
    also before the next close's end — so each transaction is read once per root."""
    tx, loc = t.transactions.c, t.locations.c
    found = []
    for index, close in enumerate(closes):
        following = [
            other.sequence
            for other in closes[index + 1 :]
            if other.root_path == close.root_path and other.period_end > close.period_end
        ]
        query = (
            select(tx.id, tx.number, tx.occurred_on)
            .where(tx.id > close.sequence, tx.occurred_on <= close.period_end)
            .order_by(tx.id)
            .limit(limit)
        )
        if following:
            query = query.where(tx.id <= min(following))
        if close.root_path is not None:
            query = query.join(t.locations, loc.id == tx.location_id).where(
                *_under(close.root_path)
            )
        for sequence, number, day in connection.execute(query):
            found.append((close, sequence, number, _day(day)))
    return found


def transaction_hashes(connection: Connection, sequences: list[int]) -> dict[int, str]:
    """The stored hash of each of these transactions that exists."""
    tx = t.transactions.c
    wanted = sorted({s for s in sequences if s > 0})
    found: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(connection.execute(select(tx.id, tx.hash).where(tx.id.in_(chunk))).all())
    return found


def _day(value) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value
