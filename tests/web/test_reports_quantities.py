"""收发存汇总表 on screen: every quantity (期初结存, each receipt and issue, their totals, 期末结存)
in the row's item's packs with the base units beside, as 库存余额 shows 结存; the print form and
the downloads keep base units (their own forms)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html import unescape
from urllib.parse import urlencode

from ledger.services import lookups, reports
from tests.conftest import TODAY
from tests.web.reports_support import signed_in, table

FILTERS = {"under": "510100", "date_from": "2026-03-01", "date_to": "2026-06-30"}
QUANTITY_TITLES = ("期初结存", "收入合计", "发出合计", "期末结存")


def in_packs(value: int, item) -> str:
    """A quantity as a clerk counts it: whole packs, largest first, the loose rest, and the
    base units beside ("2 捆 20 张（1,020 张）")."""
    base = f"{value:,} {item.base_unit}"
    parts, rest = [], abs(value)
    for pack in sorted(item.packs, key=lambda pack: -pack.base_units):
        if pack.base_units > 1 and rest >= pack.base_units:
            parts.append(f"{rest // pack.base_units:,} {pack.name}")
            rest %= pack.base_units
    if not parts:
        return base
    if rest:
        parts.append(f"{rest:,} {item.base_unit}")
    return ("-" if value < 0 else "") + " ".join(parts) + f"（{base}）"


def test_the_period_summary_shows_quantities_in_packs(shared_web):
    _, database = shared_web
    report = database.lookup(
        lambda s: reports.period_summary(s, "510100", dt.date(2026, 3, 1), TODAY, None, False, True)
    )
    keys = [column.key for column in report.columns]
    quantities = [index for index, column in enumerate(report.columns) if column.kind == "int"]
    assert set(QUANTITY_TITLES) <= {report.columns[i].title for i in quantities}
    items = {code: lookups.item(database, code) for code in {row[3] for row in report.rows}}
    with signed_in(database, "auditor@510100") as client:
        page = client.get(f"/reports/period-summary?{urlencode(FILTERS)}")
        assert page.status_code == 200
        shown = table(page.text, "report-table")["tbody"]
        assert len(shown) == len(report.rows)
        packed = 0
        for cells, row in zip(shown, report.rows, strict=True):
            item = items[row[keys.index("item_code")]]
            for index, (cell, value) in enumerate(zip(cells, row, strict=True)):
                if index in quantities:
                    assert cell == in_packs(value, item), (cell, value, row)
                    packed += "（" in cell
                else:
                    assert cell == ("" if value is None else str(value)), (cell, value)
        assert packed > 10  # the demo's stock is counted in 捆, 盒, 箱 …
        assert "捆（" in page.text

        # the print form and the downloads keep their own forms: base units
        links = {
            name: unescape(re.search(rf'id="{name}-link" href="([^"]+)"', page.text).group(1))
            for name in ("print", "csv")
        }
        printed = client.get(links["print"]).text
        assert "捆（" not in printed and f"{report.rows[0][quantities[0]]:,}" in printed
        rows = list(csv.reader(io.StringIO(client.get(links["csv"]).content.decode("utf-8-sig"))))
        for line, row in zip(rows[1:], report.rows, strict=False):
            assert [line[i] for i in quantities] == [str(row[i]) for i in quantities]
