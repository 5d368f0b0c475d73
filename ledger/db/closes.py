"""Storage of period closes (月结) and their closing balances."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import Connection, and_, func, insert, literal, or_, select, union_all

from ledger.db import tables as t
from ledger.db.balance_queries import open_reservations
from ledger.db.raw_reads import account_codes, driver_tuples
from ledger.db.session import Session
from ledger.db.store import LedgerStore
from ledger.verify import AccountCodes, StoredBalance

_C, _B = t.period_closes.c, t.closing_balances.c


class CloseRow(NamedTuple):
    """A period close as stored. root_id: the root location (city) whose subtree it closed;
    None for a close made before roots were separate, which applies to every root."""

    id: int
    root_id: int | None
    period_end: dt.date
    sequence: int
    hash: str
    accounts: int
    closed_at: dt.datetime
    closed_by: int | None


_CLOSE_COLUMNS = (
    _C.id,
    _C.root_id,
    _C.period_end,
    _C.sequence,
    _C.hash,
    _C.accounts,
    _C.closed_at,
    _C.closed_by,
)


def _close(row) -> CloseRow:
    values = list(row)
    values[2] = Session.read_date(values[2])
    return CloseRow(*values)


def _of_root(root_id: int | None):
    """The closes that apply to a root: its own and those made for every root (root_id NULL).
    root_id None: every close."""
    if root_id is None:
        return []
    return [or_(_C.root_id == root_id, _C.root_id.is_(None))]


def closes(connection: Connection, root_id: int | None = None) -> list[CloseRow]:
    """The closes, oldest first: those that apply to the root `root_id`, or (None) all."""
    query = select(*_CLOSE_COLUMNS).where(*_of_root(root_id)).order_by(_C.period_end, _C.id)
    return [_close(row) for row in connection.execute(query)]


def last_close(connection: Connection, root_id: int | None = None) -> CloseRow | None:
    """The latest close that applies to the root `root_id` (None: the latest of all)."""
    row = connection.execute(
        select(*_CLOSE_COLUMNS)
        .where(*_of_root(root_id))
        .order_by(_C.period_end.desc(), _C.id.desc())
        .limit(1)
    ).first()
    return _close(row) if row else None


class Root(NamedTuple):
    """A root location (a city: no parent) and its path, '/510100/'."""

    id: int
    code: str
    path: str


def roots(connection: Connection) -> list[Root]:
    """Every root location, by code."""
    loc = t.locations.c
    query = (
        select(loc.id, loc.code, loc.path)
        .where(loc.parent_id.is_(None), loc.physical.is_(True))
        .order_by(loc.code)
    )
    return [Root(*row) for row in connection.execute(query)]


def location_exists(connection: Connection, code: str) -> bool:
    loc = t.locations.c
    return connection.execute(select(loc.id).where(loc.code == code)).first() is not None


def physical_codes_under(connection: Connection, path: str) -> frozenset[str]:
    """The codes of the physical locations in the subtree at `path`."""
    loc = t.locations.c
    return frozenset(
        connection.execute(
            select(loc.code).where(
                loc.physical.is_(True), loc.path.startswith(path, autoescape=True)
            )
        ).scalars()
    )


def virtual_codes(connection: Connection) -> frozenset[str]:
    """The codes of the virtual locations (shared by every root)."""
    loc = t.locations.c
    return frozenset(connection.execute(select(loc.code).where(loc.physical.is_(False))).scalars())


def record_close(
    store: LedgerStore,
    period_end: dt.date,
    sequence: int,
    digest: str,
    actor: int | None,
    root: Root,
) -> CloseRow:
    """Insert the close of `root`'s subtree, copy the current balances of its physical accounts
    into closing_balances, and keep their movements per kind dated up to `period_end` (the
    previous close's plus those since).

    The virtual locations (supplier, in-transit, …) are shared by every root: their balances
    are kept too, as they stand for the whole ledger at the close's chain position, so that a
    verification of the whole ledger can start from the close; they are never read for one
    root (a root's share of a shared place is not stored anywhere). `accounts` counts the
    balances kept."""
    connection = store.connection
    previous = last_close(connection, root.id)
    close_id = connection.execute(
        insert(t.period_closes).returning(_C.id),
        {
            "root_id": root.id,
            "period_end": period_end,
            "sequence": sequence,
            "hash": digest,
            "accounts": 0,
            "closed_at": dt.datetime.now(dt.UTC),
            "closed_by": actor,
        },
    ).scalar_one()
    _keep_balances(connection, close_id, _physical_under(root.path))
    _keep_balances(connection, close_id, [t.locations.c.physical.is_(False)])
    kept = connection.execute(
        select(func.count()).select_from(t.closing_balances).where(_B.close_id == close_id)
    ).scalar_one()
    connection.execute(t.period_closes.update().where(_C.id == close_id).values(accounts=kept))
    _record_movements(connection, close_id, previous, period_end, root)
    if connection.dialect.name == "postgresql":  # plan reports on the rows just kept
        connection.exec_driver_sql("ANALYZE close_movements, close_item_movements")
    return _close(connection.execute(select(*_CLOSE_COLUMNS).where(_C.id == close_id)).one())


def _keep_balances(connection: Connection, close_id: int, where: list) -> None:
    """Copy the stored balances of the accounts at the locations `where` selects into the
    close."""
    b, loc = t.balances.c, t.locations.c
    connection.execute(
        insert(t.closing_balances).from_select(
            ["close_id", "location_id", "item_id", "batch_id", "on_hand"],
            select(literal(close_id), b.location_id, b.item_id, b.batch_id, b.on_hand)
            .join(t.locations, loc.id == b.location_id)
            .where(*where),
        )
    )


def _physical_under(path: str) -> list:
    loc = t.locations.c
    return [loc.physical.is_(True), loc.path.startswith(path, autoescape=True)]


def _record_movements(
    connection: Connection,
    close_id: int,
    previous: CloseRow | None,
    period_end: dt.date,
    root: Root,
) -> None:
    m, p, tx, loc = t.close_movements.c, t.postings.c, t.transactions.c, t.locations.c
    # Both bounds, even for the first close: with only one SQLite's planner scans every posting
    # instead of reading the transactions' date index.
    since = previous.period_end if previous is not None else dt.date.min
    dated = [tx.occurred_on > since, tx.occurred_on <= period_end, *_physical_under(root.path)]
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
        kept = select(m.location_id, m.item_id, m.batch_id, m.kind, m.incoming, m.quantity).where(
            m.close_id == previous.id
        )
        if previous.root_id is None:  # a close of every root: this root's rows of it
            kept = kept.where(m.location_id.in_(select(loc.id).where(*_physical_under(root.path))))
        parts.insert(0, kept)
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
    connection: Connection, close_id: int, after: int, under_path: str | None = None
) -> tuple[list[StoredBalance], dict[AccountCodes, int]]:
    """What a verification since a close compares its sums with: of the stored balances, those
    of the accounts with postings after sequence `after`, and of the rest only those that differ
    from the close's balance or fail a check of their own (below zero at a physical place, more
    reserved than on hand, reserved unlike the open reservations); and the close's balances of
    every account returned or, no longer stored, held stock at the close. Every other account
    is unchanged since the close and correct: found in the database, not read out of it.
    under_path: only the accounts at the physical locations of that subtree (one root's)."""
    b, c, location = t.balances.c, _B, t.locations.c
    scoped = _physical_under(under_path) if under_path is not None else []
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
                # Not the posting rule (ledger/posting.py refuses such a balance): the rows
                # Verifier.finish would report, selected so that it sees them.
                b.reserved < 0,
                and_(location.physical, or_(b.on_hand < 0, b.reserved > b.on_hand)),
            ),
            *scoped,
        ),
    )
    gone = driver_tuples(
        connection,
        select(c.location_id, c.item_id, c.batch_id, c.on_hand)
        .select_from(t.closing_balances)
        .join(t.locations, location.id == c.location_id)
        .outerjoin(t.balances, _same_account(b, c))
        .where(c.close_id == close_id, c.on_hand != 0, b.location_id.is_(None), *scoped),
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
