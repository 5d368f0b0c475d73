# ruff: noqa: F811  (the `place` fixture is imported from test_cli_init)
"""A 人口 or a setting typed with a character Python calls a digit but int() cannot read ('²')
is refused as any other bad number: the import names the row, the start names the setting
(it was a traceback)."""

from __future__ import annotations

import pytest

from ledger.db import tables as t
from ledger.rules import Code, LedgerError
from ledger.settings import Settings
from tests.test_backup import invoke
from tests.test_cli_init import Place, place  # noqa: F401  (the fixture)
from tests.test_import import count, started, write


def test_a_superscript_population_is_refused_naming_the_row(place: Place, tmp_path):
    url = started(place)
    before = count(place, t.locations)
    csv = "编码,名称,上级编码,级别,人口\n510121,金堂县,510100,区县,8²\n"
    done = invoke("import", "locations", str(write(tmp_path / "a.csv", csv)), url=url)
    assert done.status == 2, done.out + done.err  # refused, nothing imported
    assert "人口应为 0 到" in done.err + done.out and "第 2 行" in done.err + done.out
    assert count(place, t.locations) == before


def test_a_superscript_setting_stops_the_start_naming_it():
    with pytest.raises(LedgerError) as refused:
        Settings.from_environment({"LEDGER_NEAR_EXPIRY_DAYS": "9²"})
    assert refused.value.code == Code.invalid_setting
    assert refused.value.field == "LEDGER_NEAR_EXPIRY_DAYS"
