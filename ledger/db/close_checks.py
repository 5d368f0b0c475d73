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

from sqlalchemy import BigInteger, Connection, and_, case, cast, func, literal, or_, select

from ledger.db import tables as t
from ledger.db.raw_reads import account_codes, driver_tuples
from ledger.model import TransactionKind

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

_KINDS = tuple(kind.value for kind in TransactionKind)  # coded 1..n; 0: a kind never written
packed_bits_max = 62  # a packed key is a signed 64-bit integer on both engines


class _Keys:
    """A close movement's key — location, item, kind, in/out, batch — packed into one integer in
    SQL (the ids' widths read from the data), so rows come out of the driver as (key, quantity)
    pairs that build a dict at C speed; a row naming ids no table holds gets key -1. Batch
    lowest: `key >> batch_bits` is the per-item key of close_item_movements. Ids too wide to
    pack (over 62 bits in all) are read as tuples instead: slower, the same result."""

    def __init__(self, connection: Connection) -> None:
        def largest(table) -> int:
            return connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()

        self.locations = largest(t.locations)
        self.items = largest(t.items)
        self.batches = largest(t.batches)
        self.batch_bits = max(self.batches.bit_length(), 1)
        self.item_bits = max(self.items.bit_length(), 1)
        bits = self.locations.bit_length() + self.item_bits + 5 + self.batch_bits
        self.packed = bits <= packed_bits_max and min(self.locations, self.items, self.batches) >= 0

    @staticmethod
    def kind(column):
        return case(*((column == name, code) for code, name in enumerate(_KINDS, 1)), else_=0)

    def columns(self, location, item, kind, incoming, batch=None) -> list:
        """The SQL for a key (without `batch`: the per-item key)."""
        if not self.packed:
            return [location, item, self.kind(kind), incoming] + (
                [batch] if batch is not None else []
            )
        packed = (cast(location, BigInteger) * (1 << self.item_bits) + item) * 16 + self.kind(kind)
        packed = packed * 2 + incoming
        known = [location.between(1, self.locations), item.between(1, self.items)]
        if batch is not None:
            packed = packed * (1 << self.batch_bits) + batch
            known.append(batch.between(1, self.batches))
        return [case((and_(*known), packed), else_=-1)]

    def rows(self, rows: list[tuple]) -> dict:
        """{key: quantity} of driver rows (the key's columns, then the quantity)."""
        if self.packed:
            found = dict(rows)
            if len(found) < len(rows):  # several rows naming unknown ids: their sum under -1
                found[-1] = sum(quantity for key, quantity in rows if key == -1)
            return found
        return {tuple(row[:-1]): row[-1] for row in rows}

    def item_of(self, key):
        return key >> self.batch_bits if self.packed else key[:4]

    def location_of(self, key) -> int:
        return key >> (self.batch_bits + self.item_bits + 5) if self.packed else key[0]

    def parts(self, key, with_batch: bool) -> tuple:
        """(location id, item id, kind code, incoming, batch id or None) of a key."""
        if not self.packed:
            return tuple(key) + (() if with_batch else (None,))
        batch = None
        if with_batch:
            batch, key = key & ((1 << self.batch_bits) - 1), key >> self.batch_bits
        incoming, kind, rest = key & 1, (key >> 1) & 15, key >> 5
        return rest >> self.item_bits, rest & ((1 << self.item_bits) - 1), kind, incoming, batch

    def name(self, connection: Connection, key, with_batch: bool) -> str:
        if self.packed and key == -1:
            return "rows naming ids that do not exist"
        location, item, kind, incoming, batch = self.parts(key, with_batch)
        if not hasattr(self, "codes"):
            self.codes = account_codes(connection)
            self.item_codes = dict(connection.execute(select(t.items.c.id, t.items.c.code)).all())
        locations, batches = self.codes
        what = self.item_codes.get(item, f"#{item}")
        if with_batch:
            what += f"/{batches.get(batch, ('', f'#{batch}'))[1]}"
        kind_name = _KINDS[kind - 1] if 1 <= kind <= len(_KINDS) else "?"
        place = locations.get(location, f"#{location}")
        return f"{place}/{what} {kind_name} {'in' if incoming else 'out'}"


class MovementCheck:
    """Every close's movements recomputed from the postings, close after close: the expected
    rows of a close are its predecessor's expected rows (never its stored ones) plus the
    postings dated in its period, so every posting is read once, by the database, which also
    sums them; Python compares each close's stored rows as one dict."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.keys = _Keys(connection)
        self.expected: dict[int, dict] = {}  # by close id, while a successor may need it
        self.paths: dict[int, str] | None = None

    def differences(
        self, close: ClosePosition, previous: ClosePosition | None, path: str | None
    ) -> tuple[list[Difference], list[Difference]]:
        """(close_movements, close_item_movements) rows of `close` that differ from what the
        postings say, at the physical locations under `path` (None: every one). The closes
        are given in the order they were made."""
        expected = dict(self._base(previous, path)) if previous is not None else {}
        since = previous.period_end if previous is not None else dt.date.min
        for *columns, quantity in self._moved(since, close.period_end, path):
            key = columns[0] if self.keys.packed else tuple(columns)
            expected[key] = expected.get(key, 0) + int(quantity)
        moves = self._compare(expected, self._stored(t.close_movements, close.id, path, True), True)
        items: dict = {}
        for key, quantity in expected.items():
            item = self.keys.item_of(key)
            items[item] = items.get(item, 0) + quantity
        item_moves = self._compare(
            items, self._stored(t.close_item_movements, close.id, path, False), False
        )
        if previous is not None and previous.root_path == close.root_path:
            self.expected.pop(previous.id, None)  # superseded on its chain
        self.expected[close.id] = expected
        return moves, item_moves

    def _base(self, previous: ClosePosition, path: str | None) -> dict:
        base = self.expected.get(previous.id, {})
        if path is None or previous.root_path == path:
            return base
        if self.paths is None:  # a close of every root, continued by one root's close
            loc = t.locations.c
            self.paths = dict(self.connection.execute(select(loc.id, loc.path)).all())
        return {
            key: quantity
            for key, quantity in base.items()
            if self.paths.get(self.keys.location_of(key), "").startswith(path)
        }

    def _moved(self, since: dt.date, until: dt.date, path: str | None) -> list[tuple]:
        p, tx, loc = t.postings.c, t.transactions.c, t.locations.c
        incoming = case((p.quantity > 0, 1), else_=0)
        key = self.keys.columns(p.location_id, p.item_id, tx.kind, incoming, p.batch_id)
        return driver_tuples(
            self.connection,
            select(*key, func.sum(func.abs(p.quantity)))
            .select_from(t.transactions)
            .join(t.postings, p.transaction_id == tx.id)
            .join(t.locations, loc.id == p.location_id)
            .where(
                tx.occurred_on > since,
                tx.occurred_on <= until,
                loc.physical.is_(True),
                *_under(path),
            )
            .group_by(*key),
        )

    def _stored(self, table, close_id: int, path: str | None, with_batch: bool) -> dict:
        c, loc = table.c, t.locations.c
        incoming = case((c.incoming, 1), else_=0)
        batch = c.batch_id if with_batch else None
        query = select(
            *self.keys.columns(c.location_id, c.item_id, c.kind, incoming, batch), c.quantity
        ).where(c.close_id == close_id)
        if path is not None:
            query = query.join(t.locations, loc.id == c.location_id).where(*_under(path))
        return self.keys.rows(driver_tuples(self.connection, query))

    def _compare(self, expected: dict, stored: dict, with_batch: bool) -> list[Difference]:
        if expected == stored:  # the usual case, compared at C speed
            return []
        return [
            (
                self.keys.name(self.connection, key, with_batch),
                expected.get(key),
                None if stored.get(key) is None else int(stored[key]),
            )
            for key in sorted(set(expected) | set(stored), key=str)
            if expected.get(key) != stored.get(key)
        ]


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
