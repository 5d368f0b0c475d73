"""SQLite tables read as Arrow columns through Python's own sqlite3 module.

One aggregate query per slice of a table: SQLite itself joins each column into one string
(`group_concat`) inside a single step — no Python object per row — and the strings become
arrays at C speed (numpy parses the numbers; a text column is its bytes plus the byte length
of each value, -1 for null). SQLite stores what it is given, so what the columns do not take
is found and refused (`ColumnsUnusual`, for the reference path to read): a number that is not
an integer fails to parse; a blob in a text column, or a number in a date column (whose
affinity is numeric), is counted by one comparison per value in the same query.

Reading through the same SQLite library as the rest of the process matters: a second copy of
SQLite in one process (an ADBC driver brings its own) does not see the other's locks and reads
a stale WAL — the SQLite documentation's "multiple copies of SQLite linked into the same
application".
"""

from __future__ import annotations

import sqlite3
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

NULL = np.iinfo(np.int64).min  # how a null integer is read (a stored one is refused)


class ColumnsUnusual(Exception):
    """A value the columns do not take as it is, or text that is not UTF-8."""


class Column(NamedTuple):
    """A column to read. kind: integer, text or date (a date column's affinity is numeric:
    a date that looks like a number would be stored as one)."""

    name: str
    kind: str
    nullable: bool = False


def _aggregates(column: Column) -> list[str]:
    """The aggregate expressions for a column, in the order `_decode` takes them."""
    name = column.name
    if column.kind == "integer":
        return [
            f"group_concat(ifnull({name}, {NULL}))" if column.nullable else f"group_concat({name})"
        ]
    return [
        f"group_concat(ifnull({name}, ''), '')",
        f"group_concat(ifnull(length(CAST({name} AS BLOB)), -1))",
    ]


def _oddities(columns: Sequence[Column]) -> str:
    """One count of the values of another storage class: blobs in text and date columns (a
    blob sorts after every text), numbers in date columns (a number sorts before)."""
    tests = [f"{c.name} >= X''" for c in columns if c.kind != "integer"]
    tests += [f"{c.name} < ''" for c in columns if c.kind == "date"]
    return f"total({' OR '.join(tests)})" if tests else "0"


def read_table(
    cursor: Any, table: str, columns: Sequence[Column], where: str = "", parameters: tuple = ()
) -> pa.Table:
    """The rows of `table` matching `where`, in the order SQLite scans them, as Arrow
    columns (integers int64, texts and dates string)."""
    expressions = ["count(*)", _oddities(columns)]
    expressions += [e for column in columns for e in _aggregates(column)]
    statement = f"SELECT {', '.join(expressions)} FROM {table}" + (
        f" WHERE {where}" if where else ""
    )
    try:
        cursor.execute(statement, parameters)
        row = list(cursor.fetchone())
    except sqlite3.OperationalError as error:  # text that is not UTF-8
        raise ColumnsUnusual(str(error)) from error
    count, odd = row.pop(0), row.pop(0)
    if odd:
        raise ColumnsUnusual(f"{table}: a value of another storage class")
    arrays = {column.name: _decode(column, row, count) for column in columns}
    for column in columns:
        if column.kind == "integer" and column.nullable and arrays[column.name].null_count:
            _no_stored_null_value(cursor, table, column, where, parameters)
    return pa.table(arrays)


def _decode(column: Column, row: list, count: int) -> pa.Array:
    """Take this column's aggregates off the front of `row`."""
    if column.kind == "integer":
        values = _integers(row.pop(0), count)
        nulls = values == NULL if column.nullable else None
        return pa.array(values, pa.int64(), mask=nulls)
    data = (row.pop(0) or "").encode("utf-8")
    lengths = _integers(row.pop(0), count)
    nulls = lengths < 0
    offsets = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.maximum(lengths, 0), out=offsets[1:])
    if offsets[-1] != len(data):
        raise ColumnsUnusual(f"{column.name}: lengths do not add up")
    validity = pa.array(~nulls).buffers()[1] if nulls.any() else None
    large = offsets[-1] >= 1 << 31
    return pa.Array.from_buffers(
        pa.large_string() if large else pa.string(),
        count,
        [
            validity,
            pa.py_buffer(offsets if large else offsets.astype(np.int32)),
            pa.py_buffer(data),
        ],
        null_count=int(nulls.sum()),
    )


def _no_stored_null_value(cursor: Any, table: str, column: Column, where: str, parameters) -> None:
    """A stored value equal to the number nulls are read as would be taken for a null."""
    condition = f"{column.name} = {NULL}" + (f" AND {where}" if where else "")
    if cursor.execute(f"SELECT count(*) FROM {table} WHERE {condition}", parameters).fetchone()[0]:
        raise ColumnsUnusual(f"{column.name}: the value {NULL} is stored")


def _integers(text: str | None, count: int) -> np.ndarray:
    if not count:
        return np.zeros(0, dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # text numpy cannot read to its end
        try:
            values = np.fromstring(text or "", dtype=np.int64, sep=",")
        except (DeprecationWarning, ValueError) as error:
            raise ColumnsUnusual(str(error)) from error
    if len(values) != count:
        raise ColumnsUnusual("a number list of the wrong length")
    return values
