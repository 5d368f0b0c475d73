"""The states, roles and kinds the database holds are enums of the core: each table's CHECK
constraint allows exactly its enum's values, in the enum's order."""

from __future__ import annotations

from enum import StrEnum

import pytest
from sqlalchemy import CheckConstraint

from ledger.db.tables import Base
from ledger.model import (
    ItemKind,
    LocationLevel,
    ReservationStatus,
    Role,
    ScanDocumentStatus,
    ScanPurpose,
    StocktakeStatus,
)
from ledger.requests import RequestStatus

CHECKED: list[tuple[str, str, type[StrEnum]]] = [
    ("items", "kind", ItemKind),
    ("locations", "level", LocationLevel),
    ("reservations", "status", ReservationStatus),
    ("users", "role", Role),
    ("user_roles", "role", Role),
    ("allocation_requests", "status", RequestStatus),
    ("scan_documents", "purpose", ScanPurpose),
    ("scan_documents", "status", ScanDocumentStatus),
    ("stocktakes", "status", StocktakeStatus),
]


@pytest.mark.parametrize(
    ("table", "column", "enum"), CHECKED, ids=lambda x: getattr(x, "__name__", x)
)
def test_a_check_constraint_allows_exactly_the_values_of_its_enum(table, column, enum):
    name = f"ck_{table}_{column}"
    constraint = next(
        c
        for c in Base.metadata.tables[table].constraints
        if isinstance(c, CheckConstraint) and c.name == name
    )
    allowed = ", ".join(f"'{member.value}'" for member in enum)
    assert str(constraint.sqltext) == f"{column} IN ({allowed})"


def test_every_state_is_stored_as_its_name():
    """A member's name is its value, so a driver that binds an enum by name stores the same."""
    for _, _, enum in CHECKED:
        assert all(member.name.rstrip("_") == member.value for member in enum), enum
