"""Settings, from environment variables, in one place."""

from __future__ import annotations

import os

import msgspec

DEFAULT_DATABASE_URL = "sqlite:///./data/ledger.db"


class Settings(msgspec.Struct, frozen=True):
    """database_url: LEDGER_DATABASE_URL, SQLite at ./data/ledger.db by default."""

    database_url: str = DEFAULT_DATABASE_URL

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(database_url=env.get("LEDGER_DATABASE_URL") or DEFAULT_DATABASE_URL)
