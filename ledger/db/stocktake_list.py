"""Stocktakes listed: the headers of the counts opened at places under a path, newest first."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import Connection, select

from ledger.db import tables as t
from ledger.db.session import Session

_S, _LOC = t.stocktakes.c, t.locations.c


class StocktakeHeader(NamedTuple):
    number: str
    status: str
    location_code: str
    location_name: str
    cut_off: dt.date
    blind: bool
    subtree: bool
    item_codes: str
    location_codes: str
    memo: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    approved_at: dt.datetime | None


def stocktake_headers(
    connection: Connection, under: str | None, status: str | None, limit: int, offset: int
) -> list[StocktakeHeader]:
    """Counts whose own location lies under `under` (a path prefix; None: everywhere), of
    `status` (None: any), newest first."""
    query = select(
        _S.number,
        _S.status,
        _LOC.code,
        _LOC.name,
        _S.cut_off,
        _S.blind,
        _S.subtree,
        _S.item_codes,
        _S.location_codes,
        _S.memo,
        _S.created_at,
        _S.closed_at,
        _S.approved_at,
    ).join(t.locations, _LOC.id == _S.location_id)
    if under is not None:
        query = query.where(_LOC.path.startswith(under, autoescape=True))
    if status is not None:
        query = query.where(_S.status == status)
    query = query.order_by(_S.id.desc()).limit(limit).offset(offset)
    headers = []
    for row in connection.execute(query):
        values = list(row)
        values[4] = Session.read_date(values[4])
        headers.append(StocktakeHeader(*values))
    return headers
