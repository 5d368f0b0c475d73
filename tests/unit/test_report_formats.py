"""Writing a report tells a progress callback how many rows are written, in steps, and in all
exactly the report's rows, in every format."""

from __future__ import annotations

import pytest

from ledger.services.report_formats import Column, Report, render


def _report(rows: int) -> Report:
    return Report(
        "stock-on-hand",
        "库存余额表",
        "成都市及下级",
        (Column("location_name", "库点"), Column("quantity", "数量", "int")),
        tuple((f"库点{index}", index) for index in range(rows)),
    )


@pytest.mark.parametrize("format_", ["csv", "xlsx", "html", "json"])
@pytest.mark.parametrize("rows", [0, 7, 2500])
def test_progress_adds_up_to_the_rows_written(format_, rows):
    told: list[int] = []
    data = render(_report(rows), format_, progress=told.append)
    assert sum(told) == rows and all(step > 0 for step in told)
    if format_ in ("csv", "xlsx", "html") and rows > 1000:
        assert told[0] == 1000  # the bar moves while the rows are written, not only at the end
    if format_ != "xlsx":  # (a workbook records when it was saved)
        assert data == render(_report(rows), format_)  # the same bytes with or without a bar
