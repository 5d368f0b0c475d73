"""Read queries: balances (now and as of a date), the chain digest, and the stored ledger
streamed for verification. Reads never lock and never write."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from typing import NamedTuple

import msgspec
from sqlalchemy import Connection, Date, and_, bindparam, func, select

from ledger.db import tables as t
from ledger.rules import Code, LedgerError
from ledger.verify import StoredBalance, StoredPosting, StoredTransaction


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


def chain_digest(connection: Connection) -> tuple[int, str]:
    """The chain head: (sequence of the last transaction, its hash)."""
    row = connection.execute(select(t.chain_head.c.sequence, t.chain_head.c.hash)).one()
    return row.sequence, row.hash


def checkpoint_head(connection: Connection) -> tuple[int, str]:
    """The chain head to hand out as a checkpoint: refused when the recorded head is not the
    last transaction stored (a cut-off tail, or a head row changed): a checkpoint of a
    transaction that is gone would prove nothing."""
    sequence, digest = chain_digest(connection)
    tx = t.transactions.c
    last = connection.execute(select(tx.id, tx.hash).order_by(tx.id.desc()).limit(1)).first()
    stored = (last.id, last.hash) if last is not None else (0, "0" * 64)
    if stored != (sequence, digest):
        raise LedgerError(
            Code.chain_head_mismatch,
            f"链头记录为第 {sequence} 号，而最后一张单据是第 {stored[0]} 号或其哈希不同："
            "账本可能被截断或改动，请先运行 ledger verify，不能给出核验点 "
            "(the recorded chain head is not the last transaction stored)",
            "chain_head",
        )
    return sequence, digest


def reversals_through(connection: Connection, sequence: int) -> dict[int, str]:
    """The transactions reversed by a reversal at or before `sequence`: reversed sequence ->
    the reversal's number."""
    tx = t.transactions.c
    # All reversals, filtered here: `reverses_id > 0` lets SQLite read the few reversals through
    # the index on reverses_id, where a bound on the sequence had it scan every transaction.
    rows = connection.execute(select(tx.id, tx.reverses_id, tx.number).where(tx.reverses_id > 0))
    return {reversed_: number for reversal, reversed_, number in rows if reversal <= sequence}


def counts(connection: Connection) -> tuple[int, int]:
    """(transactions, postings) stored."""
    transactions = connection.execute(select(func.count()).select_from(t.transactions)).scalar_one()
    postings = connection.execute(select(func.count()).select_from(t.postings)).scalar_one()
    return transactions, postings


def _driver_stream(connection: Connection, query, batch_rows: int, name: str) -> Iterator[tuple]:
    """Rows as the driver returns them, fetched `batch_rows` at a time (through a server-side
    cursor called `name` on PostgreSQL): for reads of the whole ledger, where wrapping every row
    costs more than the database's work. The query's parameters must need no conversion."""
    compiled = query.compile(dialect=connection.dialect)
    raw = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        cursor = raw.cursor(name=name)
        parameters = compiled.params
    else:
        cursor = raw.cursor()
        parameters = [compiled.params[key] for key in compiled.positiontup]
    try:
        cursor.execute(str(compiled), parameters)
        while rows := cursor.fetchmany(batch_rows):
            yield from rows
    finally:
        cursor.close()


def stored_transactions(
    connection: Connection, batch_rows: int = 20_000, after: int = 0
) -> Iterator[StoredTransaction]:
    """Every stored transaction (after sequence `after`) with its postings, in chain order,
    streamed. Transactions and postings are read as two ordered streams and merged: a join
    would repeat each transaction's text for every posting."""
    locations = {
        row.id: (row.code, row.physical)
        for row in connection.execute(
            select(t.locations.c.id, t.locations.c.code, t.locations.c.physical)
        )
    }
    items = {row.id: row.code for row in connection.execute(select(t.items.c.id, t.items.c.code))}
    batches = {
        row.id: (row.number, row.expires_on)
        for row in connection.execute(
            select(t.batches.c.id, t.batches.c.number, t.batches.c.expires_on)
        )
    }
    tx, p = t.transactions.c, t.postings.c
    transactions = _driver_stream(
        connection,
        select(
            tx.id,
            tx.number,
            tx.kind,
            tx.occurred_on,
            tx.location_id,
            tx.counterparty_id,
            tx.reverses_id,
            tx.shipment_id,
            tx.reason,
            tx.memo,
            tx.previous_hash,
            tx.hash,
            tx.chain_version,
            tx.maker_id,
            tx.approver_id,
            tx.receiver_id,
        )
        .where(tx.id > after)
        .order_by(tx.id),
        batch_rows,
        "verify_transactions",
    )
    postings = _driver_stream(
        connection,
        select(
            p.transaction_id,
            p.location_id,
            p.item_id,
            p.batch_id,
            p.quantity,
            p.balance_after,
            p.occurred_on,
        )
        .where(p.transaction_id > after)
        .order_by(p.transaction_id, p.id),
        batch_rows,
        "verify_postings",
    )
    days: dict = {}  # SQLite returns dates as text: each day is parsed once
    pending = next(postings, None)
    for row in transactions:
        sequence = row[0]
        stored_day = occurred_on = row[3]
        if isinstance(occurred_on, str):
            occurred_on = days.get(occurred_on) or days.setdefault(
                occurred_on, dt.date.fromisoformat(occurred_on)
            )
        while pending is not None and pending[0] < sequence:  # no such transaction: skipped
            pending = next(postings, None)
        found = []
        while pending is not None and pending[0] == sequence:
            code, physical = locations[pending[1]]
            number, expires_on = batches[pending[3]]
            found.append(
                StoredPosting(
                    code,
                    physical,
                    items[pending[2]],
                    number,
                    expires_on,
                    pending[4],
                    pending[5],
                    # the transaction's date unless the posting's own differs (then read as is)
                    occurred_on if pending[6] == stored_day else _as_day(pending[6]),
                )
            )
            pending = next(postings, None)
        yield StoredTransaction(
            sequence=sequence,
            number=row[1],
            kind=row[2],
            occurred_on=occurred_on,
            location_code=locations[row[4]][0],
            counterparty_code=locations[row[5]][0] if row[5] is not None else None,
            reverses_sequence=row[6],
            shipment_sequence=row[7],
            reason=row[8],
            memo=row[9],
            previous_hash=row[10],
            hash=row[11],
            postings=tuple(found),
            chain_version=row[12],
            maker_id=row[13],
            approver_id=row[14],
            receiver_id=row[15],
        )


def _as_day(value) -> dt.date | str:
    """A posting's stored date that differs from its transaction's; text that is not a date
    (SQLite stores whatever it is given) is passed on as it is, still unlike the date."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def open_reservations():
    """Per account, the sum of its open reservations (columns location_id, item_id, batch_id,
    open): what its stored reserved quantity must equal."""
    r = t.reservations.c
    return (
        select(r.location_id, r.item_id, r.batch_id, func.sum(r.remaining).label("open"))
        .where(r.status == "open")
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
    for location, batch, on_hand, reserved, open_ in _driver_stream(
        connection, query, 20_000, "verify_balances"
    ):
        item_code, number = batches[batch]
        yield StoredBalance(
            codes[location], location in physical, item_code, number, on_hand, reserved, int(open_)
        )


def transaction_sequences(
    connection: Connection,
    visible_path: str | None = None,
    kind: str | None = None,
    location_code: str | None = None,
    item_code: str | None = None,
    batch_number: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[int]:
    """Sequences of the transactions matching the filters, oldest first.

    visible_path: only transactions whose own location or counterparty lies in that subtree.
    location_code: the transaction's own location or its counterparty.
    """
    tx = t.transactions.c
    own = t.locations.alias("own")
    other = t.locations.alias("other")
    query = (
        select(tx.id)
        .join(own, own.c.id == tx.location_id)
        .outerjoin(other, other.c.id == tx.counterparty_id)
        .order_by(tx.id)
        .limit(limit)
        .offset(offset)
    )
    if visible_path is not None:
        query = query.where(
            own.c.path.startswith(visible_path, autoescape=True)
            | other.c.path.startswith(visible_path, autoescape=True)
        )
    if kind is not None:
        query = query.where(tx.kind == kind)
    if location_code is not None:
        query = query.where((own.c.code == location_code) | (other.c.code == location_code))
    if date_from is not None:
        query = query.where(tx.occurred_on >= date_from)
    if date_to is not None:
        query = query.where(tx.occurred_on <= date_to)
    if item_code is not None or batch_number is not None:
        p = t.postings.c
        inner = select(p.transaction_id).join(t.items, t.items.c.id == p.item_id)
        if item_code is not None:
            inner = inner.where(t.items.c.code == item_code)
        if batch_number is not None:
            inner = inner.join(t.batches, t.batches.c.id == p.batch_id).where(
                t.batches.c.number == batch_number
            )
        query = query.where(tx.id.in_(inner))
    return list(connection.execute(query).scalars())


class LocationRecord(msgspec.Struct, frozen=True):
    """population: 人口, the default weight of the location's share in an allocation plan
    (None: not known)."""

    code: str
    name: str
    level: str
    parent_code: str | None
    physical: bool
    path: str
    population: int | None = None


def locations(
    connection: Connection,
    under_path: str | None = None,
    level: str | None = None,
    include_virtual: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[LocationRecord]:
    """Locations in tree order (by path)."""
    loc = t.locations.c
    parent = t.locations.alias("parent")
    query = (
        select(loc.code, loc.name, loc.level, parent.c.code, loc.physical, loc.path, loc.population)
        .outerjoin(parent, parent.c.id == loc.parent_id)
        .order_by(loc.physical.desc(), loc.path)
        .limit(limit)
        .offset(offset)
    )
    if under_path is not None:
        query = query.where(loc.path.startswith(under_path, autoescape=True))
    if level is not None:
        query = query.where(loc.level == level)
    if not include_virtual:
        query = query.where(loc.physical.is_(True))
    return [
        LocationRecord(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6])
        for r in connection.execute(query)
    ]


def populations(connection: Connection, codes: list[str]) -> dict[str, int | None]:
    """人口 of these locations, by code."""
    loc = t.locations.c
    query = select(loc.code, loc.population).where(loc.code.in_(codes))
    return {code: population for code, population in connection.execute(query)}


def item_codes(connection: Connection, limit: int = 50, offset: int = 0) -> list[str]:
    return list(
        connection.execute(
            select(t.items.c.code).order_by(t.items.c.code).limit(limit).offset(offset)
        ).scalars()
    )


def batch_keys(
    connection: Connection, item_code: str | None = None, limit: int = 50, offset: int = 0
) -> list[tuple[str, str]]:
    """(item code, batch number) in item order, then oldest batch first."""
    query = (
        select(t.items.c.code, t.batches.c.number)
        .join(t.items, t.items.c.id == t.batches.c.item_id)
        .order_by(t.items.c.code, t.batches.c.id)
        .limit(limit)
        .offset(offset)
    )
    if item_code is not None:
        query = query.where(t.items.c.code == item_code)
    return [(row[0], row[1]) for row in connection.execute(query)]


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


def driver_tuples(connection: Connection, query) -> list[tuple]:
    """A query's rows as the driver returns them (its parameters converted as usual): for reads
    of many small rows of plain numbers and codes, where wrapping each row costs more than the
    database's work."""
    result = connection.execute(query)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _driver_rows(connection: Connection, statement: str) -> list[tuple]:
    """Plain tuples straight from the driver's cursor: for whole-ledger reads, where wrapping
    every row costs more than the database's work."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(statement)
        return cursor.fetchall()
    finally:
        cursor.close()


def stored_balance_totals(connection: Connection) -> list[tuple[str, str, str, int]]:
    """Every account's stored on-hand balance (what a balance report reads), by codes."""
    rows = _driver_rows(connection, "SELECT location_id, batch_id, on_hand FROM balances")
    codes, batches = account_codes(connection)
    return [(codes[location], *batches[batch], on_hand) for location, batch, on_hand in rows]


def account_codes(connection: Connection) -> tuple[dict, dict]:
    """Location codes by id, and (item code, batch number) by batch id."""
    codes = dict(connection.execute(select(t.locations.c.id, t.locations.c.code)).all())
    batches = {
        row[0]: (row[1], row[2])
        for row in connection.execute(
            select(t.batches.c.id, t.items.c.code, t.batches.c.number).join(
                t.items, t.items.c.id == t.batches.c.item_id
            )
        )
    }
    return codes, batches


def balances_from_postings(connection: Connection) -> list[tuple[str, str, str, int]]:
    """Every account's balance recomputed from all its postings (not the stored balances):
    (location code, item code, batch number, sum of quantities), one grouped pass."""
    rows = _driver_rows(
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
    rows = _driver_rows(
        connection,
        "SELECT b.location_id, b.batch_id, (SELECT p.balance_after FROM postings p "
        "WHERE p.location_id = b.location_id AND p.item_id = b.item_id "
        "AND p.batch_id = b.batch_id ORDER BY p.id DESC LIMIT 1) FROM balances b",
    )
    codes, batches = account_codes(connection)
    return [(codes[location], *batches[batch], balance or 0) for location, batch, balance in rows]


def user_ids(connection: Connection) -> frozenset[int]:
    """The id of every stored user (revoked ones too): who a transaction may name."""
    return frozenset(connection.execute(select(t.users.c.id)).scalars())


def chain_version_starts(connection: Connection) -> dict[int, int]:
    """Each chain version and the first sequence hashed with it."""
    c = t.chain_versions.c
    rows = connection.execute(select(c.version, c.first_sequence))
    return {version: first for version, first in rows}
