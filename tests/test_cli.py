"""The `ledger` command end to end, as a clerk or CI would run it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import ledger_command


@pytest.fixture
def run_ledger(tmp_path):
    return ledger_command(f"sqlite:///{tmp_path / 'cli.db'}")


def test_upgrade_demo_balance_and_verify(run_ledger):
    assert run_ledger("db", "upgrade").returncode == 0
    loaded = run_ledger("demo", "load")
    assert loaded.returncode == 0 and "demo loaded" in loaded.stdout
    again = run_ledger("demo", "load", "--if-empty")
    assert again.returncode == 0 and "not loaded" in again.stdout
    balance = run_ledger("balance", "--location", "510121-ZJ-PS")
    assert balance.returncode == 0
    assert "平水村" in balance.stdout and "年画" in balance.stdout
    verified = run_ledger("verify")
    assert verified.returncode == 0 and verified.stdout.strip().splitlines()[-1].startswith("OK:")


def test_errors_are_one_line_with_a_non_zero_status(run_ledger):
    uninitialised = run_ledger("balance")
    assert uninitialised.returncode != 0
    assert (
        uninitialised.stderr.strip().count("\n") == 0
        and "ledger db upgrade" in uninitialised.stderr
    )
    run_ledger("db", "upgrade")
    unknown = run_ledger("balance", "--item", "NOPE")
    assert unknown.returncode == 2 and unknown.stderr.strip() == (
        "error: unknown_item: 没有编码为 'NOPE' 的物资 (unknown item)"
    )
    bad_date = run_ledger("balance", "--as-of", "2026-13-01")
    assert bad_date.returncode == 2 and bad_date.stderr.count("\n") == 1


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_starts_a_real_server_that_answers_health(tmp_path):
    import json
    import time
    import urllib.request

    port = free_port()
    env = dict(os.environ, LEDGER_DATABASE_URL=f"sqlite:///{tmp_path / 'served.db'}")
    server = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/health", timeout=2
                ) as response:
                    body = json.loads(response.read())
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                time.sleep(0.2)
        assert body == {"status": "ok", "database": "sqlite", "detail": ""}
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/schema/openapi.json", timeout=5
        ) as response:
            assert "/health" in json.loads(response.read())["paths"]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_label_sheet_from_the_command_line_is_the_one_the_api_returns(run_ledger, tmp_path):
    from litestar.testing import TestClient

    from api.app import create_app
    from ledger.db.unit_of_work import Database

    run_ledger("db", "upgrade")
    run_ledger("demo", "load")
    out = tmp_path / "sheet.pdf"
    made = run_ledger(
        "labels", "--batch", "LS2014/2014-01", "--location", "510100", "--out", str(out)
    )
    assert made.returncode == 0, made.stderr
    assert " labels on " in made.stdout and out.read_bytes().startswith(b"%PDF")
    database = Database.from_url(f"sqlite:///{tmp_path / 'cli.db'}")
    with TestClient(app=create_app(database)) as client:
        response = client.get(
            "/api/v1/batches/LS2014/2014-01/labels",
            params={"location": "510100"},
            headers={"Authorization": "Bearer lgr_demo-clerk-510100"},
        )
    database.dispose()
    assert response.status_code == 200 and response.content == out.read_bytes()
    bad = run_ledger("labels", "--batch", "LS2014", "--out", str(out))
    assert bad.returncode != 0 and "ITEM/BATCH" in bad.stderr


def test_close_a_period_and_verify_since_it(run_ledger):
    run_ledger("db", "upgrade")
    run_ledger("demo", "load")
    import datetime as dt

    from ledger.settings import office_today

    yesterday = (office_today() - dt.timedelta(days=1)).isoformat()
    closed = run_ledger("close-period", yesterday)
    assert closed.returncode == 0 and f"closed through {yesterday}" in closed.stdout
    again = run_ledger("close-period", yesterday)
    assert again.returncode == 2 and "period_closed" in again.stderr
    since = run_ledger("verify", "--since-close")
    assert since.returncode == 0 and f"since the close of {yesterday}" in since.stdout
    assert since.stdout.strip().splitlines()[-1].startswith("OK:")


def test_a_report_from_the_command_line(run_ledger, tmp_path):
    import openpyxl

    run_ledger("db", "upgrade")
    run_ledger("demo", "load")
    out = tmp_path / "summary.xlsx"
    made = run_ledger("report", "period-summary", "--under", "510121", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("收发存汇总表:")
    assert "reading the ledger" in made.stderr and "writing xlsx" in made.stderr  # the bars
    sheet = openpyxl.load_workbook(out).active
    assert sheet["A1"].value == "收发存汇总表" and sheet["A3"].value == "库点编码"
    unknown = run_ledger(
        "report", "stock-card", "--item", "NOPE", "--batch", "1", "--out", str(out)
    )
    assert unknown.returncode == 2
    assert unknown.stderr == "error: unknown_item: 没有编码为 'NOPE' 的物资 (unknown item)\n"
