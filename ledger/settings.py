"""Settings, from environment variables, in one place."""

from __future__ import annotations

import os

import msgspec

DEFAULT_DATABASE_URL = "sqlite:///./data/ledger.db"
DEFAULT_LABEL_KEY_FILE = "./data/label-keys"


class Settings(msgspec.Struct, frozen=True):
    """database_url: LEDGER_DATABASE_URL, SQLite at ./data/ledger.db by default.
    label_keys: LEDGER_LABEL_KEYS, `ID:secret,ID:secret` — the first signs new labels, all of
    them verify. When unset, keys are kept in label_key_file (LEDGER_LABEL_KEY_FILE,
    ./data/label-keys), created with one random key on first use.
    """

    database_url: str = DEFAULT_DATABASE_URL
    label_keys: str | None = None
    label_key_file: str = DEFAULT_LABEL_KEY_FILE

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("LEDGER_DATABASE_URL") or DEFAULT_DATABASE_URL,
            label_keys=env.get("LEDGER_LABEL_KEYS") or None,
            label_key_file=env.get("LEDGER_LABEL_KEY_FILE") or DEFAULT_LABEL_KEY_FILE,
        )
