"""Label signing keys: from settings, or from a key file created on first use.

The key file holds one `ID:secret` per line, newest first. `rotate` puts a new key on top: new
labels are signed with it and labels printed under the older keys still verify.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.labels import KEY_ID_PATTERN, LabelKeys
from ledger.settings import Settings

if TYPE_CHECKING:  # the API and the command line load the keys without loading storage
    from ledger.services.database import Database


class LabelKeyError(ValueError):
    """The configured label keys cannot be read."""


def parse(text: str) -> LabelKeys:
    """`ID:secret` entries separated by commas or newlines; the first one is current."""
    entries = [entry.strip() for entry in re.split(r"[,\n]", text) if entry.strip()]
    found: dict[str, bytes] = {}
    for entry in entries:
        key_id, _, secret = entry.partition(":")
        if not KEY_ID_PATTERN.fullmatch(key_id) or len(secret) < 16:
            raise LabelKeyError(
                f"label key {key_id!r}: an id of 1-4 of A-Z, 0-9 and a secret of 16+ characters"
            )
        if key_id in found:
            raise LabelKeyError(f"label key {key_id!r} appears twice")
        found[key_id] = secret.encode()
    if not found:
        raise LabelKeyError("no label key configured")
    return LabelKeys(current=next(iter(found)), secrets=found)


def load(settings: Settings) -> LabelKeys:
    if settings.label_keys:
        return parse(settings.label_keys)
    path = Path(settings.label_key_file)
    if not path.exists():
        _write(path, f"K1:{secrets.token_hex(32)}\n")
    return parse(path.read_text(encoding="ascii"))


def rotate(settings: Settings) -> str:
    """Add a new current key to the key file; returns its id."""
    if settings.label_keys:
        raise LabelKeyError("keys come from LEDGER_LABEL_KEYS: rotate them there")
    keys = load(settings)
    number = 1 + max((int(k[1:]) for k in keys.secrets if re.fullmatch(r"K\d{1,3}", k)), default=0)
    key_id = f"K{number}"
    path = Path(settings.label_key_file)
    _write(path, f"{key_id}:{secrets.token_hex(32)}\n" + path.read_text(encoding="ascii"))
    return key_id


def log_rotation(database: Database, key_id: str) -> None:
    """The rotation to `key_id` in the operations log (`label_key.rotate`), in its own unit of
    work (the key file is not in the database: this is all the ledger keeps of it)."""
    database.write(
        lambda store: store.record_operation(
            "label_key.rotate", "label_key", key_id, user_id=None, after={"signing_key": key_id}
        )
    )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(text)
    os.replace(temporary, path)
