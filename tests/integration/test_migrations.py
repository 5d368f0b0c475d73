"""The Alembic history builds the schema the models describe, on both engines."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from ledger.db.engine import alembic_config, current_revision
from ledger.db.tables import Base
from tests.conftest import ENGINE_KINDS, migrated_engine


@pytest.fixture(params=ENGINE_KINDS)
def engine(request, tmp_path):
    """Here the whole Alembic history runs for every test (elsewhere a test's database is a
    copy of a template migrated once, tests/clones.py)."""
    with migrated_engine(request.param, tmp_path, run_migrations=True) as engine:
        yield engine


def test_an_empty_database_upgrades_to_head(engine):
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current_revision(engine) == head
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_the_migrated_schema_matches_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_the_migrations_seed_virtual_locations_and_the_chain(engine):
    with engine.connect() as connection:
        virtual = (
            connection.execute(
                text("SELECT code FROM locations WHERE physical = false ORDER BY code")
            )
            .scalars()
            .all()
        )
        head = connection.execute(text("SELECT sequence, hash FROM chain_head")).one()
    # the first five from 0001, `opening` (期初) from 0009
    assert virtual == ["adjustment", "distributed", "in-transit", "opening", "scrapped", "supplier"]
    assert tuple(head) == (0, "0" * 64)


def test_downgrade_to_base_and_upgrade_again(engine):
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection=connection), "base")
    assert "postings" not in inspect(engine).get_table_names()
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection=connection), "head")
    assert "postings" in inspect(engine).get_table_names()


def test_0008_keeps_a_populated_ledger_and_gives_its_closes_the_root(engine):
    """A ledger made before 0008 (one root, a close with its balances) upgrades in place: old
    transactions keep chain version 1, the close belongs to the root, every item, location,
    batch and user (a revoked one too) gets version 1, and the closes' balances still point at
    their close."""
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection=connection), "0007")
    now = "2026-06-01 00:00:00"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO locations (code, name, level, physical, parent_id, path) "
                "VALUES ('510100', '成都市', 'city', true, NULL, '/510100/')"
            )
        )
        root = connection.execute(text("SELECT id FROM locations WHERE code = '510100'")).scalar()
        connection.execute(
            text(
                "INSERT INTO items (code, name, kind, category, base_unit, expiry_tracked) "
                "VALUES ('BYT', '避孕套', 'contraceptive', '避孕套', '只', true)"
            )
        )
        item = connection.execute(text("SELECT id FROM items")).scalar()
        connection.execute(
            text(
                "INSERT INTO item_packs (item_id, position, name, base_units) "
                "VALUES (:item, 0, '盒', 3)"
            ),
            {"item": item},
        )
        connection.execute(
            text(
                "INSERT INTO batches (item_id, number, produced_on, expires_on) "
                "VALUES (:item, 'B1', NULL, '2028-01-31')"
            ),
            {"item": item},
        )
        batch = connection.execute(text("SELECT id FROM batches")).scalar()
        supplier = connection.execute(
            text("SELECT id FROM locations WHERE code = 'supplier'")
        ).scalar()
        for label, role, location, revoked in (
            ("市仓库保管员", "clerk", root, None),
            ("省级管理员", "admin", supplier, None),
            ("已离岗", "auditor", root, now),
        ):
            connection.execute(
                text(
                    "INSERT INTO users (label, role, location_id, token_hash, created_at, "
                    "revoked_at) VALUES (:label, :role, :location, :hash, :now, :revoked)"
                ),
                {
                    "label": label,
                    "role": role,
                    "location": location,
                    "hash": label.encode().hex()[:64],
                    "now": now,
                    "revoked": revoked,
                },
            )
        connection.execute(
            text(
                "INSERT INTO period_closes (period_end, sequence, hash, accounts, closed_at) "
                "VALUES ('2026-05-31', 0, :hash, 1, :now)"
            ),
            {"hash": "0" * 64, "now": now},
        )
        close = connection.execute(text("SELECT id FROM period_closes")).scalar()
        connection.execute(
            text(
                "INSERT INTO closing_balances (close_id, location_id, item_id, batch_id, on_hand) "
                "VALUES (:close, :root, :item, :batch, 0)"
            ),
            {"close": close, "root": root, "item": item, "batch": batch},
        )
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection=connection), "0008")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT root_id FROM period_closes")).scalar() == root
        assert connection.execute(text("SELECT close_id FROM closing_balances")).scalar() == close
        versions = connection.execute(
            text(
                "SELECT object_type, version, content FROM reference_versions "
                "ORDER BY object_type, object_id"
            )
        ).all()
    kinds = [row.object_type for row in versions]
    assert kinds.count("location") == 6  # the root and the five virtual locations
    assert kinds.count("item") == 1 and kinds.count("batch") == 1
    assert {row.version for row in versions} == {1}
    batch_version = next(row for row in versions if row.object_type == "batch")
    assert batch_version.content == '{"expires_on":"2028-01-31","produced_on":null}'
    item_version = next(row for row in versions if row.object_type == "item")
    assert '"packs":[["盒",3]]' in item_version.content
    assert sorted(row.content for row in versions if row.object_type == "user") == sorted(
        [
            '{"label":"市仓库保管员","location":"510100","role":"clerk"}',
            '{"label":"省级管理员","location":"supplier","role":"admin"}',
            '{"label":"已离岗","location":"510100","role":"auditor"}',
        ]
    )


def test_0008_refuses_to_downgrade_a_ledger_of_two_cities_and_changes_nothing(engine):
    with engine.begin() as connection:
        for code, name in (("510100", "成都市"), ("500100", "渝中样例市")):
            connection.execute(
                text(
                    "INSERT INTO locations (code, name, level, physical, parent_id, path) "
                    "VALUES (:code, :name, 'city', true, NULL, :path)"
                ),
                {"code": code, "name": name, "path": f"/{code}/"},
            )
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with pytest.raises(RuntimeError, match="several cities"), engine.begin() as connection:
        command.downgrade(alembic_config(connection=connection), "0007")
    assert current_revision(engine) == head
    columns = {column["name"] for column in inspect(engine).get_columns("stocktakes")}
    assert {"subtree", "location_codes"} <= columns


def test_0009_goes_down_and_up_again(engine):
    """Below 0009 the `opening` location and its version are gone (as 0008 left the ledger);
    going up again adds them once."""
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection=connection), "0008")
        assert "user_roles" not in inspect(connection).get_table_names()
        opening = "SELECT COUNT(*) FROM locations WHERE code = 'opening'"
        assert connection.execute(text(opening)).scalar() == 0
        command.upgrade(alembic_config(connection=connection), "head")
    with engine.connect() as connection:
        rows = connection.execute(text(opening)).scalar()
        versions = connection.execute(
            text(
                "SELECT COUNT(*) FROM reference_versions v JOIN locations l ON l.id = v.object_id "
                "WHERE v.object_type = 'location' AND l.code = 'opening'"
            )
        ).scalar()
    assert (rows, versions) == (1, 1)
    assert "user_roles" in inspect(engine).get_table_names()


def test_0009_refuses_to_downgrade_a_ledger_with_opening_balances(ledger):
    from ledger import commands as c
    from tests.builder import ledger_from_text

    ledger_from_text(ledger, "location 510100 成都市 city\nitem NH2014 年画 printed 张")
    ledger.execute(c.OpenBalances("510100", (c.ReceiptLine("NH2014", "2014-01", 5),)))
    engine = ledger.database.engine
    with pytest.raises(RuntimeError, match="0009"), engine.begin() as connection:
        command.downgrade(alembic_config(connection=connection), "0008")
    assert "user_roles" in inspect(engine).get_table_names()
