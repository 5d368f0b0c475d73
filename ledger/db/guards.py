"""Append-only guards: database triggers that refuse to change or remove ledger history.

Installed by the first migration on both engines. Tests of `verify` drop them in a scratch
database to simulate tampering by someone with direct database access.
"""

from __future__ import annotations

from sqlalchemy import Connection

GUARDED_TABLES = ("transactions", "postings")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'ledger history is append-only: ' || TG_OP || ' on ' || TG_TABLE_NAME || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def guard_statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        statements = [_PG_FUNCTION]
        for table in GUARDED_TABLES:
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
        for table in GUARDED_TABLES:
            for operation in ("UPDATE", "DELETE"):
                statements.append(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'ledger history is append-only: "
                    f"{operation} on {table} refused'); END"
                )
        return statements
    raise ValueError(f"unsupported database dialect {dialect!r}")


def drop_guard_statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        statements = []
        for table in GUARDED_TABLES:
            statements.append(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            statements.append(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        statements.append("DROP FUNCTION IF EXISTS ledger_refuse_change()")
        return statements
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_{operation}"
        for table in GUARDED_TABLES
        for operation in ("update", "delete")
    ]


def install_guards(connection: Connection) -> None:
    for statement in guard_statements(connection.dialect.name):
        connection.exec_driver_sql(statement)


def drop_guards(connection: Connection) -> None:
    for statement in drop_guard_statements(connection.dialect.name):
        connection.exec_driver_sql(statement)
