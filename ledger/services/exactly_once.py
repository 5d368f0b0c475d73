"""Exactly once per Idempotency-Key: a request's work and its answer commit together.

The HTTP layer claims the key (with a digest of the request), runs the work in the database
transaction that stores its answer, and replays the stored answer — success or refusal — to a
retry. A crash between the work and the answer cannot happen: both commit or neither does
(ledger/db/http_idempotency.py keeps the claims).

A ledger command (`post_command`) goes through the database's group commit instead
(ledger/db/group_commit.py): its key is claimed and answered in the transaction of its batch.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

from ledger.db import group_commit, http_idempotency
from ledger.db.group_commit import Keyed, Posting
from ledger.db.http_idempotency import Answer
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database
from ledger.rules import LedgerError
from ledger.services.batch_accounts import accounts_of
from ledger.services.ledger import execute, run_command, storable_key
from ledger.services.work import day

__all__ = ["Answer", "Keyed", "exactly_once", "post_command", "post_command_async"]


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


def post_command(
    database: Database,
    command: Any,
    actor: int | None,
    today: dt.date | None,
    status_code: int = 201,
    keyed: Keyed | None = None,
) -> Answer:
    """Carry out a movement command (as `execute` does) in the database's next group commit and
    answer with its JSON-encoded result once that has committed. With `keyed` (an HTTP
    Idempotency-Key): exactly once, its answer — success or refusal — stored in the same
    transaction and replayed to a retry. Without: a refusal is raised, as `execute` raises it."""
    posting = Posting(command, actor, day(today), status_code, keyed)
    group_commit.post(database, COMMANDS, posting)
    if posting.fallback:  # the key is claimed by a request outside the group commit
        return _outside(database, posting)
    return _answer(posting)


async def post_command_async(
    database: Database,
    command: Any,
    actor: int | None,
    today: dt.date | None,
    status_code: int = 201,
    keyed: Keyed | None = None,
) -> Answer:
    """`post_command` for a coroutine (an async route): the event loop serves other requests
    while the batch commits."""
    posting = Posting(command, actor, day(today), status_code, keyed)
    await group_commit.post_async(database, COMMANDS, posting)
    if posting.fallback:  # waits for another request's answer: in a thread
        return await asyncio.to_thread(_outside, database, posting)
    return _answer(posting)


def _answer(posting: Posting) -> Answer:
    if posting.error is not None:
        raise posting.error
    assert posting.answer is not None
    return posting.answer


def _outside(database: Database, posting: Posting) -> Answer:
    """Exactly once through the claim in a transaction of its own (`exactly_once`), which waits
    for the answer of the request that claimed the key."""
    keyed = posting.keyed
    assert keyed is not None
    command, today = posting.command
    return exactly_once(
        database,
        keyed.user_id,
        keyed.key,
        keyed.digest,
        lambda: execute(database, command, posting.actor, today),
        posting.status_code,
        keyed.refusal,
    )


class _Commands:
    """The ledger's commands, as the group commit's writer runs them."""

    @staticmethod
    def prepare(store: LedgerStore, commands: list[Any]) -> None:
        keys = [command.idempotency_key for command in commands]
        store.idempotency.prefetch([storable_key(key) for key in keys if key is not None])
        store.lock_states(accounts_of(store, commands))  # one query for the batch's accounts

    @staticmethod
    def apply(store: LedgerStore, command: Any, actor: int | None, today: dt.date) -> Any:
        return run_command(store.acting(actor, today), command, today)


COMMANDS = _Commands()
