"""The Alembic history builds the schema the models describe, on both engines."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from ledger.db.engine import alembic_config, current_revision
from ledger.db.tables import Base


def test_an_empty_database_upgrades_to_head(engine):
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current_revision(engine) == head
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_the_migrated_schema_matches_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_the_first_migration_seeds_virtual_locations_and_the_chain(engine):
    with engine.connect() as connection:
        virtual = (
            connection.execute(
                text("SELECT code FROM locations WHERE physical = false ORDER BY code")
            )
            .scalars()
            .all()
        )
        head = connection.execute(text("SELECT sequence, hash FROM chain_head")).one()
    assert virtual == ["adjustment", "distributed", "in-transit", "scrapped", "supplier"]
    assert tuple(head) == (0, "0" * 64)


def test_downgrade_to_base_and_upgrade_again(engine):
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection=connection), "base")
    assert "postings" not in inspect(engine).get_table_names()
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection=connection), "head")
    assert "postings" in inspect(engine).get_table_names()
