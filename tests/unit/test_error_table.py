"""docs/errors.md names every rejection code with the HTTP status the API gives it."""

from __future__ import annotations

import re
from pathlib import Path

from api.errors import STATUS_BY_CODE
from ledger.rules import Code

TABLE = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
ROW = re.compile(r"^\| `([a-z_]+)` \| ([^|]+) \| (.+) \|$", re.M)


def rows() -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for code, status, text in ROW.findall(TABLE.read_text(encoding="utf-8")):
        assert code not in found or code == "internal_error", f"{code} is listed twice"
        found.setdefault(code, (status.strip(), text.strip()))
    return found


def test_every_rejection_code_is_in_the_table_with_a_chinese_message():
    table = rows()
    missing = [code.value for code in Code if code.value not in table]
    assert missing == []
    for code in Code:
        assert re.search(r"[\u4e00-\u9fff]", table[code.value][1]), code


def test_the_table_gives_each_code_the_status_the_api_answers_with():
    table = rows()
    for code in Code:
        status = table[code.value][0]
        if status.startswith("—"):  # command line or start-up only
            continue
        assert int(status) == STATUS_BY_CODE.get(code, 422), (code, status)


def test_the_table_names_no_code_that_does_not_exist():
    api_only = {
        "invalid_request",
        "unauthenticated",
        "forbidden",
        "not_found",
        "method_not_allowed",
        "http_error",
        "internal_error",
    }
    assert set(rows()) - {code.value for code in Code} <= api_only
