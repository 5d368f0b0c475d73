"""Exactly once per Idempotency-Key: a request's work and its answer commit together.

The HTTP layer claims the key (with a digest of the request), runs the work in the database
transaction that stores its answer, and replays the stored answer — success or refusal — to a
retry. A crash between the work and the answer cannot happen: both commit or neither does
(ledger/db/http_idempotency.py keeps the claims).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from ledger.db import http_idempotency
from ledger.db.unit_of_work import Database
from ledger.rules import LedgerError


class Answer(NamedTuple):
    """An answer as sent: its status code and JSON body (a problem detail from 400 up)."""

    status_code: int
    body: bytes


def exactly_once(
    database: Database,
    user_id: int,
    key: str,
    digest: str,
    work: Callable[[], Any],
    status_code: int,
    refusal: Callable[[LedgerError], Answer],
    kept: Callable[[Any], Any] | None = None,
) -> Answer:
    """Run `work` once for (user, key) and answer with its JSON-encoded result; a retry with
    the same key and digest gets the stored answer (another digest: idempotency_key_reused,
    from `claim`). refusal(error): the answer to a LedgerError, stored like a success.
    kept(result): what is stored instead of the result, for an answer holding a secret shown
    once (a token): a retry is answered without it."""
    while True:
        claim = http_idempotency.claim(database, user_id, key, digest)
        if isinstance(claim, http_idempotency.StoredAnswer):
            return Answer(claim.status_code, claim.body.encode())
        try:
            encoded = http_idempotency.run_once(database, claim, work, status_code, kept)
        except http_idempotency.ClaimLost:
            continue  # taken over while we worked (ours rolled back): answer with theirs
        except LedgerError as error:
            refused = refusal(error)
            try:
                http_idempotency.answer(database, claim, refused.status_code, refused.body.decode())
            except http_idempotency.ClaimLost:
                continue
            return refused
        except BaseException:
            http_idempotency.release(database, claim)
            raise
        return Answer(status_code, encoded)
