"""Reads straight from the driver: plain tuples, no per-row wrapping, for reads of the whole
ledger or of many small rows, where wrapping every row costs more than the database's work."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection, select

from ledger.db import tables as t


def driver_tuples(connection: Connection, query) -> list[tuple]:
    """A query's rows as the driver returns them (its parameters converted as usual): for reads
    of many small rows of plain numbers and codes, where wrapping each row costs more than the
    database's work."""
    result = connection.execute(query)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def driver_rows(connection: Connection, statement: str) -> list[tuple]:
    """Plain tuples straight from the driver's cursor: for whole-ledger reads, where wrapping
    every row costs more than the database's work."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(statement)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def driver_stream(connection: Connection, query, batch_rows: int, name: str) -> Iterator[tuple]:
    """Rows as the driver returns them, fetched `batch_rows` at a time (through a server-side
    cursor called `name` on PostgreSQL): for reads of the whole ledger, where wrapping every row
    costs more than the database's work. The query's parameters must need no conversion."""
    compiled = query.compile(dialect=connection.dialect)
    raw = connection.connection.dbapi_connection
    assert raw is not None  # an open connection has its driver connection
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
