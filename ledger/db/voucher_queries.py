"""Voucher reads for the workspace's 凭证 pages: a search newest first (by part of the number,
kind, location, dates, within a subtree) and when a voucher was recorded. Reads never lock and
never write."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import Connection, select

from ledger.db import tables as t
from ledger.db.moments import as_utc


class VoucherSearch(NamedTuple):
    """visible_path: only vouchers whose own location or counterparty lies in that subtree
    (None: everywhere). number: part of the voucher number. location_code: the voucher's own
    location or its counterparty."""

    visible_path: str | None = None
    number: str | None = None
    kind: str | None = None
    location_code: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def voucher_sequences(
    connection: Connection, wanted: VoucherSearch, limit: int, offset: int = 0
) -> list[int]:
    """Sequences of the vouchers matching `wanted`, newest first (by business date, then by
    position in the chain)."""
    tx = t.transactions.c
    own = t.locations.alias("own")
    other = t.locations.alias("other")
    query = (
        select(tx.id)
        .join(own, own.c.id == tx.location_id)
        .outerjoin(other, other.c.id == tx.counterparty_id)
        .order_by(tx.occurred_on.desc(), tx.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if wanted.visible_path is not None:
        query = query.where(
            own.c.path.startswith(wanted.visible_path, autoescape=True)
            | other.c.path.startswith(wanted.visible_path, autoescape=True)
        )
    if wanted.number:
        query = query.where(tx.number.contains(wanted.number, autoescape=True))
    if wanted.kind is not None:
        query = query.where(tx.kind == wanted.kind)
    if wanted.location_code is not None:
        code = wanted.location_code
        query = query.where((own.c.code == code) | (other.c.code == code))
    if wanted.date_from is not None:
        query = query.where(tx.occurred_on >= wanted.date_from)
    if wanted.date_to is not None:
        query = query.where(tx.occurred_on <= wanted.date_to)
    return list(connection.execute(query).scalars())


def recorded_at(connection: Connection, sequence: int) -> dt.datetime | None:
    """When the voucher was recorded, in UTC (its business date is `occurred_on`)."""
    moment = connection.execute(
        select(t.transactions.c.recorded_at).where(t.transactions.c.id == sequence)
    ).scalar_one_or_none()
    return as_utc(moment) if moment is not None else None
