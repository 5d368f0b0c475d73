"""Reports as files, on SQLite and PostgreSQL: totals are one row per unit (张 and 只 are never
added together), and user text never becomes a live formula in CSV or XLSX."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import openpyxl

from ledger import commands as c
from ledger.services import report_audit, report_stock, reports
from ledger.services.report_formats import render
from tests.builder import CITY_TEXT, ledger_from_text
from tests.conftest import TODAY

HYPERLINK = '=HYPERLINK("http://example.invalid/x","点此查看")'
MEMOS = (HYPERLINK, "+1 补发", "-5 张破损", "@SUM(A1:A9)")
MONTH = (dt.date(2026, 6, 1), TODAY)


def mixed_ledger(ledger):
    """成都市 holds 年画 and 挂图 (张) and 避孕套 (只, expiring in August); 金堂县 has a shipment
    of each unit still in transit, and the movements carry memos that look like formulas."""
    ledger_from_text(
        ledger,
        CITY_TEXT
        + """
receipt 510100 NH2014 2014-01 10000 on 2026-05-01
receipt 510100 GT2014 2014-G 400 on 2026-05-01
receipt 510100 BYT B1 1440 expires 2026-08-31 on 2026-05-02
""",
    )
    first = ledger.issue(
        c.Issue(
            "510100",
            "510121",
            (c.LineSpec("NH2014", 3000, "2014-01"), c.LineSpec("BYT", 720, "B1")),
            dt.date(2026, 6, 2),
        )
    )
    ledger.confirm(c.Confirm(first.number, occurred_on=dt.date(2026, 6, 3), memo=MEMOS[0]))
    ledger.distribute(
        c.Distribute(
            "510121", (c.LineSpec("NH2014", 200, "2014-01"),), dt.date(2026, 6, 4), MEMOS[1]
        )
    )
    ledger.issue(
        c.Issue(
            "510121",
            "510121-ZJ",
            (c.LineSpec("NH2014", 500, "2014-01"), c.LineSpec("BYT", 72, "B1")),
            dt.date(2026, 6, 5),
            memo=MEMOS[2],
        )
    )
    ledger.write_off(
        c.WriteOff(
            "510121",
            (c.LineSpec("NH2014", 100, "2014-01"),),
            "damaged",
            dt.date(2026, 6, 6),
            memo=MEMOS[3],
        )
    )
    ledger.write_off(
        c.WriteOff("510121", (c.LineSpec("BYT", 6, "B1"),), "damaged", dt.date(2026, 6, 7))
    )
    return ledger


def read(ledger, work):
    return ledger.database.lookup(work)


def expected_totals(report, unit_key, sum_keys):
    """Per unit, the sums computed from the report's own records."""
    sums: dict[str, list[int]] = {}
    for record in report.records():
        figures = sums.setdefault(record[unit_key], [0] * len(sum_keys))
        for index, key in enumerate(sum_keys):
            figures[index] += record[key]
    return sums


def total_rows(report, unit_key, sum_keys):
    keys = [column.key for column in report.columns]
    out = {}
    for total in report.totals:
        record = dict(zip(keys, total, strict=True))
        assert total[0] == "合计"
        assert record[unit_key] not in out  # one row per unit
        out[record[unit_key]] = [record[key] for key in sum_keys]
    return out


def test_every_quantity_total_is_one_row_per_unit(ledger):
    mixed_ledger(ledger)
    stock = read(ledger, lambda s: report_stock.stock_on_hand(s, "510100"))
    totals = total_rows(stock, "unit", ["on_hand"])
    assert totals == expected_totals(stock, "unit", ["on_hand"])
    # 成都市 7,000 + 400 张, 金堂县 3,000 − 200 − 500 − 100 张; 720 + 642 只 (72 只 travel)
    assert totals == {"张": [9600], "只": [1362]}

    transit = read(ledger, lambda s: report_stock.in_transit(s, "510100", TODAY))
    assert total_rows(transit, "unit", ["quantity"]) == {"张": [500], "只": [72]}

    expiring = read(ledger, lambda s: report_stock.near_expiry(s, "510100", 90, TODAY))
    assert total_rows(expiring, "unit", ["on_hand"]) == {"只": [1362]}

    rates = read(ledger, lambda s: reports.write_off_rate(s, "510100", *MONTH))
    by_unit = total_rows(rates, "unit", ["handled", "written_off", "rate", "status"])
    handled = expected_totals(rates, "unit", ["handled", "written_off"])
    assert set(by_unit) == {"张", "只"}
    for unit, (total_handled, written_off, rate, status) in by_unit.items():
        assert [total_handled, written_off] == handled[unit]
        assert rate == written_off / total_handled
        assert status == ("超标" if rate >= reports.WRITE_OFF_RATE_LIMIT else "正常")
    assert by_unit["张"][1] == 100 and by_unit["只"][1] == 6

    # the files carry the same rows: one 合计 line per unit, each with its unit
    book = openpyxl.load_workbook(io.BytesIO(render(stock, "xlsx")))
    lines = [[cell.value for cell in row] for row in book.active.iter_rows()]
    in_order = [(total[6], total[7]) for total in stock.totals]
    assert sorted(in_order) == sorted([("张", 9600), ("只", 1362)])
    assert [(line[6], line[7]) for line in lines if line[0] == "合计"] == in_order
    rows = list(csv.reader(io.StringIO(render(stock, "csv").decode("utf-8-sig"))))
    assert [(row[6], row[7]) for row in rows if row[0] == "合计"] == [
        (unit, str(figure)) for unit, figure in in_order
    ]
    page = render(stock, "html").decode("utf-8")
    foot = page.split("<tfoot>")[1].split("</tfoot>")[0]
    assert foot.count("<tr>") == 2 and "9,600" in foot and "1,362" in foot


def test_a_report_with_nothing_has_no_total_rows(ledger):
    ledger_from_text(ledger, CITY_TEXT)
    stock = read(ledger, lambda s: report_stock.stock_on_hand(s, "510100"))
    assert stock.rows == () and stock.totals == ()
    assert "<tfoot>" not in render(stock, "html").decode("utf-8")


def sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode("utf-8")


def test_memos_that_look_like_formulas_are_text_in_xlsx_and_csv(ledger):
    mixed_ledger(ledger)
    card = read(ledger, lambda s: report_stock.stock_card(s, "510121", "NH2014", "2014-01", *MONTH))
    memos = [record["memo"] for record in card.records()]
    assert any(memo.startswith("=HYPERLINK(") for memo in memos)
    assert {memo[0] for memo in memos} >= {"=", "+", "-", "@"}

    data = render(card, "xlsx")
    assert "<f>" not in sheet_xml(data)  # no formula anywhere in the sheet
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    cells = [row[2] for row in sheet.iter_rows(min_row=4) if row[2].value in memos]
    assert sorted(cell.value for cell in cells) == sorted(memos)
    for cell in cells:
        assert cell.data_type == "s"
        assert cell.quotePrefix == (cell.value[0] in "=+-@")

    rows = list(csv.reader(io.StringIO(render(card, "csv").decode("utf-8-sig"))))
    written = [row[2] for row in rows[1:]]
    for memo in memos:
        assert ("'" + memo if memo[0] in "=+-@" else memo) in written
    assert not any(value.startswith(("=", "+", "-", "@")) for row in rows for value in row)


def test_negative_numbers_stay_numbers_in_a_voucher(ledger):
    mixed_ledger(ledger)
    number = read(
        ledger, lambda s: report_stock.stock_card(s, "510121", "NH2014", "2014-01", *MONTH)
    ).rows[-1][1]
    voucher = read(ledger, lambda s: report_audit.voucher(s, number))  # the write-off: −100 张
    assert [row[3] for row in voucher.rows] == [-100, 100]
    assert voucher.notes[0] == f"摘要：{MEMOS[3]}"
    sheet = openpyxl.load_workbook(io.BytesIO(render(voucher, "xlsx"))).active
    quantities = [row[3] for row in sheet.iter_rows(min_row=4, max_row=5)]
    assert [(cell.value, cell.data_type) for cell in quantities] == [(-100, "n"), (100, "n")]
    rows = list(csv.reader(io.StringIO(render(voucher, "csv").decode("utf-8-sig"))))
    assert [row[3] for row in rows[1:3]] == ["-100", "100"]
