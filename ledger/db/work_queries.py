"""The queries behind the home page's to-do lists (首页·待办): one statement per list, each over
a subtree (a location path prefix; None: everywhere) and limited to the rows a page shows, plus
the stored stock minimums (最低库存). Who sees which list is the caller's decision."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import Connection, and_, exists, func, insert, select, update
from sqlalchemy.orm import aliased

from ledger.db import tables as t

_R = t.allocation_requests.c
_L = t.allocation_request_lines.c
_M = t.stock_minimums.c


class RequestDue(NamedTuple):
    """A request waiting for somebody: its places by id (names from the catalog)."""

    number: str
    requester_id: int
    supplier_id: int
    updated_at: dt.datetime
    lines: int


class StocktakeDue(NamedTuple):
    number: str
    location_id: int
    status: str
    cut_off: dt.date
    created_at: dt.datetime


class BelowMinimum(NamedTuple):
    location_id: int
    item_id: int
    minimum: int
    on_hand: int


class MinimumRow(NamedTuple):
    location_id: int
    item_id: int
    minimum: int
    on_hand: int
    set_by: int | None
    set_at: dt.datetime


def _under(column, path: str | None):
    """The condition `column` (a location path) lies in the subtree `path` (None: true)."""
    return column.startswith(path, autoescape=True) if path is not None else None


def _where(query, *conditions):
    return query.where(*[condition for condition in conditions if condition is not None])


def _line_count():
    return (
        select(func.count())
        .where(_L.request_id == _R.id)
        .correlate(t.allocation_requests)
        .scalar_subquery()
    )


def _request_columns() -> tuple:
    """What a to-do entry says of a request (RequestDue)."""
    return (
        _R.number,
        _R.requester_location_id,
        _R.supplier_location_id,
        _R.updated_at,
        _line_count(),
    )


def requests_to_approve(
    connection: Connection, under: str | None, not_from: int | None, limit: int
) -> list[RequestDue]:
    """Submitted requests whose requester lies under `under`, except those of the location
    `not_from` (an approver does not approve its own place's requests), oldest first."""
    requester = aliased(t.locations)
    query = (
        select(*_request_columns())
        .join(requester, requester.c.id == _R.requester_location_id)
        .order_by(_R.updated_at, _R.id)
        .limit(limit)
    )
    query = _where(
        query,
        _R.status == "submitted",
        _under(requester.c.path, under),
        _R.requester_location_id != not_from if not_from is not None else None,
    )
    return [RequestDue(*row) for row in connection.execute(query)]


def requests_to_ship(
    connection: Connection, supplier_under: str | None, supplier_id: int | None, limit: int
) -> list[RequestDue]:
    """Approved requests with something approved still to ship, supplied from the location
    `supplier_id` or, without it, from anywhere under `supplier_under`; oldest first."""
    supplier = aliased(t.locations)
    outstanding = exists().where(_L.request_id == _R.id, func.coalesce(_L.approved, 0) > _L.issued)
    query = (
        select(*_request_columns())
        .join(supplier, supplier.c.id == _R.supplier_location_id)
        .order_by(_R.updated_at, _R.id)
        .limit(limit)
    )
    query = _where(
        query,
        _R.status == "approved",
        outstanding,
        _R.supplier_location_id == supplier_id
        if supplier_id is not None
        else _under(supplier.c.path, supplier_under),
    )
    return [RequestDue(*row) for row in connection.execute(query)]


def open_stocktakes(connection: Connection, under: str | None, limit: int) -> list[StocktakeDue]:
    """Stocktakes still counting or closed (not yet approved) at places under `under`."""
    s, loc = t.stocktakes.c, t.locations.c
    query = (
        select(s.number, s.location_id, s.status, s.cut_off, s.created_at)
        .join(t.locations, loc.id == s.location_id)
        .order_by(s.created_at, s.id)
        .limit(limit)
    )
    query = _where(query, s.status.in_(("counting", "closed")), _under(loc.path, under))
    return [StocktakeDue(*row) for row in connection.execute(query)]


# ---- stock minimums (最低库存) ------------------------------------------------------------------


def _minimums_with_stock():
    """Each minimum with the stock on hand of its item at its location (all batches)."""
    b, loc = t.balances.c, t.locations.c
    on_hand = func.coalesce(func.sum(b.on_hand), 0)
    query = (
        select(_M.location_id, _M.item_id, _M.minimum, on_hand.label("on_hand"))
        .select_from(t.stock_minimums)
        .join(t.locations, loc.id == _M.location_id)
        .outerjoin(t.balances, and_(b.location_id == _M.location_id, b.item_id == _M.item_id))
        .group_by(_M.location_id, _M.item_id, _M.minimum, loc.path)
        .order_by(loc.path, _M.item_id)
    )
    return query, on_hand


def below_minimum(connection: Connection, under: str | None, limit: int) -> list[BelowMinimum]:
    """Places under `under` holding less of an item than its minimum, in tree order."""
    query, on_hand = _minimums_with_stock()
    query = _where(query, _M.minimum > 0, _under(t.locations.c.path, under))
    query = query.having(on_hand < _M.minimum).limit(limit)
    return [BelowMinimum(*row) for row in connection.execute(query)]


def minimums(connection: Connection, under: str | None, limit: int) -> list[MinimumRow]:
    """The minimums set at places under `under`, with the stock on hand and who set them."""
    query, _ = _minimums_with_stock()
    query = query.add_columns(_M.set_by, _M.set_at).group_by(_M.set_by, _M.set_at)
    query = _where(query, _under(t.locations.c.path, under)).limit(limit)
    return [MinimumRow(*row) for row in connection.execute(query)]


def minimum_of(connection: Connection, location_id: int, item_id: int) -> int | None:
    query = select(_M.minimum).where(_M.location_id == location_id, _M.item_id == item_id)
    return connection.execute(query).scalar_one_or_none()


def set_minimum(
    connection: Connection,
    location_id: int,
    item_id: int,
    minimum: int,
    user_id: int | None,
    at: dt.datetime,
) -> int | None:
    """Store the minimum (insert or replace); the one it replaces, if any."""
    before = minimum_of(connection, location_id, item_id)
    values = {"minimum": minimum, "set_by": user_id, "set_at": at}
    if before is None:
        connection.execute(
            insert(t.stock_minimums),
            {"location_id": location_id, "item_id": item_id, **values},
        )
    else:
        connection.execute(
            update(t.stock_minimums)
            .where(_M.location_id == location_id, _M.item_id == item_id)
            .values(**values)
        )
    return before


def user_labels(connection: Connection, user_ids: set[int | None]) -> dict[int, str]:
    """The labels of these users (who set a minimum), by id."""
    wanted = [user_id for user_id in user_ids if user_id is not None]
    if not wanted:
        return {}
    query = select(t.users.c.id, t.users.c.label).where(t.users.c.id.in_(wanted))
    return {int(user_id): label for user_id, label in connection.execute(query)}


# ---- shipments in transit --------------------------------------------------------------------------


class Shipment(NamedTuple):
    """An issue or transfer in transit: its lines as (item id, batch id, quantity)."""

    id: int
    number: str
    occurred_on: dt.date
    source_id: int
    destination_id: int
    lines: tuple[tuple[int, int, int], ...]


class Change(NamedTuple):
    """A transaction that may change what is in transit: its kind, the shipment it confirms,
    the transaction it reverses and that one's kind and shipment."""

    id: int
    kind: str
    shipment_id: int | None
    reverses_id: int | None
    reversed_kind: str | None
    reversed_shipment_id: int | None


SHIPPING = ("issue", "transfer")


def unconfirmed_shipment_ids(connection: Connection) -> list[int]:
    """Issues and transfers not (or no longer) confirmed and not reversed, as the in-transit
    report counts them; from the transactions' kind index, each probed for a confirmation
    that stands and for a reversal."""
    tx = t.transactions.c
    confirmation, undone, reversal = (aliased(t.transactions) for _ in range(3))
    confirmed = exists().where(
        confirmation.c.shipment_id == tx.id,
        confirmation.c.kind == "confirmation",
        ~exists().where(undone.c.reverses_id == confirmation.c.id),
    )
    query = select(tx.id).where(
        tx.kind.in_(SHIPPING), ~confirmed, ~exists().where(reversal.c.reverses_id == tx.id)
    )
    return [int(row) for row in connection.execute(query).scalars()]


def shipments(connection: Connection, ids: list[int]) -> dict[int, Shipment]:
    """These shipments with their lines in transit (a shipment with none is left out). Read
    by transaction (every posting of each, those at `in-transit` kept), not by location: the
    in-transit place holds every posting of every shipment ever made."""
    tx, p, loc = t.transactions.c, t.postings.c, t.locations.c
    in_transit = connection.execute(select(loc.id).where(loc.code == "in-transit")).scalar()
    lines: dict[int, list] = {}
    heads: dict[int, Shipment] = {}
    for start in range(0, len(ids), 500):
        query = (
            select(
                tx.id,
                tx.number,
                tx.occurred_on,
                tx.location_id,
                tx.counterparty_id,
                p.location_id,
                p.item_id,
                p.batch_id,
                p.quantity,
            )
            .join(t.postings, p.transaction_id == tx.id)
            .where(tx.id.in_(ids[start : start + 500]), tx.counterparty_id.is_not(None))
            .order_by(p.id)
        )
        for row in connection.execute(query):
            if row[5] != in_transit:
                continue
            heads[row[0]] = Shipment(row[0], row[1], row[2], row[3], row[4], ())
            lines.setdefault(row[0], []).append((row[6], row[7], row[8]))
    return {key: head._replace(lines=tuple(lines[key])) for key, head in heads.items()}


def changes_after(connection: Connection, after: int, through: int) -> list[Change]:
    """The transactions after `after` up to `through` (chain sequences) that may change what is
    in transit: shipments, confirmations, reversals; in order."""
    tx = t.transactions.c
    reversed_ = aliased(t.transactions)
    query = (
        select(
            tx.id,
            tx.kind,
            tx.shipment_id,
            tx.reverses_id,
            reversed_.c.kind,
            reversed_.c.shipment_id,
        )
        .outerjoin(reversed_, reversed_.c.id == tx.reverses_id)
        .where(tx.id > after, tx.id <= through)  # by the primary key: no kind in SQL, which
        .order_by(tx.id)  # would lead SQLite to the kind index, every shipment ever made
    )
    wanted = (*SHIPPING, "confirmation", "reversal")
    return [Change(*row) for row in connection.execute(query) if row[1] in wanted]
