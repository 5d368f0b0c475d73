"""Stocktakes listed for a reader: the counts opened at places inside a subtree, newest first
(who may read which subtree is the caller's decision: api/policy.py's `scope_path`)."""

from __future__ import annotations

import datetime as dt

import msgspec

from ledger.db.moments import as_utc
from ledger.db.stocktake_list import stocktake_headers
from ledger.db.unit_of_work import Database


class StocktakeSummary(msgspec.Struct, frozen=True):
    number: str
    status: str
    location_code: str
    location_name: str
    cut_off: dt.date
    blind: bool
    include_subtree: bool
    item_codes: tuple[str, ...]
    location_codes: tuple[str, ...]
    memo: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    approved_at: dt.datetime | None


def stocktakes_under(
    database: Database,
    under: str | None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[StocktakeSummary]:
    """The counts whose location lies under `under` (a path prefix; None: every one), of
    `status` (None: any), newest first."""
    with database.read() as connection:
        rows = stocktake_headers(connection, under, status, limit, offset)
    return [
        StocktakeSummary(
            row.number,
            row.status,
            row.location_code,
            row.location_name,
            row.cut_off,
            bool(row.blind),
            bool(row.subtree),
            tuple(row.item_codes.split()),
            tuple(row.location_codes.split()),
            row.memo,
            as_utc(row.created_at),
            as_utc(row.closed_at) if row.closed_at else None,
            as_utc(row.approved_at) if row.approved_at else None,
        )
        for row in rows
    ]
