"""Journal reads: the chain head and checkpoints, reversals, counts, the stored transactions
streamed for verification, the sequences a listing shows, and who and which chain version a
transaction may name. Reads never lock and never write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import Connection, func, select

from ledger.db import tables as t
from ledger.db.raw_reads import driver_stream
from ledger.rules import Code, LedgerError
from ledger.verify import StoredPosting, StoredTransaction


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


def stored_transactions(
    connection: Connection, batch_rows: int = 20_000, after: int = 0
) -> Iterator[StoredTransaction]:
    """Every stored transaction (after sequence `after`) with its postings, in chain order,
    streamed. Transactions and postings are read as two ordered streams and merged: a join
    would repeat each transaction's text for every posting."""
    locations, items, batches = _codes(connection)
    transactions = _transaction_rows(connection, after, batch_rows)
    postings = _posting_rows(connection, after, batch_rows)
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


def _codes(connection: Connection) -> tuple[dict, dict, dict]:
    """Location (code, physical), item code and batch (number, expires_on), by id."""
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
    return locations, items, batches


def _transaction_rows(connection: Connection, after: int, batch_rows: int) -> Iterator[tuple]:
    tx = t.transactions.c
    return driver_stream(
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


def _posting_rows(connection: Connection, after: int, batch_rows: int) -> Iterator[tuple]:
    p = t.postings.c
    return driver_stream(
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


def _as_day(value) -> dt.date | str:
    """A posting's stored date that differs from its transaction's; text that is not a date
    (SQLite stores whatever it is given) is passed on as it is, still unlike the date."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


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


def user_ids(connection: Connection) -> frozenset[int]:
    """The id of every stored user (revoked ones too): who a transaction may name."""
    return frozenset(connection.execute(select(t.users.c.id)).scalars())


def chain_version_starts(connection: Connection) -> dict[int, int]:
    """Each chain version and the first sequence hashed with it."""
    c = t.chain_versions.c
    rows = connection.execute(select(c.version, c.first_sequence))
    return {version: first for version, first in rows}
