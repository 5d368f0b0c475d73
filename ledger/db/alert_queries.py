"""What the stock alerts of a subtree depend on besides the chain head: whether the transactions
of a span of the chain touched the subtree, the newest setting of a norm or a 最低库存, and the
newest event of a request from a place of the subtree (its suggestions count what is on order)."""

from __future__ import annotations

from sqlalchemy import Connection, exists, func, or_, select

from ledger.db import tables as t


def touched_since(connection: Connection, path: str, after: int, through: int) -> bool:
    """Whether a transaction after chain sequence `after` up to `through` may have changed the
    stock, the movement or what is in transit of a place under `path`: one with a posting at a
    place under it, one shipped to a place under it (its postings are the source's and in
    transit's), or any reversal (it may undo a shipment to the subtree from outside)."""
    tx, p, loc = t.transactions.c, t.postings.c, t.locations.c
    under = loc.path.startswith(path, autoescape=True)
    posted_under = (
        exists()
        .where(p.transaction_id == tx.id)
        .where(exists().where(loc.id == p.location_id, under))
    )
    shipped_under = exists().where(loc.id == tx.counterparty_id, under)
    query = (
        select(tx.id)
        .where(tx.id > after, tx.id <= through)
        .where(or_(tx.kind == "reversal", shipped_under, posted_under))
        .limit(1)
    )
    return connection.execute(query).first() is not None


def settings_mark(connection: Connection) -> tuple[int, int]:
    """(the newest norm row, the newest 最低库存 setting in the operations log): norms are only
    added, a minimum is replaced in place and each setting is logged, so either moves whenever
    what the alerts compare stock with may have changed."""
    norms = connection.execute(select(func.max(t.stock_norms.c.id))).scalar() or 0
    log = t.operations_log.c
    minimums = (
        connection.execute(
            select(func.max(log.id)).where(log.object_type == "stock_minimum")
        ).scalar()
        or 0
    )
    return int(norms), int(minimums)


def requests_mark(connection: Connection, path: str) -> int:
    """The newest event of a request whose requester is under `path`: every change of what a
    request expects (submitted, approved, rejected, cancelled, closed, shipped) records one,
    none of them a transaction of the chain but the shipment, so this moves whenever what the
    subtree has on order (已申领未到, the suggestions') may have changed."""
    r, e, loc = t.allocation_requests.c, t.allocation_request_events.c, t.locations.c
    query = (
        select(func.max(e.id))
        .join(t.allocation_requests, r.id == e.request_id)
        .join(t.locations, loc.id == r.requester_location_id)
        .where(loc.path.startswith(path, autoescape=True))
    )
    return int(connection.execute(query).scalar() or 0)
