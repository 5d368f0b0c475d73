"""The `ledger` command's frame: the top group, the database and output helpers its commands
share, and the entry point that turns every failure into one line.

Every failure is one line on stderr, `error: <code>: <message>`, with a non-zero exit status: 2
for input the ledger refuses (a rejection, a wrong option, a missing ledger or output folder),
1 for anything unexpected (LEDGER_DEBUG=1 shows its traceback instead). `verify` exits 1 when it
finds something.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from ledger.rules import Code, LedgerError
from ledger.settings import Settings

NO_LEDGER_HINT = "先运行 `ledger db upgrade` 建立账本 (run `ledger db upgrade` first)"


def ledger_database(must_exist: bool = True):
    """The ledger's database from LEDGER_DATABASE_URL. With `must_exist` (every command but
    those that create a ledger) a SQLite file that is not there is refused before anything is
    created, and so is a database without the ledger's schema."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from ledger.services.database import open_database

    url = Settings.from_environment().database_url
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LedgerError(
            Code.database_url_unsupported,
            f"LEDGER_DATABASE_URL 不是数据库地址：{url!r}，例如 sqlite:///./data/ledger.db 或 "
            "postgresql+psycopg://user@host/db (not a database URL)",
            "LEDGER_DATABASE_URL",
        ) from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise LedgerError(
            Code.database_url_unsupported,
            f"不支持的数据库 {backend!r}：只能用 sqlite 或 postgresql "
            f"(unsupported database {backend!r})",
            "LEDGER_DATABASE_URL",
        )
    if must_exist and backend == "sqlite":
        where = parsed.database or ""
        if where in ("", ":memory:") or not Path(where).is_file():
            raise LedgerError(
                Code.no_ledger,
                f"这里没有账本 {where or url}；{NO_LEDGER_HINT}",
                "LEDGER_DATABASE_URL",
            )
    try:
        database = open_database(url)
    except (ArgumentError, ImportError, ValueError) as error:  # a driver that is not there …
        raise LedgerError(
            Code.database_url_unsupported,
            f"无法使用 LEDGER_DATABASE_URL (cannot use the database URL): {error}",
            "LEDGER_DATABASE_URL",
        ) from None
    if must_exist:
        ensure_schema(database)
    return database


def ensure_schema(database) -> None:
    if not has_schema(database):
        raise LedgerError(Code.no_ledger, f"数据库里还没有账本；{NO_LEDGER_HINT}")


def output_path(out: str, allowed: tuple[str, ...]) -> Path:
    """Where a file will be written: its folder must exist (checked before any work is done)."""
    path = Path(out)
    suffix = path.suffix.lower().lstrip(".")
    if suffix and suffix not in allowed:
        raise LedgerError(
            Code.invalid_usage,
            f"--out {out} 的扩展名 .{suffix} 与输出格式不符，可用 "
            f"{'、'.join('.' + a for a in allowed)} (--out does not match the format)",
            "out",
        )
    folder = path.parent
    if not folder.is_dir():
        raise LedgerError(
            Code.output_unwritable,
            f"无法写入 {out}：文件夹 {folder} 不存在 (no such folder)",
            "out",
        )
    return path


def write_output(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as error:
        raise LedgerError(
            Code.output_unwritable,
            f"无法写入 {path}：{error.strerror or error} (cannot write the file)",
            "out",
        ) from None


@click.group()
def main() -> None:
    """宣传品与计生药具 stock ledger."""
    from ledger.settings import office_zone

    office_zone()  # a wrong LEDGER_TIME_ZONE stops every command, not only those using today


def text_table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    import unicodedata

    def width(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    widths = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(header)]

    def line(cells) -> str:
        return "  ".join(
            cell + " " * (w - width(cell)) for cell, w in zip(cells, widths, strict=True)
        )

    return "\n".join([line(header), *(line(r) for r in rows)])


def has_schema(database) -> bool:
    from ledger.services.database import schema_revision

    return schema_revision(database) is not None


def _usage_message(error: click.ClickException) -> str:
    """A wrong command line in Chinese, naming the option, with click's own words beside it."""
    param = getattr(error, "param", None)
    name = None
    if param is not None:
        name = param.opts[0] if isinstance(param, click.Option) else param.human_readable_name
    english = error.format_message()
    if isinstance(error, click.MissingParameter) and name:
        return f"缺少选项 {name} (missing option {name})"
    if isinstance(error, click.BadParameter) and name:
        return f"{name} 的值不对 (invalid value): {english}"
    if isinstance(error, click.NoSuchOption):
        return f"没有选项 {error.option_name} (no such option); 见 ledger --help"
    return f"命令用法不对 (usage): {english}; 见 ledger --help"


def _fail(code: Code | str, message: str, status: int) -> None:
    """One line on stderr, the whole of it (a message never spans lines), and exit."""
    text = " ".join(str(message).split())
    click.echo(f"error: {code}: {text}", err=True)
    sys.exit(status)


def run(args: list[str] | None = None) -> None:
    """Entry point: every error is one line, `error: <code>: <message>`; exit 2 for refused
    input, 1 for the unexpected (LEDGER_DEBUG=1 lets its traceback through)."""
    from ledger.services.database import DatabaseError
    from ledger.services.label_keys import LabelKeyError

    try:
        status = main(args, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        if type(error).__name__ == "NoArgsIsHelpError":  # `ledger` (or a group) alone
            click.echo(error.format_message())
            sys.exit(0)
        _fail(Code.invalid_usage, _usage_message(error), 2)
    except LedgerError as error:
        _fail(error.code, error.message, 2)
    except LabelKeyError as error:
        _fail(Code.label_keys_invalid, f"标签密钥不可用 (label keys): {error}", 2)
    except DatabaseError as error:
        if os.environ.get("LEDGER_DEBUG") == "1":
            raise
        orig = getattr(error, "orig", None)
        first_line = (str(orig or error).strip().splitlines() or [type(error).__name__])[0]
        _fail(Code.database_error, f"数据库出错 (database): {first_line}", 2)
    except Exception as error:
        if os.environ.get("LEDGER_DEBUG") == "1":
            raise
        detail = (str(error).strip().splitlines() or [""])[0]
        _fail(
            Code.internal_error,
            f"内部错误，请把这一行告诉维护人员；LEDGER_DEBUG=1 显示详情 "
            f"(unexpected {type(error).__name__}: {detail})",
            1,
        )
    if isinstance(status, int) and status:
        sys.exit(status)
