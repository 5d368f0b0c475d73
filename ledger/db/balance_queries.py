"""Balance reads: balances now and as of a day, the stored balances and open reservations as
`verify` reads them, every account's balance recomputed from its postings, and the sealed pack
totals beside them. Reads never lock and never write."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from typing import NamedTuple

import msgspec
from sqlalchemy import Connection, Date, and_, bindparam, func, select

from ledger.db import tables as t
from ledger.db.raw_reads import account_codes, driver_rows, driver_stream
from ledger.model import ReservationStatus
from ledger.verify import StoredBalance


class BalanceLine(msgspec.Struct, frozen=True):
    """One account's stock, with the names a clerk reads."""

    location_code: str
    location_name: str
    item_code: str
    item_name: str
    batch_number: str
    expires_on: dt.date | None
    unit: str
    on_hand: int
    reserved: int
    available: int


def balances(
    connection: Connection,
    location_code: str | None = None,
    item_code: str | None = None,
    batch_number: str | None = None,
    as_of: dt.date | None = None,
    include_virtual: bool = False,
    include_zero: bool = False,
    under_path: str | None = None,
) -> list[BalanceLine]:
    """Balances by location / item / batch, now or at the end of the day `as_of`.

    Now: the stored balances (on hand, reserved, available). As of a date: for each account,
    the running balance of its last posting on or before that day — one index lookup per
    account, valid because a physical account's movements are in date order; reserved is not
    kept historically and reads 0. Virtual locations, whose postings come from many places in
    any date order, sum their postings instead.
    """
    statement = _balances_statement(
        as_of is not None,
        location_code is not None,
        under_path is not None,
        item_code is not None,
        batch_number is not None,
        include_virtual,
        include_zero,
    )
    parameters = {
        "as_of": as_of,
        "location_code": location_code,
        "under_path": f"{_escape_like(under_path)}%" if under_path is not None else None,
        "item_code": item_code,
        "batch_number": batch_number,
    }
    return [
        BalanceLine(
            row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[7] - row[8]
        )
        for row in connection.execute(statement, parameters)
    ]


def _escape_like(text: str) -> str:
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


@functools.lru_cache(maxsize=128)
def _balances_statement(
    as_of: bool,
    by_location: bool,
    by_subtree: bool,
    by_item: bool,
    by_batch: bool,
    include_virtual: bool,
    include_zero: bool,
):
    """Built once per combination of filters (building a statement costs more than running
    it); the values come in as bound parameters."""
    loc, item, batch = t.locations.c, t.items.c, t.batches.c
    if not as_of:
        b = t.balances.c
        source = select(
            b.location_id,
            b.item_id,
            b.batch_id,
            b.on_hand.label("on_hand"),
            b.reserved.label("reserved"),
        ).subquery()
    else:
        source = _as_of_source(bindparam("as_of", type_=Date))
    query = (
        select(
            loc.code,
            loc.name,
            item.code,
            item.name,
            batch.number,
            batch.expires_on,
            item.base_unit,
            source.c.on_hand,
            source.c.reserved,
        )
        .select_from(source)
        .join(t.locations, loc.id == source.c.location_id)
        .join(t.items, item.id == source.c.item_id)
        .join(t.batches, batch.id == source.c.batch_id)
        .order_by(loc.path, item.code, batch.number)
    )
    if by_location:
        query = query.where(loc.code == bindparam("location_code"))
    if by_subtree:
        query = query.where(loc.path.like(bindparam("under_path"), escape="/"))
    if by_item:
        query = query.where(item.code == bindparam("item_code"))
    if by_batch:
        query = query.where(batch.number == bindparam("batch_number"))
    if not include_virtual:
        query = query.where(loc.physical.is_(True))
    if not include_zero:
        query = query.where(source.c.on_hand != 0)
    return query


def _as_of_source(as_of):
    p = t.postings.c
    last = (
        select(p.location_id, p.item_id, p.batch_id, func.max(p.id).label("posting_id"))
        .where(p.occurred_on <= as_of)
        .group_by(p.location_id, p.item_id, p.batch_id)
        .subquery()
    )
    physical = (
        select(
            t.postings.c.location_id,
            t.postings.c.item_id,
            t.postings.c.batch_id,
            t.postings.c.balance_after.label("on_hand"),
            func.cast(0, t.postings.c.quantity.type).label("reserved"),
        )
        .join(last, t.postings.c.id == last.c.posting_id)
        .join(
            t.locations,
            and_(t.locations.c.id == t.postings.c.location_id, t.locations.c.physical.is_(True)),
        )
    )
    virtual = (
        select(
            p.location_id,
            p.item_id,
            p.batch_id,
            # SUM of a BIGINT is a NUMERIC on PostgreSQL: cast back, so on_hand is an integer
            # on every engine (a Decimal would be encoded as a string).
            func.cast(func.sum(p.quantity), p.quantity.type).label("on_hand"),
            func.cast(0, p.quantity.type).label("reserved"),
        )
        .join(
            t.locations, and_(t.locations.c.id == p.location_id, t.locations.c.physical.is_(False))
        )
        .where(p.occurred_on <= as_of)
        .group_by(p.location_id, p.item_id, p.batch_id)
    )
    return physical.union_all(virtual).subquery()


def account_balance_as_of(
    connection: Connection, location_id: int, item_id: int, batch_id: int, as_of: dt.date
) -> int:
    """A physical account's on-hand balance at the end of `as_of`: one index lookup."""
    p = t.postings.c
    value = connection.execute(
        select(p.balance_after)
        .where(
            p.location_id == location_id,
            p.item_id == item_id,
            p.batch_id == batch_id,
            p.occurred_on <= as_of,
        )
        .order_by(p.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return value or 0


def open_reservations():
    """Per account, the sum of its open reservations (columns location_id, item_id, batch_id,
    open): what its stored reserved quantity must equal."""
    r = t.reservations.c
    return (
        select(r.location_id, r.item_id, r.batch_id, func.sum(r.remaining).label("open"))
        .where(r.status == ReservationStatus.open)
        .group_by(r.location_id, r.item_id, r.batch_id)
        .subquery("open_reserved")
    )


def stored_balances(connection: Connection) -> Iterator[StoredBalance]:
    """Every stored balance with its open reservations, streamed as the driver returns the rows
    and named in Python (a city holds hundreds of thousands of accounts)."""
    b = t.balances.c
    open_reserved = open_reservations()
    codes, batches = account_codes(connection)
    physical = set(
        connection.execute(select(t.locations.c.id).where(t.locations.c.physical.is_(True)))
        .scalars()
        .all()
    )
    query = (
        select(
            b.location_id,
            b.batch_id,
            b.on_hand,
            b.reserved,
            func.coalesce(open_reserved.c.open, 0),
        )
        .select_from(t.balances)
        .outerjoin(
            open_reserved,
            and_(
                open_reserved.c.location_id == b.location_id,
                open_reserved.c.item_id == b.item_id,
                open_reserved.c.batch_id == b.batch_id,
            ),
        )
    )
    for location, batch, on_hand, reserved, open_ in driver_stream(
        connection, query, 20_000, "verify_balances"
    ):
        item_code, number = batches[batch]
        yield StoredBalance(
            codes[location], location in physical, item_code, number, on_hand, reserved, int(open_)
        )


def stored_balance_totals(connection: Connection) -> list[tuple[str, str, str, int]]:
    """Every account's stored on-hand balance (what a balance report reads), by codes."""
    rows = driver_rows(connection, "SELECT location_id, batch_id, on_hand FROM balances")
    codes, batches = account_codes(connection)
    return [(codes[location], *batches[batch], on_hand) for location, batch, on_hand in rows]


def balances_from_postings(connection: Connection) -> list[tuple[str, str, str, int]]:
    """Every account's balance recomputed from all its postings (not the stored balances):
    (location code, item code, batch number, sum of quantities), one grouped pass."""
    rows = driver_rows(
        connection,
        "SELECT location_id, batch_id, SUM(quantity) FROM postings "
        "GROUP BY location_id, item_id, batch_id",
    )
    codes, batches = account_codes(connection)
    return [(codes[location], *batches[batch], total) for location, batch, total in rows]


def balances_from_running(connection: Connection) -> list[tuple[str, str, str, int]]:
    """Every account's balance read from the postings themselves: the running balance of its
    latest posting, one index lookup per account (`verify` proves the running balances equal
    the sums). Accounts are enumerated from the balances table; their stored values are not
    used."""
    rows = driver_rows(
        connection,
        "SELECT b.location_id, b.batch_id, (SELECT p.balance_after FROM postings p "
        "WHERE p.location_id = b.location_id AND p.item_id = b.item_id "
        "AND p.batch_id = b.batch_id ORDER BY p.id DESC LIMIT 1) FROM balances b",
    )
    codes, batches = account_codes(connection)
    return [(codes[location], *batches[batch], balance or 0) for location, batch, balance in rows]


class PackTotals(NamedTuple):
    """Sealed packs of one (location, batch), as `pack_stock` stores them and as the pack rows
    add up, beside the account's on-hand balance (None for no balance row)."""

    location_code: str
    physical: bool
    item_code: str
    batch_number: str
    stored_quantity: int
    counted_quantity: int
    on_hand: int | None


def pack_totals(connection: Connection) -> list[PackTotals]:
    """Every (location, batch) that has sealed packs in either `pack_stock` or the pack rows."""
    p, s, b = t.packs.c, t.pack_stock.c, t.balances.c
    counted: dict[tuple[int, int], int] = {
        (row[0], row[1]): row[2]
        for row in connection.execute(
            select(p.location_id, p.batch_id, func.sum(p.quantity))
            .where(p.opened_on.is_(None))
            .group_by(p.location_id, p.batch_id)
        )
    }
    stored = {
        (row[0], row[1]): row[2]
        for row in connection.execute(select(s.location_id, s.batch_id, s.sealed_quantity))
    }
    keys = {key for key, value in counted.items() if value} | {
        key for key, value in stored.items() if value
    }
    loc = t.locations.c
    locations = {
        row[0]: (row[1], bool(row[2]))
        for row in connection.execute(select(loc.id, loc.code, loc.physical))
    }
    batch_ids = sorted({batch_id for _, batch_id in keys})
    batches = {
        row[0]: (row[1], row[2])
        for row in connection.execute(
            select(t.batches.c.id, t.items.c.code, t.batches.c.number)
            .join(t.items, t.items.c.id == t.batches.c.item_id)
            .where(t.batches.c.id.in_(batch_ids))
        )
    }
    on_hand = {
        (row[0], row[1]): row[2]
        for row in connection.execute(
            select(b.location_id, b.batch_id, b.on_hand).where(b.batch_id.in_(batch_ids))
        )
    }
    return [
        PackTotals(
            *locations[location_id],
            *batches[batch_id],
            stored.get((location_id, batch_id), 0),
            counted.get((location_id, batch_id), 0),
            on_hand.get((location_id, batch_id)),
        )
        for location_id, batch_id in sorted(keys)
    ]
