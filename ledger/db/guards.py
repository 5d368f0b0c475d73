"""Append-only guards: database triggers that refuse to change or remove ledger history.

Installed by the first migration on both engines. Tests of `verify` drop them in a scratch
database to simulate tampering by someone with direct database access.
"""

from __future__ import annotations

from sqlalchemy import Connection

CORE_TABLES = ("transactions", "postings")  # guarded by the first migration
# Guarded by migration 0008: the operations log and the versions of reference data.
HISTORY_TABLES = ("operations_log", "reference_versions", "chain_versions")
GUARDED_TABLES = CORE_TABLES + HISTORY_TABLES

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'ledger history is append-only: ' || TG_OP || ' on ' || TG_TABLE_NAME || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def guard_statements(dialect: str, tables: tuple[str, ...] = CORE_TABLES) -> list[str]:
    if dialect == "postgresql":
        statements = [_PG_FUNCTION]
        for table in tables:
            statements.append(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )
            statements.append(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
            )
        return statements
    if dialect == "sqlite":
        statements = []
        for table in tables:
            for operation in ("UPDATE", "DELETE"):
                statements.append(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'ledger history is append-only: "
                    f"{operation} on {table} refused'); END"
                )
        return statements
    raise ValueError(f"unsupported database dialect {dialect!r}")


def drop_guard_statements(
    dialect: str, tables: tuple[str, ...] = CORE_TABLES, drop_function: bool = True
) -> list[str]:
    if dialect == "postgresql":
        statements = []
        for table in tables:
            statements.append(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            statements.append(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        if drop_function:
            statements.append("DROP FUNCTION IF EXISTS ledger_refuse_change()")
        return statements
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_{operation}"
        for table in tables
        for operation in ("update", "delete")
    ]


def install_guards(connection: Connection) -> None:
    for statement in guard_statements(connection.dialect.name, GUARDED_TABLES):
        connection.exec_driver_sql(statement)


def drop_guards(connection: Connection) -> None:
    """Every guard (tests simulate someone with direct database access)."""
    for statement in drop_guard_statements(connection.dialect.name, GUARDED_TABLES):
        connection.exec_driver_sql(statement)
