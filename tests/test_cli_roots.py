"""The command line in a ledger of two cities: a close and a verification since a close name
their city, a verification can cover one city, and a global admin is made with --global."""

from __future__ import annotations

import pytest

from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from tests.bound import Ledger
from tests.builder import CITY_TEXT, ledger_from_text
from tests.clones import copy_sqlite
from tests.conftest import TODAY
from tests.support import ledger_command

SECOND_CITY = """
location 500100 渝中样例市 city
location 500101 样例一区 county 500100
receipt 510100 NH2014 2014-01 1000 on 2026-05-02
receipt 500100 NH2014 2014-01 600 on 2026-05-03
"""


@pytest.fixture
def run_ledger(tmp_path):
    url = copy_sqlite(tmp_path / "cli.db")
    engine = make_engine(url)
    ledger_from_text(Ledger(Database(engine), clock=lambda: TODAY), CITY_TEXT + SECOND_CITY)
    engine.dispose()
    return ledger_command(url)


def test_a_close_and_a_verification_since_a_close_name_their_city(run_ledger):
    unnamed = run_ledger("close-period", "2026-05-31")
    assert unnamed.returncode != 0 and unnamed.stderr.count("\n") == 1
    assert unnamed.stderr.startswith("error: root_required: ") and "500100" in unnamed.stderr
    closed = run_ledger("close-period", "2026-05-31", "--root", "500100")
    assert closed.returncode == 0, closed.stderr
    assert closed.stdout.startswith("500100 closed through 2026-05-31")
    since = run_ledger("verify", "--since-close")
    assert since.returncode != 0 and since.stderr.startswith("error: root_required: ")
    second = run_ledger("verify", "--since-close", "--root", "500100")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "since the close of 2026-05-31" in second.stdout
    assert second.stdout.strip().splitlines()[-1].startswith("OK: 0 transactions")
    chengdu = run_ledger("verify", "--root", "510100")
    assert chengdu.returncode == 0 and "OK: 1 transactions" in chengdu.stdout
    whole = run_ledger("verify")
    assert whole.returncode == 0 and "OK: 2 transactions" in whole.stdout


def test_a_global_admin_takes_no_location_and_everybody_else_needs_one(run_ledger):
    made = run_ledger("users", "add", "--role", "admin", "--global", "--label", "省级系统管理员")
    assert made.returncode == 0, made.stderr
    assert "admin@every city 省级系统管理员" in made.stdout
    listed = run_ledger("users", "list")
    assert "全部市 (global)" in listed.stdout
    nowhere = run_ledger("users", "add", "--role", "clerk", "--label", "保管员")
    assert nowhere.returncode != 0 and nowhere.stderr.startswith("error: global_admin_only: ")
    both = run_ledger(
        "users", "add", "--role", "admin", "--global", "--location", "510100", "--label", "x"
    )
    assert both.returncode != 0 and both.stderr.startswith("error: global_admin_only: ")
    clerk = run_ledger("users", "add", "--role", "clerk", "--global", "--label", "保管员")
    assert clerk.returncode != 0 and "只有管理员" in clerk.stderr


def test_a_report_without_under_covers_the_only_city_and_asks_when_there_are_two(
    run_ledger, tmp_path
):
    out = tmp_path / "summary.csv"
    unnamed = run_ledger("report", "period-summary", "--out", str(out))
    assert unnamed.returncode == 2 and unnamed.stderr.startswith("error: root_required: ")
    assert "510100" in unnamed.stderr and "500100" in unnamed.stderr and not out.exists()
    named = run_ledger("report", "period-summary", "--under", "500100", "--out", str(out))
    assert named.returncode == 0, named.stderr
    assert "500100" in out.read_text(encoding="utf-8-sig")


def test_a_report_without_under_in_a_ledger_of_one_city_covers_that_city(tmp_path):
    url = copy_sqlite(tmp_path / "one.db")
    engine = make_engine(url)
    ledger_from_text(
        Ledger(Database(engine), clock=lambda: TODAY),
        CITY_TEXT + "receipt 510121 NH2014 2014-01 1000 on 2026-05-02\n",
    )
    engine.dispose()
    run = ledger_command(url)
    out, named = tmp_path / "default.csv", tmp_path / "named.csv"
    assert run("report", "stock-on-hand", "--out", str(out)).returncode == 0
    assert run("report", "stock-on-hand", "--under", "510100", "--out", str(named)).returncode == 0
    assert out.read_text(encoding="utf-8-sig") == named.read_text(encoding="utf-8-sig")
    assert "金堂县" in out.read_text(encoding="utf-8-sig")
