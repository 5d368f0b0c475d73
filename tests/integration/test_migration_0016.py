"""Migration 0016 (level norms per city): the norms set before it keep their meaning (every
city: root_id NULL); the database refuses a city on a location's norm; going down is refused
while a city's level norm exists (the older schema would apply it to every city), and allowed
again without one."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import exc, inspect, text

from ledger.db.engine import alembic_config, current_revision
from tests.conftest import ENGINE_KINDS, migrated_engine

NORM = (
    "INSERT INTO stock_norms (level, location_id, item_id, min_months, max_months, valid_from, "
    "set_at{extra}) VALUES ({level}, {location}, NULL, 1, 2, '2026-06-30', "
    "'2026-06-30 08:00:00+08'{value})"
)


@pytest.fixture(params=ENGINE_KINDS)
def engine(request, tmp_path):
    with migrated_engine(request.param, tmp_path, run_migrations=True) as engine:
        yield engine


def _norm(connection, level="'township'", location="NULL", root=None) -> None:
    extra, value = (", root_id", f", {root}") if root is not None else ("", "")
    connection.execute(text(NORM.format(extra=extra, level=level, location=location, value=value)))


def test_0016_keeps_earlier_norms_for_every_city_and_refuses_to_lose_a_citys(engine):
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection=connection), "0015")
    assert "root_id" not in {c["name"] for c in inspect(engine).get_columns("stock_norms")}
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO locations (code, name, level, physical, parent_id, path) "
                "VALUES ('510100', '成都市', 'city', true, NULL, '/510100/')"
            )
        )
        _norm(connection)
        command.upgrade(alembic_config(connection=connection), "head")
    head = current_revision(engine)
    with engine.begin() as connection:
        city = connection.execute(text("SELECT id FROM locations WHERE code = '510100'")).scalar()
        assert connection.execute(text("SELECT root_id FROM stock_norms")).all() == [(None,)]
        _norm(connection, root=city)
    with pytest.raises(exc.IntegrityError), engine.begin() as connection:
        _norm(connection, level="NULL", location=str(city), root=city)  # a place's: no city
    with pytest.raises(RuntimeError, match="one city's"), engine.begin() as connection:
        command.downgrade(alembic_config(connection=connection), "0015")
    assert current_revision(engine) == head
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM stock_norms WHERE root_id IS NOT NULL"))
        command.downgrade(alembic_config(connection=connection), "0015")
        assert connection.execute(text("SELECT COUNT(*) FROM stock_norms")).scalar() == 1
