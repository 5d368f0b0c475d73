"""Replaying answers to retried POSTs: the first response to an Idempotency-Key is stored and
returned again for a retry with the same content; other content under the same key is refused.

A key is claimed before the work runs, so concurrent duplicates wait for the first one's answer
instead of doing the work twice. A claim whose work died without answering is taken over after
`stale_after_seconds` (the movements underneath carry the same key into the ledger, which
returns the original transaction rather than posting twice).
"""

from __future__ import annotations

import datetime as dt
import time

import msgspec
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledger.db import tables as t
from ledger.db.unit_of_work import Database
from ledger.rules import Code, LedgerError

stale_after_seconds = 60.0
wait_for_first_seconds_max = 15.0


class StoredAnswer(msgspec.Struct, frozen=True):
    status_code: int
    body: str


def claim(database: Database, user_id: int, key: str, digest: str) -> StoredAnswer | None:
    """Claim `key` for this request; or return the stored answer of the first request with it.

    Refuses with `idempotency_key_reused` when the key was used for different content.
    """
    deadline = time.monotonic() + wait_for_first_seconds_max
    while True:
        now = dt.datetime.now(dt.UTC)
        try:
            with database.engine.begin() as connection:
                connection.execute(
                    insert(t.http_idempotency),
                    {
                        "user_id": user_id,
                        "key": key,
                        "request_digest": digest,
                        "status_code": None,
                        "body": None,
                        "created_at": now,
                    },
                )
            return None
        except IntegrityError:
            pass
        h = t.http_idempotency.c
        with database.engine.connect() as connection:
            row = connection.execute(
                select(h.request_digest, h.status_code, h.body, h.created_at).where(
                    h.user_id == user_id, h.key == key
                )
            ).one_or_none()
        if row is None:
            continue  # the claim was abandoned between our insert and our read: try again
        if row.request_digest != digest:
            raise LedgerError(
                Code.idempotency_key_reused,
                "该幂等键已用于内容不同的请求 (idempotency key already used for a different request)",
                "Idempotency-Key",
            )
        if row.status_code is not None:
            return StoredAnswer(row.status_code, row.body or "")
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=dt.UTC)
        if (now - created).total_seconds() > stale_after_seconds:
            release(database, user_id, key)
            continue
        if time.monotonic() > deadline:
            raise LedgerError(
                Code.request_state,
                "同一幂等键的请求仍在处理中，请稍后重试 (a request with this key is still in progress)",
                "Idempotency-Key",
            )
        time.sleep(0.02)


def answer(database: Database, user_id: int, key: str, status_code: int, body: str) -> None:
    h = t.http_idempotency.c
    with database.engine.begin() as connection:
        connection.execute(
            update(t.http_idempotency)
            .where(h.user_id == user_id, h.key == key)
            .values(status_code=status_code, body=body)
        )


def release(database: Database, user_id: int, key: str) -> None:
    """Give up a claim whose work failed unexpectedly, so a retry can run it."""
    h = t.http_idempotency.c
    with database.engine.begin() as connection:
        connection.execute(
            delete(t.http_idempotency).where(
                h.user_id == user_id, h.key == key, h.status_code.is_(None)
            )
        )
