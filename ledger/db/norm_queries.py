"""Reads and writes of the stock norms, and the figures a suggestion needs: month totals of a
subtree, the write-offs and reversals that change its consumption, balances, minimums, what is
in transit and what open requests still expect (on order)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import Connection, and_, case, exists, func, insert, select
from sqlalchemy.orm import aliased

from ledger.db import tables as t
from ledger.db.raw_reads import driver_tuples
from ledger.norms import NormSetting
from ledger.requests import RequestStatus
from ledger.totals import MONTH


class NormRow(NamedTuple):
    setting: NormSetting
    set_by: int | None
    set_at: dt.datetime


def norm_rows(connection: Connection, through: dt.date | None = None) -> list[NormRow]:
    """Every norm set (valid from `through` or before, when given), in the order set."""
    n = t.stock_norms.c
    query = select(
        n.id, n.level, n.location_id, n.item_id, n.min_months, n.max_months, n.valid_from
    ).add_columns(n.root_id, n.set_by, n.set_at)
    if through is not None:
        query = query.where(n.valid_from <= through)
    rows = connection.execute(query.order_by(n.id))
    return [NormRow(NormSetting(*row[:8]), row[8], row[9]) for row in rows]


def root_id_of(connection: Connection, path: str) -> int:
    """The id of the root location (the city) of the location whose path is `path`."""
    loc = t.locations.c
    code = path.split("/")[1]
    return connection.execute(select(loc.id).where(loc.code == code)).scalar_one()


def insert_norm(connection: Connection, **values) -> int:
    return connection.execute(
        insert(t.stock_norms).returning(t.stock_norms.c.id), values
    ).scalar_one()


class Place(NamedTuple):
    id: int
    path: str
    level: str


def places_under(connection: Connection, path: str) -> list[Place]:
    """The physical locations of `path`'s subtree, in tree order."""
    loc = t.locations.c
    rows = connection.execute(
        select(loc.id, loc.path, loc.level)
        .where(loc.physical, loc.path.startswith(path, autoescape=True))
        .order_by(loc.path)
    )
    return [Place(*row) for row in rows]


class MonthMove(NamedTuple):
    """What moved at one physical place, of one item, in one month (every kind and batch)."""

    location_id: int
    item_id: int
    start: dt.date
    net: int  # in − out
    came_in: bool  # something came in
    distributed: int  # handed to the public (发放)


def month_moves(connection: Connection, path: str, first: dt.date) -> list[MonthMove]:
    """What moved at each physical place under `path` in each month from `first` on, from the
    month movement totals: one row per place, item and month."""
    m, loc = t.movement_totals.c, t.locations.c
    signed = case((m.incoming, m.quantity), else_=-m.quantity)
    came_in = case((m.incoming, 1), else_=0)
    given = case((and_(m.kind == "distribution", ~m.incoming), m.quantity), else_=0)
    query = (
        select(m.location_id, m.item_id, m.starts_on)
        .add_columns(func.sum(signed), func.max(came_in), func.sum(given))
        .join(t.locations, loc.id == m.location_id)
        .where(m.grain == MONTH, m.starts_on >= first, loc.path.startswith(path, autoescape=True))
        .group_by(m.starts_on, m.location_id, m.item_id)
    )
    days: dict = {}  # SQLite gives dates as text: each month is parsed once
    out = []
    for location_id, item_id, start, net, came, distributed in driver_tuples(connection, query):
        day = days.get(start) or days.setdefault(start, _date(start))
        out.append(MonthMove(location_id, item_id, day, int(net), bool(came), int(distributed)))
    return out


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


class UseChange(NamedTuple):
    """A posting at a physical place that changes consumption by −quantity: a write-off for a
    reason that counts as use, or the reversal of such a write-off or of a distribution."""

    location_id: int
    item_id: int
    occurred_on: dt.date
    quantity: int


def use_changes(
    connection: Connection, path: str, first: dt.date, reasons: frozenset[str]
) -> list[UseChange]:
    """The write-offs for `reasons` and the reversals of those and of distributions, dated from
    `first` on, at physical places under `path`."""
    tx, p, loc = t.transactions.c, t.postings.c, t.locations.c
    original = aliased(t.transactions)
    reverses_use = and_(
        tx.kind == "reversal",
        (original.c.kind == "distribution")
        | and_(original.c.kind == "write_off", original.c.reason.in_(sorted(reasons))),
    )
    write_off_for_use = and_(tx.kind == "write_off", tx.reason.in_(sorted(reasons)))
    rows = connection.execute(
        select(p.location_id, p.item_id, p.occurred_on, p.quantity)
        .select_from(t.transactions)
        .outerjoin(original, original.c.id == tx.reverses_id)
        .join(t.postings, p.transaction_id == tx.id)
        .join(t.locations, loc.id == p.location_id)
        .where(
            tx.kind.in_(("write_off", "reversal")),
            tx.occurred_on >= first,
            write_off_for_use | reverses_use,
            loc.physical,
            loc.path.startswith(path, autoescape=True),
        )
    )
    return [UseChange(*row) for row in rows]


def on_hand_under(connection: Connection, path: str) -> dict[tuple[int, int], int]:
    """(location id, item id) → on hand, every batch, at the physical places under `path`."""
    b, loc = t.balances.c, t.locations.c
    query = (
        select(b.location_id, b.item_id, func.sum(b.on_hand))
        .join(t.locations, loc.id == b.location_id)
        .where(loc.physical, loc.path.startswith(path, autoescape=True))
        .group_by(b.location_id, b.item_id)
    )
    return {(row[0], row[1]): int(row[2]) for row in driver_tuples(connection, query) if row[2]}


def minimums_under(connection: Connection, path: str) -> dict[tuple[int, int], int]:
    """(location id, item id) → the 最低库存 set there (0: none), under `path`."""
    s, loc = t.stock_minimums.c, t.locations.c
    rows = connection.execute(
        select(s.location_id, s.item_id, s.minimum)
        .join(t.locations, loc.id == s.location_id)
        .where(s.minimum > 0, loc.path.startswith(path, autoescape=True))
    )
    return {(row[0], row[1]): row[2] for row in rows}


def in_transit_to(connection: Connection, path: str) -> dict[tuple[int, int], int]:
    """(destination id, item id) → base units shipped to a physical place under `path` (issues
    and transfers) and not yet confirmed nor reversed. The shipments are found first on the
    transactions' own indexes, then only their postings are read."""
    tx, p, loc = t.transactions.c, t.postings.c, t.locations.c
    confirmation = aliased(t.transactions)
    undo = aliased(t.transactions)
    undo_confirmation = aliased(t.transactions)
    confirmed = exists().where(
        confirmation.c.shipment_id == tx.id,
        confirmation.c.kind == "confirmation",
        ~exists().where(undo_confirmation.c.reverses_id == confirmation.c.id),
    )
    open_shipments = dict(
        connection.execute(
            select(tx.id, tx.counterparty_id)
            .join(t.locations, loc.id == tx.counterparty_id)
            .where(
                tx.kind.in_(("issue", "transfer")),
                loc.path.startswith(path, autoescape=True),
                ~confirmed,
                ~exists().where(undo.c.reverses_id == tx.id),
            )
        ).all()
    )
    if not open_shipments:
        return {}
    transit_id = connection.execute(select(loc.id).where(loc.code == "in-transit")).scalar_one()
    out: dict[tuple[int, int], int] = {}
    ids = sorted(open_shipments)
    for chunk in range(0, len(ids), 500):
        # by transaction only: a filter on the in-transit place would make the database read
        # every posting ever made there (its index leads with the place)
        rows = connection.execute(
            select(p.transaction_id, p.location_id, p.item_id, p.quantity).where(
                p.transaction_id.in_(ids[chunk : chunk + 500])
            )
        )
        for shipment, location_id, item_id, quantity in rows:
            if location_id == transit_id:
                key = (open_shipments[shipment], item_id)
                out[key] = out.get(key, 0) + int(quantity)
    return out


class OnOrder(NamedTuple):
    """What the open requests of one requester to one supplier still expect of one item."""

    requester_id: int
    supplier_id: int
    item_id: int
    quantity: int


def on_order_under(connection: Connection, path: str) -> list[OnOrder]:
    """已申领未到 of the places under `path`, per requester, supplier and item: what their open
    requests still expect — a submitted request what it asks, an approved one what was
    approved and not yet shipped (what was shipped is in transit, then on hand). Drafts,
    rejected, cancelled and closed requests expect nothing."""
    r, line, loc = t.allocation_requests.c, t.allocation_request_lines.c, t.locations.c
    expected = case(
        (r.status == RequestStatus.submitted.value, line.requested),
        else_=func.coalesce(line.approved, 0) - line.issued,
    )
    query = (
        select(r.requester_location_id, r.supplier_location_id, line.item_id, func.sum(expected))
        .join(t.allocation_request_lines, line.request_id == r.id)
        .join(t.locations, loc.id == r.requester_location_id)
        .where(
            r.status.in_((RequestStatus.submitted.value, RequestStatus.approved.value)),
            loc.path.startswith(path, autoescape=True),
        )
        .group_by(r.requester_location_id, r.supplier_location_id, line.item_id)
    )
    return [
        OnOrder(requester, supplier, item, int(quantity))
        for requester, supplier, item, quantity in driver_tuples(connection, query)
        if quantity
    ]


def on_order_of(connection: Connection, path: str) -> dict[tuple[int, int], int]:
    """(requester id, item id) → 已申领未到 of the places under `path` (`on_order_under`)."""
    out: dict[tuple[int, int], int] = {}
    for row in on_order_under(connection, path):
        key = (row.requester_id, row.item_id)
        out[key] = out.get(key, 0) + row.quantity
    return out
