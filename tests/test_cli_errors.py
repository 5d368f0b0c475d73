"""The `ledger` command never shows a traceback for wrong input: every failure is one line,
`error: <code>: <message>`, with a non-zero exit status, and a refused command writes nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from ledger import settings
from ledger.cli import run
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from tests.bound import Ledger
from tests.builder import CITY_TEXT, ledger_from_text
from tests.clones import copy_sqlite
from tests.conftest import TODAY


class Result:
    def __init__(self, status: int, out: str, err: str) -> None:
        self.status, self.out, self.err = status, out, err

    @property
    def error(self) -> str:
        """The one error line (and it must be the only line on stderr)."""
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, self.err
        assert lines[0].startswith("error: ") and "Traceback" not in self.err
        return lines[0]


def invoke(*arguments: str, env: dict[str, str | None] | None = None) -> Result:
    """`ledger ARGUMENTS` in this process, through the real entry point."""
    with CliRunner().isolation(env=env) as (out, err, _):
        try:
            run(list(arguments))
            status = 0
        except SystemExit as done:
            status = done.code if isinstance(done.code, int) else 1
        return Result(status, out.getvalue().decode(), err.getvalue().decode())


@pytest.fixture
def url(tmp_path):
    """A small ledger on SQLite: 成都市 holds 年画 (张) and 避孕套 (只)."""
    url = copy_sqlite(tmp_path / "cli.db")
    engine = make_engine(url)
    ledger = Ledger(Database(engine), clock=lambda: TODAY)
    ledger_from_text(
        ledger,
        CITY_TEXT
        + """
receipt 510100 NH2014 2014-01 10000 on 2026-05-01
receipt 510100 BYT B1 1440 expires 2026-08-31 on 2026-05-02
""",
    )
    engine.dispose()
    return url


def test_no_ledger_here_is_said_and_nothing_is_created(tmp_path):
    """In a folder without a ledger (the default ./data/ledger.db), reading commands refuse
    and leave the folder as it was."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_DATABASE")}
    commands = (
        ["verify"],
        ["verify", "--since-close"],
        ["balance"],
        ["report", "stock-on-hand", "--out", "s.xlsx"],
        ["close-period", "2026-05-31"],
        ["users", "list"],
        ["labels", "--batch", "NH2014/2014-01", "--out", "sheet.pdf"],
    )
    for command in commands:
        done = subprocess.run(
            [sys.executable, "-m", "ledger.cli", *command],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr.strip() == (
            "error: no_ledger: 这里没有账本 ./data/ledger.db；"
            "先运行 `ledger db upgrade` 建立账本 (run `ledger db upgrade` first)"
        ), command
        assert list(tmp_path.iterdir()) == [], command


def test_a_database_without_the_ledger_is_no_ledger(tmp_path):
    empty = tmp_path / "empty.db"
    make_engine(f"sqlite:///{empty}").connect().close()  # a SQLite file, no schema
    done = invoke("verify", env={"LEDGER_DATABASE_URL": f"sqlite:///{empty}"})
    assert done.status == 2 and done.error.startswith("error: no_ledger: 数据库里还没有账本")


@pytest.mark.parametrize(
    ("database_url", "says"),
    [
        ("mysql://clerk@127.0.0.1/ledger", "不支持的数据库 'mysql'"),
        ("oracle://clerk@127.0.0.1/ledger", "不支持的数据库 'oracle'"),
        ("not a url", "LEDGER_DATABASE_URL 不是数据库地址"),
        ("postgresql+nosuchdriver://clerk@127.0.0.1/ledger", "无法使用 LEDGER_DATABASE_URL"),
    ],
)
@pytest.mark.parametrize("command", [["verify"], ["db", "upgrade"], ["demo", "load"]])
def test_an_unsupported_database_url_is_one_line(
    database_url, says, command, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    done = invoke(*command, env={"LEDGER_DATABASE_URL": database_url})
    assert done.status == 2
    assert done.error.startswith(f"error: database_url_unsupported: {says}")
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_postgresql_is_a_database_error():
    done = invoke(
        "verify", env={"LEDGER_DATABASE_URL": "postgresql+psycopg://clerk@127.0.0.1:1/ledger"}
    )
    assert done.status == 2 and done.error.startswith("error: database_error: 数据库出错")


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            ["report", "stock-card", "--out", "c.xlsx"],
            "error: invalid_usage: stock-card 需要选项 --item (missing option --item)",
        ),
        (
            ["report", "stock-card", "--item", "NH2014", "--out", "c.xlsx"],
            "error: invalid_usage: stock-card 需要选项 --batch (missing option --batch)",
        ),
        (
            ["report", "coverage", "--out", "c.xlsx"],
            "error: invalid_usage: coverage 需要选项 --item (missing option --item)",
        ),
        (
            ["report", "stock-on-hand"],
            "error: invalid_usage: 缺少选项 --out (missing option --out)",
        ),
        (
            ["report", "stock-on-hand", "--out", "x.pdf"],
            "error: invalid_usage: --out x.pdf 的扩展名 .pdf 与输出格式不符，可用 .xlsx "
            "(--out does not match the format)",
        ),
        (
            ["report", "stock-on-hand", "--format", "csv", "--out", "x.xlsx"],
            "error: invalid_usage: --out x.xlsx 的扩展名 .xlsx 与输出格式不符，可用 .csv "
            "(--out does not match the format)",
        ),
        (
            ["report", "stock-on-hand", "--out", "no-such-folder/x.xlsx"],
            "error: output_unwritable: 无法写入 no-such-folder/x.xlsx："
            "文件夹 no-such-folder 不存在 (no such folder)",
        ),
        (
            [
                "report",
                "period-summary",
                "--from",
                "2026-06-30",
                "--to",
                "2026-06-01",
                "--out",
                "p.csv",
            ],
            "error: date_range_invalid: --from 2026-06-30 晚于 --to 2026-06-01 (from after to)",
        ),
        (
            ["report", "stock-card", "--item", "NOPE", "--batch", "1", "--out", "c.csv"],
            "error: unknown_item: 没有编码为 'NOPE' 的物资 (unknown item)",
        ),
        (
            ["labels", "--batch", "NH2014/2014-01", "--out", "sheet.png"],
            "error: invalid_usage: --out sheet.png 的扩展名 .png 与输出格式不符，可用 .pdf "
            "(--out does not match the format)",
        ),
        (
            ["labels", "--batch", "NH2014/2014-01", "--out", "no-such-folder/sheet.pdf"],
            "error: output_unwritable: 无法写入 no-such-folder/sheet.pdf："
            "文件夹 no-such-folder 不存在 (no such folder)",
        ),
        (
            ["labels", "--out", "sheet.pdf"],
            "error: invalid_usage: 需要选项 --batch ITEM/BATCH (missing option --batch)",
        ),
        (
            ["users", "add", "--location", "510121", "--label", "保管员"],
            "error: invalid_usage: 缺少选项 --role (missing option --role)",
        ),
        (
            ["nonsense"],
            "error: invalid_usage: 命令用法不对 (usage): No such command 'nonsense'.; "
            "见 ledger --help",
        ),
        (
            ["balance", "--colour"],
            "error: invalid_usage: 没有选项 --colour (no such option); 见 ledger --help",
        ),
    ],
)
def test_wrong_input_is_one_line_and_writes_nothing(
    url, tmp_path, monkeypatch, arguments, expected
):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    done = invoke(*arguments, env={"LEDGER_DATABASE_URL": url})
    assert (done.status, done.error) == (2, expected)
    assert list(work.iterdir()) == []


@pytest.mark.parametrize(
    ("arguments", "option"),
    [
        (["balance", "--as-of", "2026-13-01"], "--as-of"),
        (["report", "near-expiry", "--days", "-1", "--out", "n.csv"], "--days"),
        (["report", "audit-sample", "--size", "0", "--out", "a.csv"], "--size"),
        (["report", "period-summary", "--format", "pdf", "--out", "p.pdf"], "--format"),
        (["close-period", "yesterday"], "PERIOD_END"),
        (["users", "revoke", "seven"], "USER_ID"),
    ],
)
def test_a_bad_value_names_its_option(url, arguments, option):
    done = invoke(*arguments, env={"LEDGER_DATABASE_URL": url})
    assert done.status == 2
    assert done.error.startswith(f"error: invalid_usage: {option} 的值不对 (invalid value): ")


def test_the_format_follows_the_file_name(url, tmp_path):
    out = tmp_path / "stock.csv"
    done = invoke("report", "stock-on-hand", "--out", str(out), env={"LEDGER_DATABASE_URL": url})
    assert done.status == 0, done.err
    text = out.read_text("utf-8-sig")
    assert text.startswith("库点编码,库点") and "合计" in text
    page = tmp_path / "stock"  # no extension: xlsx, as before
    done = invoke("report", "stock-on-hand", "--out", str(page), env={"LEDGER_DATABASE_URL": url})
    assert done.status == 0 and page.read_bytes().startswith(b"PK")


def test_an_unexpected_error_is_one_line_unless_debugging(url, tmp_path, monkeypatch):
    from ledger.services import report_stock

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(report_stock, "stock_on_hand", broken)
    out = tmp_path / "stock.json"
    arguments = ("report", "stock-on-hand", "--out", str(out))
    done = invoke(*arguments, env={"LEDGER_DATABASE_URL": url, "LEDGER_DEBUG": None})
    assert done.status == 1
    lines = done.err.strip().splitlines()
    assert lines[-1] == (
        "error: internal_error: 内部错误，请把这一行告诉维护人员；LEDGER_DEBUG=1 显示详情 "
        "(unexpected RuntimeError: boom)"
    )
    assert all(not line.startswith("error") for line in lines[:-1])  # only the bars' labels
    assert "Traceback" not in done.err and not out.exists()
    debugging = {"LEDGER_DATABASE_URL": url, "LEDGER_DEBUG": "1"}
    with pytest.raises(RuntimeError, match="boom"), CliRunner().isolation(env=debugging):
        run(list(arguments))


@pytest.mark.parametrize(
    "arguments", [("report", "near-expiry", "--out", "n.json"), ("verify",), ("balance",)]
)
def test_an_unknown_time_zone_is_one_line(url, arguments):
    """Every command, not only those that take today's date."""
    done = invoke(
        *arguments, env={"LEDGER_DATABASE_URL": url, "LEDGER_TIME_ZONE": "Mars/Olympus_Mons"}
    )
    assert done.status == 2 and done.error.startswith("error: invalid_setting: LEDGER_TIME_ZONE")


def test_reports_count_from_the_office_day(url, tmp_path, monkeypatch):
    """At 00:30 in Shanghai (16:30 UTC the day before) near-expiry counts from the new day."""
    monkeypatch.setattr(
        settings, "utc_now", lambda: dt.datetime(2026, 6, 30, 16, 30, tzinfo=dt.UTC)
    )
    out = tmp_path / "near.json"
    done = invoke(
        "report",
        "near-expiry",
        "--out",
        str(out),
        env={"LEDGER_DATABASE_URL": url, "LEDGER_TIME_ZONE": None},
    )
    assert done.status == 0, done.err
    report = json.loads(out.read_bytes())
    assert "2026-07-01 起 90 天内到期" in report["subtitle"]
    assert [row[5] for row in report["rows"]] == [(dt.date(2026, 8, 31) - dt.date(2026, 7, 1)).days]
