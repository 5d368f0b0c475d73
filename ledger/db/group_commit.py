"""Group commit: the posting commands of concurrent requests in one database transaction.

One writer thread per database (per process) takes the commands that requests' threads queue,
applies them in the order they came in one transaction, commits once, and only then answers
each request. Each command keeps its own checks and its own answer:

- at once: every command of the batch on one store (as `execute_many` does), one flush of all
  their rows, one commit — while none of them is refused;
- one by one: when one is refused (or fails), that transaction is rolled back and the batch
  is applied again in a new one, each command in a savepoint and on a store of its own: a
  refused command rolls back alone and is answered with its refusal, the others commit. (A
  refusal costs its batch one more pass; it is rare.) Nothing of the first pass is kept: every
  command is checked again against what the database holds then.

Exactly once: a command sent with an HTTP Idempotency-Key writes its key and answer — success or
refusal — in the batch's transaction (`http_idempotency.insert_answers`): the work and its answer
commit together or not at all. A key already answered is replayed without doing anything; a key
sent twice in one batch is done once; a key some other path claimed and has not answered yet is
handed back (`Posting.fallback`) to that path, which waits for its answer.

Lock order: on PostgreSQL a batch takes the chain head before anything else (every writer of the
ledger takes it before its first balance or transaction row: `Session.lock_ledger`), so writers —
the batches of other worker processes, the requests that post outside a batch — queue on it and
never wait for each other in a cycle. On SQLite a batch is one write transaction (BEGIN
IMMEDIATE) under the process's write lock; other processes queue on SQLite's lock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from queue import Empty, SimpleQueue
from typing import Any, NamedTuple, Protocol

import msgspec
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from ledger.db import http_idempotency
from ledger.db.engine import WRITE_OPTION
from ledger.db.http_idempotency import Answer, KeyRow, NewAnswer
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database, UnitOfWork, commit_listeners, is_retryable
from ledger.limits import retries_max
from ledger.rules import LedgerError

BATCH_MAX = 128  # commands per database transaction
IDLE_SECONDS = 5.0  # a writer with nothing to do this long ends (the next post starts another)


class Keyed(NamedTuple):
    """The HTTP Idempotency-Key a command was sent with; refusal(error): its refusal's answer."""

    user_id: int
    key: str
    digest: str
    refusal: Callable[[LedgerError], Answer]


class Posting:
    """One command waiting for its batch, then its outcome: an answer, an error to raise, or
    `fallback` (its key is claimed by another path and not answered yet)."""

    __slots__ = (
        "actor",
        "answer",
        "command",
        "done",
        "error",
        "fallback",
        "future",
        "keyed",
        "status_code",
    )

    def __init__(
        self, command: Any, actor: int | None, today: dt.date, status_code: int, keyed: Keyed | None
    ) -> None:
        self.command = (command, today)
        self.actor = actor
        self.status_code = status_code
        self.keyed = keyed
        self.done = threading.Event()  # set when answered (a thread waits on it) …
        self.future: asyncio.Future | None = None  # … or this resolved (a coroutine awaits it)
        self.answer: Answer | None = None
        self.error: BaseException | None = None
        self.fallback = False


class Commands(Protocol):
    """What carries the commands out (ledger.services): the writer runs commands, it does not
    know them."""

    def prepare(self, store: LedgerStore, commands: list[Any]) -> None:
        """Before the commands of a batch run on one store (e.g. read their keys at once)."""

    def apply(self, store: LedgerStore, command: Any, actor: int | None, today: dt.date) -> Any:
        """Carry out one command on `store` as `actor` on `today`; its result."""


_writers_lock = threading.Lock()


def post(database: Database, commands: Commands, posting: Posting) -> Posting:
    """Queue `posting` for the database's writer (started if none runs) and wait until its batch
    has committed (or failed)."""
    _queue(database, commands, posting)
    posting.done.wait()
    return posting


async def post_async(database: Database, commands: Commands, posting: Posting) -> Posting:
    """`post` for a coroutine: the event loop goes on while the batch commits."""
    posting.future = asyncio.get_running_loop().create_future()
    _queue(database, commands, posting)
    await posting.future
    return posting


def _queue(database: Database, commands: Commands, posting: Posting) -> None:
    with _writers_lock:
        writer = database.writer
        if not isinstance(writer, GroupWriter) or writer.gone:
            writer = database.writer = GroupWriter(database, commands)
        writer.queue.put(posting)


def _answered(batch: list[Posting]) -> None:
    """Wake the requests of a batch: threads each, coroutines once per event loop."""
    loops: dict[asyncio.AbstractEventLoop, list[asyncio.Future]] = {}
    for posting in batch:
        if posting.future is None:
            posting.done.set()
        else:
            loops.setdefault(posting.future.get_loop(), []).append(posting.future)
    for loop, futures in loops.items():
        with suppress(RuntimeError):  # the loop has closed (the server stopped): nobody waits
            loop.call_soon_threadsafe(_resolve, futures)


def _resolve(futures: list[asyncio.Future]) -> None:
    for future in futures:
        if not future.done():  # (cancelled: its client went away; the work stands)
            future.set_result(None)


class GroupWriter:
    def __init__(self, database: Database, commands: Commands) -> None:
        self.database = database
        self.commands = commands
        self.queue: SimpleQueue[Posting | None] = SimpleQueue()
        self.gone = False
        # Kept open while the writer runs: no pool checkout (nor PostgreSQL's ping) per batch.
        self.connection: Connection | None = None
        self.thread = threading.Thread(target=self._serve, name="ledger-group-commit", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """End the writer once what is queued is done."""
        with _writers_lock:
            self.gone = True
            self.queue.put(None)
        self.thread.join(timeout=60)

    def _serve(self) -> None:
        try:
            self._batches()
        finally:
            if self.connection is not None:
                self.connection.close()

    def _batches(self) -> None:
        while True:
            try:
                first = self.queue.get(timeout=IDLE_SECONDS)
            except Empty:
                with _writers_lock:
                    if self.queue.empty():  # nothing was queued meanwhile: end
                        self.gone = True
                        return
                continue
            batch: list[Posting] = []
            item: Posting | None = first
            while item is not None:
                batch.append(item)
                if len(batch) >= BATCH_MAX:
                    break
                try:
                    item = self.queue.get_nowait()
                except Empty:
                    break
            try:
                self._commit(batch)
            except BaseException as error:  # every request of the batch gets it
                for posting in batch:
                    posting.answer, posting.error = None, error
            finally:
                _answered(batch)
            if item is None:  # stop() was called
                return

    # ---- one batch, one transaction -----------------------------------------------------------

    def _commit(self, batch: list[Posting]) -> None:
        stores = self._transaction(batch, at_once=True)
        if stores is None:  # one was refused or failed: all rolled back; now each on its own
            stores = self._transaction(batch, at_once=False)
            assert stores is not None
        transactions = postings = 0
        for store in stores:  # applied one by one: each store's own rows, now committed
            store.commit_catalog()
            transactions += store.journal.transactions_appended
            postings += store.journal.postings_appended
        if transactions:
            for listener in commit_listeners:
                listener(transactions, postings)

    def _transaction(self, batch: list[Posting], at_once: bool) -> list[LedgerStore] | None:
        """The batch in one database transaction, conflicts retried: every command answered (or
        failed) in its `Posting`. Applied one by one: the stores whose catalogs take their rows
        once committed. At once: none (the unit of work's own store does), or None when one
        command was refused or failed — then nothing was committed."""
        database = self.database
        for attempt in range(retries_max):
            for posting in batch:
                posting.answer = posting.error = None
                posting.fallback = False
            if self.connection is None or self.connection.invalidated:
                if self.connection is not None:
                    self.connection.close()
                self.connection = database.engine.connect().execution_options(
                    **{WRITE_OPTION: True}
                )
            try:
                with database.write_lock, UnitOfWork(database, self.connection) as uow:
                    runs, twins = self._sort(uow, batch)
                    stores: list[LedgerStore] = []
                    if at_once:
                        if not self._at_once(uow, runs):
                            return None  # (leaving the unit of work uncommitted rolls it back)
                    else:
                        stores = [s for p in runs if (s := self._alone(uow, p))]
                    _twins(twins)
                    uow.commit()
                    return stores
            except DBAPIError as error:
                lost = error.connection_invalidated  # (the server restarted: a new connection)
                if attempt + 1 >= retries_max or not (lost or is_retryable(error)):
                    raise
                time.sleep(random.uniform(0, 0.002 * 2**attempt))  # back off, de-synchronised
        raise AssertionError("unreachable")

    def _sort(
        self, uow: UnitOfWork, batch: list[Posting]
    ) -> tuple[list[Posting], list[tuple[Posting, Posting]]]:
        """The commands to run, and (twin, first) for a key sent twice; the chain head taken
        first (PostgreSQL: see the module's docstring) and keys already answered replayed."""
        store = uow.store
        assert store is not None
        store.session.lock_ledger()
        keys = [(p.keyed.user_id, p.keyed.key) for p in batch if p.keyed is not None]
        found = http_idempotency.key_rows(store.session, keys)
        runs: list[Posting] = []
        firsts: dict[tuple[int, str], Posting] = {}
        twins: list[tuple[Posting, Posting]] = []
        for posting in batch:
            if posting.keyed is not None:
                pair = (posting.keyed.user_id, posting.keyed.key)
                if pair in found:
                    _replay(posting, found[pair])
                    continue
                if pair in firsts:
                    twins.append((posting, firsts[pair]))
                    continue
                firsts[pair] = posting
            runs.append(posting)
        return runs, twins

    def _at_once(self, uow: UnitOfWork, runs: list[Posting]) -> bool:
        """Every command on the unit of work's store, one flush; False when any of them was
        refused or failed (the caller rolls everything back)."""
        store = uow.store
        assert store is not None
        try:
            self.commands.prepare(store, [posting.command[0] for posting in runs])
            answers = []
            for posting in runs:
                command, today = posting.command
                result = self.commands.apply(store, command, posting.actor, today)
                answers.append(Answer(posting.status_code, msgspec.json.encode(result)))
            store.flush()
            http_idempotency.insert_answers(
                store.session,
                [_new(p.keyed, a) for p, a in zip(runs, answers, strict=True) if p.keyed],
            )
        except Exception:
            return False
        for posting, answer in zip(runs, answers, strict=True):
            posting.answer = answer
        return True

    def _alone(self, uow: UnitOfWork, posting: Posting) -> LedgerStore | None:
        """One command in a savepoint of its own, conflicts retried; the store it committed
        rows on, if any."""
        connection = uow.connection
        assert connection is not None
        for attempt in range(retries_max):
            savepoint = connection.begin_nested()
            try:
                store = self._attempt(connection, posting)
                savepoint.commit()
                return store
            except DBAPIError as error:
                savepoint.rollback()
                if attempt + 1 >= retries_max or not is_retryable(error):
                    posting.error = error
                    return None
            except Exception as error:  # not the ledger's refusal: this command fails alone
                savepoint.rollback()
                posting.error = error
                return None
        return None

    def _attempt(self, connection: Connection, posting: Posting) -> LedgerStore | None:
        store = LedgerStore(connection, self.database.catalog)
        # Rows other commands of this batch created are not committed yet: none of what this
        # store reads enters the shared catalog before the commit.
        store.reference.generation = -1
        keyed = posting.keyed
        if keyed is not None:
            found = http_idempotency.key_rows(store.session, [(keyed.user_id, keyed.key)])
            if found:  # answered meanwhile by another process
                _replay(posting, found[(keyed.user_id, keyed.key)])
                return None
        command, today = posting.command
        inner = connection.begin_nested()
        try:
            result = self.commands.apply(store, command, posting.actor, today)
            store.flush()
        except LedgerError as error:
            inner.rollback()
            if keyed is None:
                posting.error = error
                return None
            answer = keyed.refusal(error)
            http_idempotency.insert_answers(store.session, [_new(keyed, answer)])
            posting.answer = answer
            return None
        inner.commit()
        answer = Answer(posting.status_code, msgspec.json.encode(result))
        if keyed is not None:
            http_idempotency.insert_answers(store.session, [_new(keyed, answer)])
        posting.answer = answer
        return store


def _twins(twins: list[tuple[Posting, Posting]]) -> None:
    """A key sent twice in one batch is done once: the second gets the first's answer."""
    for posting, first in twins:
        assert posting.keyed is not None and first.keyed is not None
        if posting.keyed.digest != first.keyed.digest:
            posting.error = http_idempotency.key_reused()
        elif first.answer is not None:
            posting.answer = first.answer
        else:  # the first failed and stored nothing: this one does the work itself
            posting.fallback = True


def _new(keyed: Keyed | None, answer: Answer) -> NewAnswer:
    assert keyed is not None
    return NewAnswer(keyed.user_id, keyed.key, keyed.digest, answer)


def _replay(posting: Posting, row: KeyRow) -> None:
    """Answer `posting` from its key's row: the stored answer, a refusal when the key was used
    for other content, or `fallback` when the key is claimed and not answered yet."""
    assert posting.keyed is not None
    if row.request_digest != posting.keyed.digest:
        posting.error = http_idempotency.key_reused()
    elif row.status_code is None:
        posting.fallback = True
    else:
        posting.answer = Answer(row.status_code, (row.body or "").encode())
