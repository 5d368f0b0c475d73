"""Migrated databases for tests without running every migration for every test.

The first test in a process (each pytest-xdist worker is one) that asks for a migrated database
runs the whole Alembic history once into a template, and every test gets a copy of it:

- SQLite: the template file, copied (`copy_sqlite`).
- PostgreSQL: the statements the migrations sent to the template schema (with their
  parameters written in), replayed in one transaction in the new schema (`postgres_schema_sql`):
  the same DDL, seeded rows and sequences, guard function and triggers. Not `pg_dump`: its
  output does not give back the CHECK constraints exactly as the migrations wrote them. The
  template schema is dropped as soon as it is recorded.

tests/integration/test_clones.py compares a copy with a freshly migrated database on both
engines, so a copy never drifts from what `upgrade()` makes. Tests that exercise the migrations
themselves still run them.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, event, text

from ledger.db.engine import make_engine, upgrade

_sqlite_template: list[Path] = []  # the migrated file of this process, once made
_directory: list[Path] = []  # where to make it (the test session's temporary directory)
_postgres_scripts: dict[str, tuple[str, str]] = {}  # by server URL: (template, its statements)
_TEMPLATE_SCHEMA = "ledger_template_"  # + 12 hex digits: a name found nowhere else


def copy_sqlite(target: Path) -> str:
    """A migrated SQLite database at `target` (a copy of this process's template): its URL."""
    if not _sqlite_template:
        _sqlite_template.append(_migrated_sqlite())
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_template[0], target)
    return f"sqlite:///{target}"


def keep_templates_in(directory: Path) -> None:
    """Make the SQLite template in `directory` (else in a temporary directory of its own)."""
    _directory[:] = [directory]


def _migrated_sqlite() -> Path:
    directory = _directory[0] if _directory else Path(tempfile.mkdtemp(prefix="ledger-migrated-"))
    path = directory / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    connection = sqlite3.connect(path)
    try:  # the WAL folded into the file: one file to copy
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def postgres_schema_sql(url: str, schema: str) -> str:
    """SQL that creates `schema` on the server at `url` as a migrated copy of the template, in
    one transaction when sent as one query (the simple query protocol: no parameters)."""
    if url not in _postgres_scripts:
        _postgres_scripts[url] = _migrated_postgres_script(url)
    template, script = _postgres_scripts[url]
    return f'CREATE SCHEMA "{schema}";\nSET LOCAL search_path TO "{schema}";\n' + script.replace(
        template, schema
    )


def _migrated_postgres_script(url: str) -> tuple[str, str]:
    """Migrate a template schema, recording every statement sent with its parameters written
    in (as the driver itself writes them); drop the template."""
    template = f"{_TEMPLATE_SCHEMA}{uuid.uuid4().hex[:12]}"
    statements: list[str] = []

    def record(_connection, cursor, statement, parameters, _context, executemany) -> None:
        writer = psycopg.ClientCursor(cursor.connection)
        for one in parameters if executemany else [parameters]:
            statements.append(writer.mogrify(statement, one))

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{template}"'))
        try:
            engine = make_engine(url, connect_args={"options": f"-csearch_path={template}"})
            event.listen(engine, "before_cursor_execute", record)
            try:
                upgrade(engine)
            finally:
                engine.dispose()
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{template}" CASCADE'))
    finally:
        admin.dispose()
    # on a line of its own: a statement's last line may be a comment
    return template, "".join(f"{statement}\n;\n" for statement in statements)


def remove_templates() -> None:
    """The SQLite template's directory (the PostgreSQL template is dropped once recorded)."""
    while _sqlite_template:
        shutil.rmtree(_sqlite_template.pop().parent, ignore_errors=True)
    _directory.clear()
    _postgres_scripts.clear()
