"""Fixtures of the unit tests: the use cases on a fake unit of work (no database)."""

from __future__ import annotations

import pytest

from tests.unit.fake_store import FakeDatabase
from tests.unit.small_office import set_up, stock_up


@pytest.fixture
def fake() -> FakeDatabase:
    """The small office (tests/unit/small_office.py) set up and stocked, in memory."""
    database = FakeDatabase()
    set_up(database)
    stock_up(database)
    return database
