"""Backups of a running ledger and their restore into an empty database.

A backup is one consistent copy of the whole database, taken while the service keeps posting:

- SQLite: the online backup API (`sqlite3.Connection.backup`) copies every page in one step,
  inside one read transaction of the source, so the copy is the ledger as of one commit (in WAL
  mode writers carry on meanwhile).
- PostgreSQL: `pg_dump --format=custom`, which reads the whole database in one snapshot.

Every copy is opened and verified before it is handed out: a SQLite copy directly; a PostgreSQL
dump is restored (`pg_restore`) into a scratch database made for the check on the same server
and dropped afterwards, so what is checked is the dump itself, not the live ledger it came from.
The copy's chain head is the checkpoint to keep with it.

The copy is written beside `--out` under a temporary name and only takes that name once it is
complete and verified: a failed backup leaves no file, and an existing file is never replaced.
A restore goes only into an empty database (no table at all) and is all or nothing: SQLite
restores into a temporary file that takes the target's name at the end; PostgreSQL restores in
one transaction (`pg_restore --single-transaction`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import msgspec
from sqlalchemy.engine import URL

from ledger.db import emptiness, journal_queries
from ledger.db.engine import current_revision, make_engine
from ledger.db.unit_of_work import Database
from ledger.history import format_checkpoint
from ledger.rules import Code, LedgerError
from ledger.services.audit import VerificationReport, verify_ledger

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
POSTGRESQL_CLIENT_HINT = (
    "请安装 PostgreSQL 客户端工具，版本不低于服务器（Debian/Ubuntu：apt-get install "
    "postgresql-client）"
)


class BackupResult(msgspec.Struct, frozen=True):
    """A verified copy: where it is, what engine made it, what verification found and — when
    it passed — its chain head (`sequence`, `hash`) as the checkpoint `N:HASH`."""

    path: str
    engine: str  # "sqlite" or "postgresql"
    size: int  # bytes of the copy
    seconds: float
    report: VerificationReport
    sequence: int = 0
    hash: str = ""
    checkpoint: str = ""


Progress = Callable[[int], None] | None


def backup(database: Database, out: Path, progress: Progress = None) -> BackupResult:
    """Copy the running ledger to `out` (a new file), verify the copy, return its checkpoint."""
    started = time.perf_counter()
    _refuse_existing(out)
    engine = database.engine.dialect.name
    temporary = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        if engine == "sqlite":
            _sqlite_copy(Path(database.engine.url.database or ""), temporary)
            report, head = _verify_sqlite(temporary, progress)
        else:
            _pg_dump(database.engine.url, temporary)
            report, head = _verify_pg_dump(database.engine.url, temporary, progress)
        _claim(temporary, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return _result(out, engine, started, report, head)


def restore(url: URL, source: Path, progress: Progress = None) -> BackupResult:
    """Restore the backup `source` into the empty database at `url`, verify it, return its
    checkpoint. Refused (`ledger_not_empty`, nothing changed) when the database holds a table."""
    started = time.perf_counter()
    engine = url.get_backend_name()
    kind = _backup_kind(source)
    if kind != engine:
        raise LedgerError(
            Code.backup_invalid,
            f"{source} 是 {kind} 的备份，不能恢复到 {engine} 数据库 "
            f"(a {kind} backup cannot be restored into {engine})",
            "file",
        )
    if engine == "sqlite":
        target = Path(url.database or "")
        _refuse_not_empty_sqlite(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.restoring")
        try:
            _sqlite_copy(source, temporary)
            report, head = _verify_sqlite(temporary, progress)
            _refuse_not_empty_sqlite(target)  # still empty: nobody wrote there meanwhile
            os.replace(temporary, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
        return _result(target, engine, started, report, head)
    _refuse_not_empty_pg(url)
    _pg_restore(source, url)
    report, head = _verify_database(url, progress)
    return _result(source, engine, started, report, head)


def _result(path: Path, engine: str, started: float, report, head) -> BackupResult:
    sequence, digest = head if head else (0, "")
    return BackupResult(
        str(path),
        engine,
        path.stat().st_size if path.is_file() else 0,
        time.perf_counter() - started,
        report,
        sequence,
        digest,
        format_checkpoint(sequence, digest) if head else "",
    )


def _refuse_existing(out: Path) -> None:
    if out.exists() or out.is_symlink():
        raise LedgerError(
            Code.output_exists,
            f"{out} 已存在：备份不会覆盖已有文件，请换一个文件名（如带上日期）"
            "(the output file exists; a backup never overwrites one)",
            "out",
        )


def _claim(temporary: Path, out: Path) -> None:
    """Give the finished copy its name, unless a file took that name meanwhile (a hard link
    never replaces; where links are not possible, a last look before the rename)."""
    try:
        os.link(temporary, out)
    except FileExistsError:
        _refuse_existing(out)
        raise
    except OSError:
        _refuse_existing(out)
        os.rename(temporary, out)


# SQLite ---------------------------------------------------------------------------------------


def _sqlite_copy(source: Path, destination: Path) -> None:
    """Every page of `source` in one step of the online backup API: one read transaction, so
    one committed state, while other connections keep writing (WAL)."""
    source_connection = sqlite3.connect(source, timeout=10)
    try:
        destination_connection = sqlite3.connect(destination)
        try:
            source_connection.backup(destination_connection, pages=-1)
        finally:
            destination_connection.close()
    except sqlite3.DatabaseError as error:
        raise LedgerError(
            Code.backup_invalid,
            f"{source} 不是可用的 SQLite 账本备份 (not a usable SQLite database): {error}",
            "file",
        ) from None
    finally:
        source_connection.close()


def _verify_sqlite(path: Path, progress: Progress):
    return _verify_database(URL.create("sqlite", database=str(path)), progress)


def _refuse_not_empty_sqlite(target: Path) -> None:
    if not target.exists() or target.stat().st_size == 0:
        return
    tables = emptiness.sqlite_tables(target)  # -1: a file that is not a database is not empty
    if tables:
        raise LedgerError(
            Code.ledger_not_empty,
            f"{target} 不是空数据库，恢复只能进入空数据库；请把 LEDGER_DATABASE_URL 指向一个"
            "新文件 (restore needs an empty database)",
            "LEDGER_DATABASE_URL",
        )


# PostgreSQL -----------------------------------------------------------------------------------


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise LedgerError(
            Code.backup_tools_missing,
            f"找不到 {name}：{POSTGRESQL_CLIENT_HINT} ({name} not found)",
            name,
        )
    return found


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The URL as libpq reads it (no driver name) and the environment carrying its password
    (never on the command line, where other users of the machine could read it)."""
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return conninfo, env


def _run(arguments: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(arguments, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        reason = next((line for line in lines if "error" in line.lower()), None)
        raise LedgerError(
            Code.backup_failed,
            f"{what}失败 ({Path(arguments[0]).name} failed): "
            f"{reason or (lines[0] if lines else f'exit status {done.returncode}')}",
        )


def _pg_dump(url: URL, out: Path) -> None:
    conninfo, env = _libpq(url)
    arguments = [_tool("pg_dump"), "--format=custom", "--no-password", f"--file={out}"]
    _run([*arguments, f"--dbname={conninfo}"], env, "备份 ")


def _pg_restore(source: Path, url: URL) -> None:
    conninfo, env = _libpq(url)
    arguments = [
        _tool("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",  # all of it or nothing
        "--no-password",
        f"--dbname={conninfo}",
        str(source),
    ]
    _run(arguments, env, "恢复 ")


def _refuse_not_empty_pg(url: URL) -> None:
    tables = emptiness.postgres_tables(url)
    if tables:
        raise LedgerError(
            Code.ledger_not_empty,
            f"数据库 {url.database} 不是空的（已有 {tables} 张表），恢复只能进入空数据库；请新建一个"
            "数据库（createdb）并把 LEDGER_DATABASE_URL 指向它 (restore needs an empty database)",
            "LEDGER_DATABASE_URL",
        )


def _verify_pg_dump(url: URL, dump: Path, progress: Progress):
    """Restore the dump into a scratch database on the same server, verify it there, drop it."""
    scratch = f"ledger_backup_check_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    try:
        try:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{scratch}"')
        except Exception as error:
            first = (str(getattr(error, "orig", error)).strip().splitlines() or [""])[0]
            raise LedgerError(
                Code.backup_failed,
                "无法建立临时数据库来核验备份：数据库用户需要 CREATEDB 权限 "
                f"(cannot create a scratch database to check the dump): {first}",
            ) from None
        try:
            check_url = url.set(database=scratch)
            _pg_restore(dump, check_url)
            return _verify_database(check_url, progress)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    finally:
        admin.dispose()


# Both -----------------------------------------------------------------------------------------


def _verify_database(url: URL, progress: Progress) -> tuple[VerificationReport, tuple | None]:
    """Verify the ledger at `url` from genesis; its chain head when it passed."""
    database = Database(make_engine(url.render_as_string(hide_password=False)))
    try:
        if current_revision(database.engine) is None:
            raise LedgerError(
                Code.backup_invalid,
                "备份里没有账本（没有账本的表）(the copy holds no ledger)",
                "file",
            )
        report = verify_ledger(database, progress=progress)
        head = None
        if report.ok:
            with database.read() as connection:
                head = journal_queries.checkpoint_head(connection)
        return report, head
    finally:
        database.dispose()


def _backup_kind(path: Path) -> str:
    """ "sqlite" or "postgresql" by the file's first bytes; refused when it is neither."""
    try:
        with path.open("rb") as file:
            start = file.read(len(SQLITE_MAGIC))
    except OSError as error:
        raise LedgerError(
            Code.backup_invalid,
            f"读不了备份文件 {path}：{error.strerror or error} (cannot read the backup)",
            "file",
        ) from None
    if start.startswith(SQLITE_MAGIC):
        return "sqlite"
    if start.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise LedgerError(
        Code.backup_invalid,
        f"{path} 不是账本备份（既不是 SQLite 数据库，也不是 pg_dump 自定义格式）"
        "(not a ledger backup)",
        "file",
    )
