"""`ledger backup` and `ledger restore` on SQLite and PostgreSQL: a copy taken while another
thread keeps posting is one committed state of the source (its checkpoint is a transaction the
source holds, its balances the source's as of that transaction), verifies clean, restores into
an empty database only, and the restored ledger takes new postings."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from ledger import commands as c
from ledger.cli import run
from ledger.db import tables as t
from ledger.db.engine import make_engine, upgrade
from ledger.db.unit_of_work import Database
from ledger.services.audit import verify_ledger
from tests.bound import Ledger
from tests.builder import CITY_TEXT, ledger_from_text
from tests.conftest import PG_URL, TODAY, require_postgres

ISSUES = 200
CHECKPOINT = re.compile(
    r"^checkpoint (\d+):([0-9a-f]{16}) \(transaction #\1, hash ([0-9a-f]{64})\)$", re.M
)


class Result:
    def __init__(self, status: int, out: str, err: str) -> None:
        self.status, self.out, self.err = status, out, err

    @property
    def error(self) -> str:
        lines = self.err.strip().splitlines()
        assert lines and lines[-1].startswith("error: ") and "Traceback" not in self.err, self.err
        return lines[-1]

    def checkpoint(self) -> tuple[int, str]:
        found = CHECKPOINT.search(self.out)
        assert found, self.out + self.err
        assert found.group(3).startswith(found.group(2))
        return int(found.group(1)), found.group(3)


def invoke(*arguments: str, url: str, **env: str) -> Result:
    with CliRunner().isolation(env={"LEDGER_DATABASE_URL": url, **env}) as (out, err, _):
        try:
            run(list(arguments))
            status = 0
        except SystemExit as done:
            status = done.code if isinstance(done.code, int) else 1
        return Result(status, out.getvalue().decode(), err.getvalue().decode())


@contextmanager
def postgres_databases(count: int) -> Iterator[list[str]]:
    """Databases of their own on the test server (pg_dump copies a whole database), dropped
    afterwards: their URLs."""
    require_postgres()
    names = [f"ledger_bk_{uuid.uuid4().hex[:10]}" for _ in range(count)]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        base = make_url(PG_URL)
        yield [base.set(database=n).render_as_string(hide_password=False) for n in names]
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def urls(request, tmp_path) -> Iterator[tuple[str, str]]:
    """A source and a second, empty target database of one engine kind."""
    if request.param == "sqlite":
        yield (
            f"sqlite:///{tmp_path / 'source.db'}",
            f"sqlite:///{tmp_path / 'restored' / 'copy.db'}",
        )
        return
    with postgres_databases(2) as (source, target):
        yield source, target


def source_ledger(url: str) -> Ledger:
    engine = make_engine(url)
    upgrade(engine)
    ledger = Ledger(Database(engine), clock=lambda: TODAY)
    ledger_from_text(ledger, CITY_TEXT + "receipt 510100 NH2014 2014-01 100000 on 2026-05-01\n")
    return ledger


def issue(ledger: Ledger, quantity: int = 1) -> None:
    ledger.issue(c.Issue("510100", "510121", (c.LineSpec("NH2014", quantity),)))


def head(database: Database) -> int:
    with database.read() as connection:
        return connection.execute(select(func.max(t.transactions.c.id))).scalar_one()


def balances_through(database: Database, sequence: int) -> dict[tuple[int, int, int], int]:
    """Each account's balance as of transaction `sequence`, summed from its postings."""
    p = t.postings.c
    with database.read() as connection:
        rows = connection.execute(
            select(p.location_id, p.item_id, p.batch_id, func.sum(p.quantity))
            .where(p.transaction_id <= sequence)
            .group_by(p.location_id, p.item_id, p.batch_id)
        )
        return {(a, b, d): int(q) for a, b, d, q in rows if q}


def stored_balances(database: Database) -> dict[tuple[int, int, int], int]:
    b = t.balances.c
    with database.read() as connection:
        rows = connection.execute(select(b.location_id, b.item_id, b.batch_id, b.on_hand))
        return {(a, i, d): int(q) for a, i, d, q in rows if q}


def test_backup_under_posting_restores_one_state_of_the_source(urls, tmp_path):
    source_url, target_url = urls
    ledger = source_ledger(source_url)
    source = ledger.database
    started = threading.Event()
    errors: list[BaseException] = []

    def keep_posting() -> None:
        try:
            for number in range(ISSUES):
                issue(ledger)
                if number == 20:
                    started.set()
        except BaseException as error:  # reported by the test below
            errors.append(error)
        finally:
            started.set()

    before = head(source)
    poster = threading.Thread(target=keep_posting)
    poster.start()
    started.wait(60)
    backed = invoke("backup", "--out", str(tmp_path / "ledger.backup"), url=source_url)
    poster.join(120)
    assert not poster.is_alive() and errors == []
    assert backed.status == 0, backed.err
    assert "verify: OK" in backed.out
    sequence, digest = backed.checkpoint()
    final = head(source)
    assert final == before + ISSUES
    assert before + 21 <= sequence <= final  # taken while the poster ran
    with source.read() as connection:  # the checkpoint is a transaction the source holds
        stored = connection.execute(
            select(t.transactions.c.hash).where(t.transactions.c.id == sequence)
        ).scalar_one()
    assert stored == digest
    assert not list(tmp_path.glob(".*partial"))  # the temporary copy is gone

    restored = invoke("restore", str(tmp_path / "ledger.backup"), url=target_url)
    assert restored.status == 0, restored.err
    assert restored.checkpoint() == (sequence, digest)
    copy = Database(make_engine(target_url))
    try:
        report = verify_ledger(copy)
        assert report.ok and report.findings == ()
        assert (report.digest_sequence, report.digest_hash) == (sequence, digest)
        assert head(copy) == sequence
        expected = balances_through(source, sequence)
        assert stored_balances(copy) == expected
        assert balances_through(copy, sequence) == expected
        # the restored ledger goes on: its numbering and chain continue from the copy's head
        issue(Ledger(copy, clock=lambda: TODAY), 5)
        assert head(copy) == sequence + 1
        assert verify_ledger(copy).ok
    finally:
        copy.dispose()

    # a database that holds anything is refused, and left exactly as it was
    again = invoke("restore", str(tmp_path / "ledger.backup"), url=source_url)
    assert again.status == 2
    assert again.error.startswith("error: ledger_not_empty: ")
    assert head(source) == final
    assert verify_ledger(source).ok
    source.dispose()


def test_backup_refuses_an_existing_file_and_a_missing_folder(tmp_path):
    url = f"sqlite:///{tmp_path / 'source.db'}"
    source_ledger(url).database.dispose()
    kept = tmp_path / "kept.backup"
    kept.write_bytes(b"an older backup")
    refused = invoke("backup", "--out", str(kept), url=url)
    assert refused.status == 2 and refused.error.startswith("error: output_exists: ")
    assert kept.read_bytes() == b"an older backup"
    missing = invoke("backup", "--out", str(tmp_path / "no-such-folder" / "x.backup"), url=url)
    assert missing.status == 2 and missing.error.startswith("error: output_unwritable: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.backup", "source.db"]


def test_restore_refuses_what_is_not_a_backup_of_its_engine(tmp_path):
    target = tmp_path / "copy.db"
    url = f"sqlite:///{target}"
    junk = tmp_path / "notes.txt"
    junk.write_text("不是备份")
    refused = invoke("restore", str(junk), url=url)
    assert refused.status == 2 and refused.error.startswith("error: backup_invalid: ")
    dump = tmp_path / "pg.backup"
    dump.write_bytes(b"PGDMP\x01\x0e\x00")
    wrong = invoke("restore", str(dump), url=url)
    assert wrong.status == 2 and wrong.error.startswith("error: backup_invalid: ")
    assert "postgresql" in wrong.error
    assert not target.exists()


def test_restore_into_a_non_empty_sqlite_file_changes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'source.db'}"
    source_ledger(url).database.dispose()
    assert invoke("backup", "--out", str(tmp_path / "b.backup"), url=url).status == 0
    other = tmp_path / "other.db"
    upgrade(make_engine(f"sqlite:///{other}"))  # a schema and nothing else is not empty
    before = other.read_bytes()
    refused = invoke("restore", str(tmp_path / "b.backup"), url=f"sqlite:///{other}")
    assert refused.status == 2 and refused.error.startswith("error: ledger_not_empty: ")
    assert other.read_bytes() == before


@pytest.mark.postgres
def test_postgresql_backup_without_client_tools_says_what_to_install(tmp_path):
    with postgres_databases(1) as (url,):
        source_ledger(url).database.dispose()
        refused = invoke("backup", "--out", str(tmp_path / "x.backup"), url=url, PATH=str(tmp_path))
    assert refused.status == 2
    assert refused.error.startswith("error: backup_tools_missing: 找不到 pg_dump")
    assert "postgresql-client" in refused.error
    assert list(tmp_path.iterdir()) == []
