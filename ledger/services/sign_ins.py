"""Refused sign-ins in the operations log (操作日志 `sign_in.failed`)."""

from __future__ import annotations

import hashlib

from ledger.db import oplog
from ledger.db.unit_of_work import Database

token_fingerprint_length = 12  # hex characters of the token's SHA-256 kept in the log


def record_failed_sign_in(database: Database, client: str, token: str, refusals: int) -> None:
    """Log a refused token: the client's address and a fingerprint of the token (never the
    token), with how many refusals the entry stands for."""
    digest = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
    fingerprint = digest[:token_fingerprint_length]
    database.write(
        lambda store: oplog.record(
            store,
            "sign_in.failed",
            "client",
            client,
            user_id=None,
            actor="未知令牌 (unknown token)",
            after={"token_sha256_prefix": fingerprint, "refusals": refusals},
        )
    )
