"""Small helpers shared by the use-case tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest

from ledger.db import balance_queries
from ledger.rules import LedgerError


def stock(ledger, location, item) -> dict[str, tuple[int, int]]:
    """(on hand, reserved) per batch of an item at a location."""
    with ledger.database.read() as connection:
        return {
            line.batch_number: (line.on_hand, line.reserved)
            for line in balance_queries.balances(connection, location, item)
        }


def refused(code, call, *args) -> LedgerError:
    """Call and expect the ledger to refuse with `code`."""
    with pytest.raises(LedgerError) as error:
        call(*args)
    assert error.value.code is code, error.value.message
    return error.value


def ledger_command(url: str) -> Callable[..., subprocess.CompletedProcess]:
    """`ledger …` run as its own process against the database at `url` (text output)."""

    def run(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "ledger.cli", *arguments],
            capture_output=True,
            text=True,
            env=dict(os.environ, LEDGER_DATABASE_URL=url),
            timeout=120,
        )

    return run
