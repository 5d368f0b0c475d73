"""Answering retried POSTs exactly once: the first answer to an Idempotency-Key is stored and
returned again for a retry with the same content; other content under the same key is refused.

A key is first claimed in a short transaction of its own, so that concurrent duplicates wait
for the first request's answer instead of doing the work twice. The work then runs with
`run_once`: its answer is written in the work's own database transaction, so the work and its
answer commit together or not at all — a server that dies at any point leaves either both
(a retry gets the answer) or neither (a retry does the work). A refusal (LedgerError) wrote
nothing, so its answer is stored on its own with `answer`.

A claim that stays unanswered past `stale_after_seconds` (its server died, or it is very
slow) is taken over by a retry. Each claim carries its time as a token: the first request's
work stores its answer only while its own claim is still there and unanswered; when it was
taken over it rolls back (`ClaimLost`) and waits for the new claim's answer instead.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from ledger.db import tables as t
from ledger.db.engine import WRITE_OPTION
from ledger.db.session import Session
from ledger.db.unit_of_work import Database, is_retryable
from ledger.rules import Code, LedgerError

stale_after_seconds = 60.0
wait_for_first_seconds_max = 15.0
poll_seconds = 0.02


class StoredAnswer(msgspec.Struct, frozen=True):
    status_code: int
    body: str


class Answer(NamedTuple):
    """An answer as sent: its status code and JSON body (a problem detail from 400 up)."""

    status_code: int
    body: bytes


class KeyRow(NamedTuple):
    """A key's row as found: its request's digest and its answer (None: claimed, unanswered)."""

    request_digest: str
    status_code: int | None
    body: str | None


class NewAnswer(NamedTuple):
    """A key and its answer, written together in the transaction of the work they answer."""

    user_id: int
    key: str
    digest: str
    answer: Answer


class Claim(msgspec.Struct, frozen=True):
    """This request's hold on a key; `claimed_at` tells it from a later claim of the key."""

    user_id: int
    key: str
    claimed_at: dt.datetime


class ClaimLost(Exception):
    """The claim was taken over (it had gone stale) before this request could answer: its
    work was rolled back, and the answer is the one of the request that took the key over."""


@contextmanager
def _short_write(database: Database) -> Iterator[Connection]:
    """A short write transaction of its own (SQLite: queued on the process's writer lock)."""
    with database.write_lock, database.engine.connect() as connection:
        connection = connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            yield connection


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _this_claim(claim: Claim):
    h = t.http_idempotency.c
    return (
        h.user_id == claim.user_id,
        h.key == claim.key,
        h.created_at == claim.claimed_at,
        h.status_code.is_(None),
    )


def claim(database: Database, user_id: int, key: str, digest: str) -> Claim | StoredAnswer:
    """Claim `key` for this request; or return the stored answer of the first request with it
    (waiting while that one is still at work, taking its claim over once it is stale).

    Refuses with `idempotency_key_reused` when the key was used for different content.
    """
    h = t.http_idempotency.c
    deadline = time.monotonic() + wait_for_first_seconds_max
    while True:
        now = _now()
        try:
            with _short_write(database) as connection:
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
            return Claim(user_id, key, now)
        except IntegrityError:
            pass  # claimed before us
        except DBAPIError as error:  # SQLite busy past its timeout, a PostgreSQL conflict
            if not is_retryable(error) or time.monotonic() > deadline:
                raise
            time.sleep(poll_seconds)
            continue
        with database.engine.connect() as connection:
            row = connection.execute(
                select(h.request_digest, h.status_code, h.body, h.created_at).where(
                    h.user_id == user_id, h.key == key
                )
            ).one_or_none()
        if row is None:
            continue  # the claim was given up between our insert and our read: try again
        if row.request_digest != digest:
            raise key_reused()
        if row.status_code is not None:
            return StoredAnswer(row.status_code, row.body or "")
        if (now - _aware(row.created_at)).total_seconds() > stale_after_seconds:
            # Its server died or gave up: take the claim over. Only that claim is removed, and
            # only while unanswered — an answer committing meanwhile wins (the next round
            # finds it).
            release(database, Claim(user_id, key, row.created_at))
            continue
        if time.monotonic() > deadline:
            raise LedgerError(
                Code.idempotency_key_in_progress,
                "同一幂等键的请求仍在处理中，请稍后重试 (a request with this key is still in progress)",
                "Idempotency-Key",
            )
        time.sleep(poll_seconds)


def store_answer(connection: Connection, claim: Claim, status_code: int, body: str) -> None:
    """Write the answer of `claim` on `connection` (in the caller's transaction)."""
    done = connection.execute(
        update(t.http_idempotency)
        .where(*_this_claim(claim))
        .values(status_code=status_code, body=body)
    )
    if done.rowcount != 1:
        raise ClaimLost(claim.key)


def run_once(
    database: Database,
    claim: Claim,
    work: Callable[[], Any],
    status_code: int,
    kept: Callable[[Any], Any] | None = None,
) -> bytes:
    """Run `work` in one database transaction that also stores its JSON answer; return the
    answer. Every write `work` makes joins that transaction (see `Database.write`).

    kept(result): what is stored for a retry, when the answer holds a secret shown only once
    (a new user's bearer token): the retry is answered without it."""
    encoded = b""

    def answer_with(store, result: Any) -> None:
        nonlocal encoded
        encoded = msgspec.json.encode(result)
        stored = encoded if kept is None else msgspec.json.encode(kept(result))
        store_answer(store.connection, claim, status_code, stored.decode())

    database.write(lambda _store: work(), before_commit=answer_with)
    return encoded


def answer(database: Database, claim: Claim, status_code: int, body: str) -> None:
    """Store the answer of a request whose work wrote nothing (a refusal)."""
    with _short_write(database) as connection:
        store_answer(connection, claim, status_code, body)


def release(database: Database, claim: Claim) -> None:
    """Give up an unanswered claim (its work failed unexpectedly and wrote nothing, or it went
    stale), so that a retry can run the work."""
    h = t.http_idempotency.c
    with _short_write(database) as connection:
        connection.execute(
            delete(t.http_idempotency).where(
                h.user_id == claim.user_id,
                h.key == claim.key,
                h.created_at == claim.claimed_at,
                h.status_code.is_(None),
            )
        )


def key_reused() -> LedgerError:
    return LedgerError(
        Code.idempotency_key_reused,
        "该幂等键已用于内容不同的请求 (idempotency key already used for a different request)",
        "Idempotency-Key",
    )


# ---- keys claimed and answered in the work's own transaction (group commit) -------------------

# A join on the VALUES: SQLite answers it from the primary key (for `IN (VALUES …)` it scans).
KEY_ROWS = (
    "SELECT h.user_id, h.key, h.request_digest, h.status_code, h.body "
    "FROM (VALUES {rows}) AS v JOIN http_idempotency AS h "
    "ON h.user_id = v.column1 AND h.key = v.column2"
)
INSERT_ANSWERS = (
    "INSERT INTO http_idempotency (user_id, key, request_digest, status_code, body, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def key_rows(session: Session, keys: list[tuple[int, str]]) -> dict[tuple[int, str], KeyRow]:
    """The rows of these (user, key) pairs that exist, in the caller's transaction (one query)."""
    if not keys:
        return {}
    statement = KEY_ROWS.format(rows=", ".join(["(?, ?)"] * len(keys)))
    parameters = tuple(value for pair in keys for value in pair)
    return {(row[0], row[1]): KeyRow(*row[2:]) for row in session.run(statement, parameters)}


def insert_answers(session: Session, answers: list[NewAnswer]) -> None:
    """Write keys and their answers at once, in the caller's transaction: the transaction that
    does the work they answer (a key another request wrote meanwhile: a unique violation)."""
    if answers:
        now = session.write_datetime(_now())
        session.run_many(
            INSERT_ANSWERS,
            [
                (a.user_id, a.key, a.digest, a.answer.status_code, a.answer.body.decode(), now)
                for a in answers
            ],
        )
