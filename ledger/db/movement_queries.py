"""Reads the workspace's movement forms need that no other listing gives: the latest vouchers
of one location, newest first. Reads never lock and never write."""

from __future__ import annotations

from sqlalchemy import Connection, select

from ledger.db import tables as t


def latest_sequences(connection: Connection, location_code: str, limit: int) -> list[int]:
    """Sequences of the `limit` latest transactions whose own location or counterparty is the
    location `location_code`, newest first (none for an unknown code)."""
    tx = t.transactions.c
    place = select(t.locations.c.id).where(t.locations.c.code == location_code).scalar_subquery()
    query = (
        select(tx.id)
        .where((tx.location_id == place) | (tx.counterparty_id == place))
        .order_by(tx.id.desc())
        .limit(limit)
    )
    return [row[0] for row in connection.execute(query)]
