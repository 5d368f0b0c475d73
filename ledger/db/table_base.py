"""The declarative base every table of the ledger is declared on, with the naming convention
the migrations follow."""

from __future__ import annotations

from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(row: type[Base]) -> Table:
    """The Core table of a declared row class (typed as the `Table` it is, for insert/update)."""
    table = row.__table__
    assert isinstance(table, Table)
    return table
