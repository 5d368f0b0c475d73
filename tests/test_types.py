"""The project type-checks: mypy, configured in pyproject.toml (`[tool.mypy]`: ledger, api and
scripts), reports no error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_reports_no_error():
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--hide-error-context"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.stderr == ""
    assert (done.returncode, done.stdout) == (0, "")
