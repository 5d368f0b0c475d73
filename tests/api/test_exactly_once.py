"""Exactly once, even across a crash: on every POST route, a retry with the same
Idempotency-Key after the server died mid-request returns the first answer and does nothing a
second time, on SQLite and PostgreSQL.

The server "dies" (a BaseException that nothing handles, and no clean-up of the claim, as
with kill -9) at two points: right after the work's database commit, and right before its
answer is written. A fresh app over the same database (the restarted server) then gets the
retry after the claim went stale. The ledger must end up exactly as after one request that
never crashed (a control run on another copy of the same template), and the retry must get
that request's answer.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from litestar.testing import TestClient
from sqlalchemy import DateTime, Engine, create_engine, func, inspect, select

from api.app import create_app
from api.common import Services
from ledger.db import http_idempotency
from ledger.db import tables as t
from ledger.db.engine import make_engine, upgrade
from ledger.db.unit_of_work import Database, UnitOfWork
from tests.api.conftest import Template, fill_template, headers
from tests.api.test_idempotency import allowed_role, replayed
from tests.api.test_permissions import CASES, V1, Call
from tests.conftest import PG_URL, TODAY, PostgresSchema

POSTS = sorted(route for route in CASES if route[0] == "POST")
STALE_SECONDS = 0.05
RETRY_STALE_SECONDS = 0.005  # after a crash: only the dead claim must go stale (190 waits a run)
# Posted through group commit (api/transaction_routes.py): the key is claimed and answered in the
# transaction of the work. (A confirmation of a request's shipment goes through its request.)
GROUP_COMMIT = {
    ("POST", f"{V1}/transactions/{kind}")
    for kind in ("receipts", "issues", "distributions", "returns", "write-offs", "adjustments")
} | {("POST", f"{V1}/transactions/reversals"), ("POST", f"{V1}/transactions/confirmations")}


class SimulatedCrash(BaseException):
    """The server process dies here."""


# ---- fresh copies of the template on each engine ---------------------------------------------


Opener = Callable[[], Engine]  # a new engine on one copy: each server process opens its own


class Copies:
    """Copies of the API template database, fresh for each use: `fresh(slot)` gives an opener
    of a copy in that state. SQLite: a new file each time. PostgreSQL: a few schemas, one per
    slot, each emptied and refilled from a template schema (much faster than building the
    template again, and no CREATE DATABASE with its checkpoints)."""

    def __init__(self, numbers: Template, fresh: Callable[[int], Opener]) -> None:
        self.numbers = numbers
        self.fresh = fresh


def _refill(connection, schema: str, template: str, tables: list[str]) -> None:
    """Make `schema` hold exactly what `template` holds, in one round trip (triggers off: they
    refuse deletes)."""
    statements = ["SET LOCAL session_replication_role = replica"]
    statements += [f'DELETE FROM "{schema}"."{table}"' for table in tables]
    for table in tables:
        statements.append(f'INSERT INTO "{schema}"."{table}" SELECT * FROM "{template}"."{table}"')
        generated = t.Base.metadata.tables[table].autoincrement_column
        if generated is not None:  # the next id as in the template (NULL: not a sequence)
            statements.append(
                f'SELECT setval(pg_get_serial_sequence(\'"{schema}"."{table}"\', '
                f"'{generated.name}'), coalesce(max({generated.name}), 0) + 1, false) "
                f'FROM "{schema}"."{table}"'
            )
    connection.exec_driver_sql(";\n".join(statements))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def copies(request, template, tmp_path_factory) -> Iterator[Copies]:
    if request.param == "sqlite":
        source, numbers = template
        folder = tmp_path_factory.mktemp("exactly-once")

        def fresh_file(slot: int) -> Opener:
            path = folder / f"{uuid.uuid4().hex}.db"
            shutil.copyfile(source, path)
            return lambda: make_engine(f"sqlite:///{path}")

        yield Copies(numbers, fresh_file)
        return
    schemas: list[PostgresSchema] = []
    admin = create_engine(PG_URL)
    try:
        source = PostgresSchema()
        schemas.append(source)
        engine = source.engine()
        try:
            numbers = fill_template(engine)
            tables = sorted(
                name for name in inspect(engine).get_table_names() if name in t.Base.metadata.tables
            )
        finally:
            engine.dispose()
        slots: dict[int, PostgresSchema] = {}

        def fresh_schema(slot: int) -> Opener:
            if slot not in slots:
                slots[slot] = PostgresSchema()
                schemas.append(slots[slot])
                engine = slots[slot].engine()
                upgrade(engine)
                engine.dispose()
            with admin.begin() as connection:
                _refill(connection, slots[slot].name, source.name, tables)
            return slots[slot].engine

        yield Copies(numbers, fresh_schema)
    finally:
        admin.dispose()
        for schema in schemas:
            schema.drop()


@pytest.fixture(scope="module")
def app():
    """One app for the module; each `server` gives it a database of its own (building an app
    takes longer than everything else a test here does)."""
    return create_app(Database.from_url("sqlite://"), clock=lambda: TODAY)


@contextmanager
def server(app, opener: Opener) -> Iterator[tuple[TestClient, Database]]:
    """A server process over the database `opener` opens: nothing in memory is kept from the
    last one (a new engine, reference-data cache and services)."""
    database = Database(opener())
    keys = app.state.services.label_keys
    app.state.database = database
    app.state.services = Services(database, lambda: TODAY, keys)
    app.state.token_cache = {}
    app.state.users_changed = {}
    try:
        yield TestClient(app=app), database
    finally:
        database.dispose()


# ---- what the ledger holds, and answers, without the clock's times ---------------------------

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?")


def without_times(value):
    """An answer with every timestamp (when a row was written) and every bearer token (random:
    a new user's, a reset one) replaced by a marker."""
    if isinstance(value, dict):
        return {key: without_times(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_times(item) for item in value]
    if isinstance(value, str):
        return "<token>" if value.startswith("lgr_") else TIMESTAMP.sub("<time>", value)
    return value


_tables_present: dict[str, set[str]] = {}


def contents(database: Database) -> dict[str, list]:
    """Every row of every table, less the columns holding when a row was written (and the
    stored answers' bodies, compared as answers). Generated ids are replaced by their rank in
    their table, here and where other rows refer to them: PostgreSQL spends sequence values on
    rolled-back inserts, so the same rows can get other ids after a crash."""
    raw: dict[str, tuple[list, list[tuple]]] = {}
    with database.read() as connection:
        dialect = connection.dialect.name
        if dialect not in _tables_present:  # every copy has the template's tables
            _tables_present[dialect] = set(inspect(connection).get_table_names())
        present = _tables_present[dialect]
        for table in t.Base.metadata.sorted_tables:
            if table.name not in present:
                continue
            columns = [
                column
                for column in table.columns
                if not isinstance(column.type, DateTime) and (table.name, column.name) not in RANDOM
            ]
            raw[table.name] = (columns, connection.execute(select(*columns)).all())
    ranks: dict[str, dict[int, int]] = {}
    for name, (columns, rows) in raw.items():
        generated = t.Base.metadata.tables[name].autoincrement_column
        if generated is not None and generated in columns:
            at = columns.index(generated)
            ranks[name] = {
                row[at]: rank for rank, row in enumerate(sorted(rows, key=lambda r: r[at]))
            }
    found: dict[str, list] = {}
    for name, (columns, rows) in raw.items():
        maps: list = []
        for column in columns:
            target = name if column is t.Base.metadata.tables[name].autoincrement_column else None
            for key in column.foreign_keys:
                if key.column is key.column.table.autoincrement_column:
                    target = key.column.table.name
            target = UNLINKED.get((name, column.name), target)
            maps.append(ranks.get(target) if target else None)
            if (name, column.name) in POLYMORPHIC:
                kind, tables = POLYMORPHIC[name, column.name]
                maps[-1] = (columns.index(next(c for c in columns if c.name == kind)), tables)
        found[name] = sorted(
            (tuple(_ranked(row, maps, ranks)) for row in rows),
            key=repr,
        )
    return found


# Columns left out: the stored answers' bodies (compared as answers) and a token's hash (a new
# token is random each time the work runs).
# Random by design: a token's hash, a password's salted hash (argon2 draws a new salt each time).
RANDOM = {("http_idempotency", "body"), ("users", "token_hash"), ("users", "password_hash")}
# Ids that refer to a row of the table their row names (no foreign key to follow); the log
# names a user by its id as text.
POLYMORPHIC = {
    ("reference_versions", "object_id"): (
        "object_type",
        {"item": "items", "location": "locations", "batch": "batches", "user": "users"},
    ),
    ("operations_log", "object_key"): ("object_type", {"user": "users"}),
}


# Ids of another table's rows kept without a foreign key (sums of postings, whose keys are
# checked where the postings are written).
UNLINKED = {
    **{("movement_totals", f"{kind}_id"): f"{kind}s" for kind in ("location", "item")},
    ("movement_totals", "batch_id"): "batches",
    **{("item_movement_totals", f"{kind}_id"): f"{kind}s" for kind in ("location", "item")},
}


def _ranked(row, maps, ranks):
    for value, rank in zip(row, maps, strict=True):
        if isinstance(rank, tuple):  # polymorphic: (index of the kind column, kind → table)
            kind_at, tables = rank
            rank = ranks.get(tables.get(row[kind_at], ""))
        if rank is None or value is None:
            yield without_times(value)
        else:
            yield ("rank", rank[int(value)])


def post(client: TestClient, call: Call, role: str, key: str):
    return client.post(
        call.path, json=call.body, params=call.params, headers=headers(role, key), files=call.files
    )


def without_ids(value):
    """An answer with the ids the database generated (`id`, `…_id`) replaced by a marker."""
    if isinstance(value, dict):
        return {
            key: "<id>" if key == "id" or key.endswith("_id") else without_ids(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [without_ids(item) for item in value]
    return value


def answer_of(response, ids: bool = True) -> tuple[int, object]:
    if response.status_code == 204:  # no content (a password changed)
        return 204, response.content
    found = without_times(response.json())
    return response.status_code, found if ids else without_ids(found)


# ---- crash points --------------------------------------------------------------------------


@contextmanager
def dying(monkeypatch, where: str):
    """The next request dies at `where`; the dead process does not give its claim back."""
    if where == "after-commit":
        commit = UnitOfWork.commit

        def commit_then_die(self) -> None:
            commit(self)
            monkeypatch.setattr(UnitOfWork, "commit", commit)
            raise SimulatedCrash(where)

        monkeypatch.setattr(UnitOfWork, "commit", commit_then_die)
    else:

        def die(*args, **kwargs) -> None:
            raise SimulatedCrash(where)

        monkeypatch.setattr(http_idempotency, "store_answer", die)
        monkeypatch.setattr(http_idempotency, "insert_answers", die)  # group commit's
    monkeypatch.setattr(http_idempotency, "release", lambda *args, **kwargs: None)
    yield
    monkeypatch.undo()


def retry_after_restart(app, opener: Opener, call: Call, role: str, key: str, monkeypatch):
    """The restarted server gets the retry once the dead request's claim is stale."""
    monkeypatch.setattr(http_idempotency, "stale_after_seconds", RETRY_STALE_SECONDS)
    time.sleep(RETRY_STALE_SECONDS * 2)
    with server(app, opener) as (client, database):
        first = post(client, call, role, key)
        again = post(client, call, role, key)
        return first, again, contents(database)


def route_id(route) -> str:
    return route[1].removeprefix(V1)


@pytest.mark.parametrize("route", POSTS, ids=route_id)
def test_a_retry_after_a_crash_returns_the_first_answer_and_posts_once(
    route, copies, app, monkeypatch
):
    role = allowed_role(route)
    call = CASES[route].build(role, "in", copies.numbers)
    with server(app, copies.fresh(0)) as (client, database):  # the control: no crash
        control = post(client, call, role, "once")
        assert 200 <= control.status_code < 300, control.text
        once = contents(database)
    for slot, where in enumerate(("after-commit", "before-answer"), start=1):
        opener = copies.fresh(slot)
        with server(app, opener) as (client, database):
            before = contents(database)
            with dying(monkeypatch, where), pytest.raises(SimulatedCrash):
                post(client, call, role, "once")
            crashed = contents(database)
        if where == "after-commit":
            assert crashed == once, "the work and its answer commit together"
        else:  # nothing of the work; only the dead request's claim, unanswered, where the
            # claim has a transaction of its own (none where it commits with the work)
            assert {**crashed, "http_idempotency": []} == {**before, "http_idempotency": []}
            claims = [r for r in crashed["http_idempotency"] if r not in before["http_idempotency"]]
            assert len(claims) == (0 if route in GROUP_COMMIT else 1), claims
        first, again, after = retry_after_restart(app, opener, call, role, "once", monkeypatch)
        # Work redone after a rollback may get other generated ids on PostgreSQL.
        ids = where == "after-commit"
        expected = answer_of(control, ids)
        if where == "after-commit":  # the stored answer: without a token shown once
            expected = (expected[0], replayed(expected[1]))
        assert answer_of(first, ids) == expected, (where, first.text, control.text)
        assert answer_of(again) == (first.status_code, replayed(answer_of(first)[1]))
        assert after == once, f"{where}: the ledger differs from one request that never died"


def test_every_post_route_of_the_openapi_document_is_crash_tested(app):
    schema = app.openapi_schema.to_schema()
    documented = {path for path, operations in schema["paths"].items() if "post" in operations}
    tested = {re.sub(r"\{(\w+):\w+\}", r"{\1}", path) for _, path in POSTS}
    assert documented == tested


# ---- concurrent duplicates and taking over a stale claim ---------------------------------------

SHIP = ("POST", f"{V1}/requests/{{number:str}}/shipments")


def shipments(database: Database) -> int:
    with database.read() as connection:
        query = select(func.count()).select_from(t.allocation_request_shipments)
        return connection.execute(query).scalar_one()


def test_concurrent_duplicates_of_a_shipment_ship_once(copies, app):
    call = CASES[SHIP].build("clerk", "in", copies.numbers)
    with server(app, copies.fresh(0)) as (_, database):
        before = shipments(database)
        answers: list = [None] * 6
        barrier = threading.Barrier(len(answers), timeout=30)
        apps = [create_app(database, clock=lambda: TODAY) for _ in answers]

        def send(index: int) -> None:
            with TestClient(app=apps[index]) as client:
                barrier.wait()
                answers[index] = post(client, call, "clerk", "same-moment")

        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(answers))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert {answer.status_code for answer in answers} == {201}
        assert len({answer.json()["number"] for answer in answers}) == 1
        assert shipments(database) == before + 1


def test_a_slow_request_whose_claim_was_taken_over_rolls_back_and_gives_the_new_answer(
    copies, app, monkeypatch
):
    """The first request stalls before its work past the stale window; a retry takes the key
    over and ships. When the first one resumes, its work must not commit (it would ship a
    second time): it rolls back and answers with the retry's answer."""
    call = CASES[SHIP].build("clerk", "in", copies.numbers)
    monkeypatch.setattr(http_idempotency, "stale_after_seconds", STALE_SECONDS)
    with server(app, copies.fresh(0)) as (client, database):
        retry_client = TestClient(app=app)
        before = shipments(database)
        stalled, resume = threading.Event(), threading.Event()
        run_once = http_idempotency.run_once

        def slow_first(*args, **kwargs):
            if not stalled.is_set():
                stalled.set()
                assert resume.wait(30)
            return run_once(*args, **kwargs)

        monkeypatch.setattr(http_idempotency, "run_once", slow_first)
        answers: dict[str, object] = {}
        first = threading.Thread(
            target=lambda: answers.update(first=post(client, call, "clerk", "slow"))
        )
        first.start()
        assert stalled.wait(30)
        time.sleep(STALE_SECONDS * 2)
        answers["retry"] = post(retry_client, call, "clerk", "slow")
        resume.set()
        first.join(timeout=60)
        retry, slow = answers["retry"], answers["first"]
        assert retry.status_code == 201, retry.text
        assert (slow.status_code, slow.json()) == (retry.status_code, retry.json())
        assert shipments(database) == before + 1


def test_a_takeover_while_the_first_request_commits_waits_for_its_answer(copies, app, monkeypatch):
    """The first request has written its answer but not committed yet when its claim looks
    stale to a retry: the retry waits (SQLite's writer lock, PostgreSQL's lock on the claim row)
    instead of taking the key over, then answers with the first answer. Nothing is shipped
    twice and nothing deadlocks."""
    call = CASES[SHIP].build("clerk", "in", copies.numbers)
    monkeypatch.setattr(http_idempotency, "stale_after_seconds", STALE_SECONDS)
    with server(app, copies.fresh(0)) as (client, database):
        retry_client = TestClient(app=app)
        before = shipments(database)
        stalled, resume = threading.Event(), threading.Event()
        store_answer = http_idempotency.store_answer

        def answer_then_stall(*args, **kwargs) -> None:
            store_answer(*args, **kwargs)
            if not stalled.is_set():
                stalled.set()
                assert resume.wait(30)

        monkeypatch.setattr(http_idempotency, "store_answer", answer_then_stall)
        answers: dict[str, object] = {}
        first = threading.Thread(
            target=lambda: answers.update(first=post(client, call, "clerk", "commit"))
        )
        first.start()
        assert stalled.wait(30)
        time.sleep(STALE_SECONDS * 2)
        retry = threading.Thread(
            target=lambda: answers.update(retry=post(retry_client, call, "clerk", "commit"))
        )
        retry.start()
        retry.join(timeout=0.5)
        assert retry.is_alive(), "the retry must wait for the first request's commit"
        resume.set()
        first.join(timeout=60)
        retry.join(timeout=60)
        first_answer, retry_answer = answers["first"], answers["retry"]
        assert first_answer.status_code == 201, first_answer.text
        assert (retry_answer.status_code, retry_answer.json()) == (201, first_answer.json())
        assert shipments(database) == before + 1


def test_a_takeover_that_loses_the_race_to_the_first_commit_finds_its_answer(
    copies, app, monkeypatch
):
    """A retry finds the claim stale and unanswered, but the first request commits its work and
    answer before the retry removes the claim: the removal must leave the answered claim alone,
    and the retry answers with the first answer instead of shipping again."""
    call = CASES[SHIP].build("clerk", "in", copies.numbers)
    monkeypatch.setattr(http_idempotency, "stale_after_seconds", STALE_SECONDS)
    with server(app, copies.fresh(0)) as (client, database):
        retry_client = TestClient(app=app)
        before = shipments(database)
        stalled, resume = threading.Event(), threading.Event()
        run_once, release = http_idempotency.run_once, http_idempotency.release
        answers: dict[str, object] = {}
        first = threading.Thread(
            target=lambda: answers.update(first=post(client, call, "clerk", "race"))
        )

        def slow_first(*args, **kwargs):
            if not stalled.is_set():
                stalled.set()
                assert resume.wait(30)
            return run_once(*args, **kwargs)

        def first_commits_then_release(*args, **kwargs) -> None:
            if not resume.is_set():
                resume.set()
                first.join(timeout=60)  # the first request has committed and answered
            release(*args, **kwargs)

        monkeypatch.setattr(http_idempotency, "run_once", slow_first)
        monkeypatch.setattr(http_idempotency, "release", first_commits_then_release)
        first.start()
        assert stalled.wait(30)
        time.sleep(STALE_SECONDS * 2)
        answers["retry"] = post(retry_client, call, "clerk", "race")
        first_answer, retry_answer = answers["first"], answers["retry"]
        assert first_answer.status_code == 201, first_answer.text
        assert (retry_answer.status_code, retry_answer.json()) == (201, first_answer.json())
        assert shipments(database) == before + 1
