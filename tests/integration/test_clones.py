"""A test's migrated database is a copy of a template migrated once per process
(tests/clones.py): the copy must be what the migrations make — the same tables, columns,
indexes, constraints, sequences, guard function and triggers, and the same rows (alembic_version,
the virtual locations, chain_head, their reference versions) as a database the whole Alembic
history has just run on, on both engines."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import Engine, text

from tests.conftest import ENGINE_KINDS, migrated_engine

# Written by the migrations from the clock: the template's are a little older than a fresh run's.
CLOCK_COLUMNS = {"reference_versions": ("valid_from", "recorded_at")}

SQLITE_PRAGMAS = ("journal_mode", "user_version", "application_id", "page_size", "auto_vacuum")

# Everything PostgreSQL holds in the schema, with the schema's name written as <schema>.
POSTGRES_CATALOG = {
    "relations": """
        SELECT c.relname, c.relkind::text, c.relpersistence::text
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema()""",
    "columns": """
        SELECT table_name, column_name, ordinal_position, data_type, character_maximum_length,
               numeric_precision, numeric_scale, is_nullable, column_default, is_identity
        FROM information_schema.columns WHERE table_schema = current_schema()""",
    "constraints": """
        SELECT c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid),
               k.condeferrable, k.condeferred
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema()""",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = current_schema()""",
    "triggers": """
        SELECT c.relname, t.tgname, t.tgenabled::text, pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND NOT t.tgisinternal""",
    "functions": """
        SELECT p.proname, pg_get_functiondef(p.oid)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = current_schema()""",
    "types": """
        SELECT t.typname, t.typtype::text,
               array_to_string(ARRAY(SELECT e.enumlabel FROM pg_enum e
                                     WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder), ',')
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = current_schema()""",
    "sequences": """
        SELECT sequencename, data_type::text, start_value, increment_by, max_value, cache_size,
               cycle, last_value
        FROM pg_sequences WHERE schemaname = current_schema()""",
    "sequence owners": """
        SELECT s.relname, c.relname, a.attname, d.deptype::text
        FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
        JOIN pg_class c ON c.oid = d.refobjid
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
        JOIN pg_namespace n ON n.oid = s.relnamespace
        WHERE n.nspname = current_schema() AND d.classid = 'pg_class'::regclass""",
    "comments": """
        SELECT c.relname, d.objsubid, d.description
        FROM pg_description d JOIN pg_class c ON c.oid = d.objoid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND d.classoid = 'pg_class'::regclass""",
}


def _sorted(rows) -> list[tuple]:
    return sorted((tuple(row) for row in rows), key=repr)


def _constraints_sorted(sql: str | None) -> str | None:
    """A table's CREATE statement with its constraint lines in name order: Alembic's batch
    mode (SQLite) writes them in set order, which differs from run to run."""
    if sql is None:
        return None
    lines = sql.split("\n")
    constraints = sorted(line.rstrip(", ") for line in lines if line.startswith("\tCONSTRAINT "))
    return "\n".join(line for line in lines if not line.startswith("\tCONSTRAINT ")) + repr(
        constraints
    )


def sqlite_schema(engine: Engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        master = [
            (kind, name, table, _constraints_sorted(sql))
            for kind, name, table, sql in connection.execute(
                text("SELECT type, name, tbl_name, sql FROM sqlite_master")
            )
        ]
    raw = sqlite3.connect(engine.url.database)  # the file's own settings, no connect hook
    try:
        pragmas = [(name, raw.execute(f"PRAGMA {name}").fetchone()[0]) for name in SQLITE_PRAGMAS]
    finally:
        raw.close()
    return {"sqlite_master": _sorted(master), "pragmas": pragmas}


def postgres_schema(engine: Engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        name = connection.execute(text("SELECT current_schema()")).scalar_one()
        return {
            what: _sorted(
                tuple(
                    value.replace(name, "<schema>") if isinstance(value, str) else value
                    for value in row
                )
                for row in connection.execute(text(query))
            )
            for what, query in POSTGRES_CATALOG.items()
        }


def rows(engine: Engine) -> tuple[dict[str, list[tuple]], dict[str, list[tuple]]]:
    """Every table's rows, and apart from them the values the migrations took from the clock."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'table'"
        else:
            query = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        tables = connection.execute(text(query)).scalars().all()
        held: dict[str, list[tuple]] = {}
        clocks: dict[str, list[tuple]] = {}
        for table in tables:
            result = connection.execute(text(f'SELECT * FROM "{table}"'))
            columns = list(result.keys())
            timed = [columns.index(column) for column in CLOCK_COLUMNS.get(table, ())]
            table_rows = [tuple(row) for row in result]
            held[table] = _sorted(
                tuple(None if index in timed else value for index, value in enumerate(row))
                for row in table_rows
            )
            if timed:
                clocks[table] = sorted(
                    (row[0], *(row[index] for index in timed)) for row in table_rows
                )
    return held, clocks


@pytest.mark.parametrize("kind", ENGINE_KINDS)
def test_a_copy_of_the_migrated_template_is_what_the_migrations_make(kind, tmp_path):
    # the copy first, so that its template is never younger than the fresh run
    with (
        migrated_engine(kind, tmp_path / "copy") as copy,
        migrated_engine(kind, tmp_path / "fresh", run_migrations=True) as fresh,
    ):
        schema = sqlite_schema if kind == "sqlite" else postgres_schema
        assert schema(copy) == schema(fresh)
        copy_rows, copy_clocks = rows(copy)
        fresh_rows, fresh_clocks = rows(fresh)
    assert copy_rows == fresh_rows
    assert copy_rows["alembic_version"] and copy_rows["locations"] and copy_rows["chain_head"]
    assert copy_clocks.keys() == fresh_clocks.keys() == {"reference_versions"}
    for table, copied in copy_clocks.items():
        assert [row[0] for row in copied] == [row[0] for row in fresh_clocks[table]]
        for copied_row, fresh_row in zip(copied, fresh_clocks[table], strict=True):
            assert copied_row[1:] <= fresh_row[1:]
