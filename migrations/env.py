"""Alembic environment: runs on a connection handed over by the ledger, or on a URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from ledger.db.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from ledger.settings import Settings

        url = Settings.from_environment().database_url
    engine = create_engine(url)
    with engine.begin() as connection:
        run_migrations(connection)


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `ledger db upgrade`")
run_migrations_online()
