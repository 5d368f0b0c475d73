"""Checkpoints from the command line: `ledger digest` and every period close print one; `ledger
verify --checkpoint` proves the ledger still holds it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from ledger import commands as c
from ledger.db.engine import make_engine
from ledger.db.guards import drop_guards
from ledger.db.movement_totals import rebuild as rebuild_totals
from ledger.db.session import Session
from ledger.db.unit_of_work import Database
from ledger.settings import office_today
from tests.bound import Ledger
from tests.builder import CITY_TEXT, ledger_from_text
from tests.clones import copy_sqlite
from tests.support import ledger_command


@pytest.fixture
def run_ledger(tmp_path):
    url = copy_sqlite(tmp_path / "cli.db")
    engine = make_engine(url)
    ledger = Ledger(Database(engine), clock=office_today)
    day = office_today() - dt.timedelta(days=3)
    ledger_from_text(ledger, CITY_TEXT + f"receipt 510100 NH2014 2014-01 10000 on {day}")
    ledger.issue(c.Issue("510100", "510121", (c.LineSpec("NH2014", 1000),), day))
    engine.dispose()
    run = ledger_command(url)
    run.url = url
    return run


def test_the_digest_is_a_checkpoint_that_verify_proves(run_ledger):
    digest = run_ledger("digest")
    assert digest.returncode == 0, digest.stderr
    checkpoint = digest.stdout.strip()
    sequence, _, short = checkpoint.partition(":")
    assert sequence == "2" and len(short) == 16
    full = run_ledger("digest", "--full").stdout.strip()
    assert full.startswith(checkpoint) and len(full.partition(":")[2]) == 64
    held = run_ledger("verify", "--checkpoint", checkpoint, "--checkpoint", full)
    assert held.returncode == 0, held.stdout
    assert f"checkpoints held: {checkpoint}, {full}" in held.stdout
    assert held.stdout.strip().splitlines()[-1].startswith("OK:")
    other = run_ledger("verify", "--checkpoint", f"2:{'0' * 16}", "--checkpoint", "9:" + short)
    assert other.returncode == 1
    assert "checkpoint_mismatch" in other.stdout and "checkpoint_missing" in other.stdout
    bad = run_ledger("verify", "--checkpoint", "2:abc")
    assert bad.returncode == 2 and bad.stderr.startswith("error: invalid_checkpoint: ")
    assert bad.stderr.count("\n") == 1


def test_a_period_close_prints_its_checkpoint_and_a_cut_tail_is_found(run_ledger):
    yesterday = (office_today() - dt.timedelta(days=1)).isoformat()
    closed = run_ledger("close-period", yesterday)
    assert closed.returncode == 0, closed.stderr
    line = next(line for line in closed.stdout.splitlines() if line.startswith("checkpoint "))
    checkpoint = line.split()[1]
    assert checkpoint.startswith("2:")
    assert run_ledger("verify", "--checkpoint", checkpoint).returncode == 0
    engine = make_engine(run_ledger.url)
    with engine.begin() as connection:  # the last voucher and the close removed, guards first
        drop_guards(connection)
        for statement in (
            "DELETE FROM close_item_movements",
            "DELETE FROM movement_totals",
            "DELETE FROM item_movement_totals",
            "DELETE FROM close_movements",
            "DELETE FROM closing_balances",
            "DELETE FROM period_closes",
            "DELETE FROM packs",
            "DELETE FROM pack_stock",
            "DELETE FROM postings WHERE transaction_id = 2",
            "DELETE FROM transactions WHERE id = 2",
            "DELETE FROM balances WHERE location_id NOT IN (SELECT id FROM locations WHERE "
            "code IN ('510100', 'supplier'))",
            "UPDATE balances SET on_hand = 10000 WHERE location_id = "
            "(SELECT id FROM locations WHERE code = '510100')",
            "UPDATE chain_head SET sequence = 1, hash = (SELECT hash FROM transactions "
            "WHERE id = 1)",
        ):
            connection.execute(text(statement))
        rebuild_totals(Session(connection))  # summed again without the voucher, as a careful
    engine.dispose()  # intruder would: else the movement totals name the cut
    cut = run_ledger("verify")
    assert cut.returncode == 0, cut.stdout  # nothing in the database shows it
    found = run_ledger("verify", "--checkpoint", checkpoint)
    assert found.returncode == 1 and "checkpoint_missing" in found.stdout
