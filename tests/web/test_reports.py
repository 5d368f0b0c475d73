"""报表 pages: each report's table equals the report service's rows for the same filters
(fetched here independently, as the API's route does), the print and download links answer a
signed-in browser with the right types, filters are checked with Chinese errors beside the
field, and a township's user reads its own subtree only (403 outside it)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html import unescape
from urllib.parse import urlencode

import pytest

from api.web import reports as report_pages
from api.web.names import LEVEL_NAMES
from ledger.reconcile import DEFAULT_THRESHOLD
from ledger.services import lookups, report_audit, report_stock, reports, stocktakes
from ledger.services.report_formats import Report
from ledger.services.stocktake_models import OpenStocktake, ZeroUncounted
from tests.conftest import TODAY
from tests.web.reports_support import field_error, signed_in, table

START = dt.date(2026, 3, 1)

# (report, filters as the form sends them, the service call the API's route makes)
CASES = [
    (
        "period-summary",
        {"under": "510100", "date_from": "2026-03-01", "date_to": "2026-06-30"},
        lambda s: reports.period_summary(s, "510100", START, TODAY, None, False, True),
    ),
    (
        "period-summary",
        {
            "under": "510121",
            "date_from": "2026-03-01",
            "date_to": "2026-06-30",
            "item": "NH2014",
            "by_batch": "true",
            "rollup": "false",
        },
        lambda s: reports.period_summary(s, "510121", START, TODAY, "NH2014", True, False),
    ),
    (
        "stock-on-hand",
        {"under": "510121", "as_of": "2026-05-31"},
        lambda s: report_stock.stock_on_hand(s, "510121", dt.date(2026, 5, 31), None),
    ),
    (
        "stock-card",
        {
            "location": "510100",
            "item": "NH2014",
            "batch": "2014-01",
            "date_from": "2026-03-01",
            "date_to": "2026-06-30",
        },
        lambda s: report_stock.stock_card(s, "510100", "NH2014", "2014-01", START, TODAY),
    ),
    (
        "near-expiry",
        {"under": "510100", "days": "365"},
        lambda s: report_stock.near_expiry(s, "510100", 365, TODAY),
    ),
    ("in-transit", {"under": "510100"}, lambda s: report_stock.in_transit(s, "510100", TODAY)),
    (
        "write-off-rate",
        {"under": "510100", "date_from": "2026-03-01", "date_to": "2026-06-30"},
        lambda s: reports.write_off_rate(s, "510100", START, TODAY, reports.WRITE_OFF_RATE_LIMIT),
    ),
    (
        "coverage",
        {"under": "510100", "item": "NH2014", "date_from": "2026-03-01", "date_to": "2026-06-30"},
        lambda s: report_stock.coverage(s, "510100", "NH2014", START, TODAY),
    ),
    (
        "audit-sample",
        {"under": "510100", "size": "40", "seed": "7"},
        lambda s: report_audit.audit_sample(s, "510100", 40, 7, TODAY),
    ),
]


# The columns shown in the row's item's packs with the base units beside: stock on hand, and
# every figure of the 收发存汇总表 (opening, each receipt and issue, their totals, closing).
QUANTITIES = {"on_hand"}
SUMMARY_QUANTITIES = {"opening", "total_in", "total_out", "closing"} | {
    key for key, _, _ in (*reports.SUMMARY_IN, *reports.SUMMARY_OUT)
}


def _expected(database, report: Report, row: tuple) -> list[str]:
    """A row as a person should read it: the print form's figures, a level in Chinese, stock
    on hand (a period summary's figures) in packs with the base units beside."""
    keys = [column.key for column in report.columns]
    quantities = QUANTITIES | (SUMMARY_QUANTITIES if report.name == "period-summary" else set())
    cells = []
    for column, value in zip(report.columns, row, strict=True):
        if value is None:
            text = ""
        elif column.kind == "rate":
            text = f"{value * 100:.2f}%"
        elif column.kind == "int":
            text = f"{value:,}"
        elif isinstance(value, dt.date):
            text = value.isoformat()
        else:
            text = str(value)
        if column.key == "level":
            text = LEVEL_NAMES[value]
        if column.key in quantities and "item_code" in keys and row is not None:
            item = lookups.item(database, row[keys.index("item_code")])
            base = f"{value:,} {item.base_unit}"
            if any(abs(value) >= pack.base_units > 1 for pack in item.packs):
                text = f"（{base}）"  # the packs come first; checked as the cell's end
            else:
                text = base
        cells.append(text)
    return cells


def _same(cells: list[str], expected: list[str]) -> bool:
    return len(cells) == len(expected) and all(
        cell == want or (want.startswith("（") and cell.endswith(want))
        for cell, want in zip(cells, expected, strict=True)
    )


@pytest.fixture(scope="module")
def auditor(shared_web):
    _, database = shared_web
    with signed_in(database, "auditor@510100") as client:
        yield client, database


@pytest.mark.parametrize(("name", "filters", "build"), CASES, ids=[c[0] for c in CASES])
def test_a_report_page_shows_the_report_services_rows(auditor, name, filters, build):
    client, database = auditor
    answer = client.get(f"/reports/{name}?{urlencode(filters)}")
    assert answer.status_code == 200, answer.text
    report = database.lookup(build)
    assert report.rows, "a case whose report is empty proves nothing"
    shown = table(answer.text, "report-table")
    assert shown["thead"] == [[column.title for column in report.columns]]
    assert len(shown["tbody"]) == len(report.rows)
    for cells, row in zip(shown["tbody"], report.rows, strict=True):
        assert _same(cells, _expected(database, report, row)), (cells, row)
    assert len(shown["tfoot"]) == len(report.totals)
    for cells, total in zip(shown["tfoot"], report.totals, strict=True):
        assert cells[0] == ("" if total[0] is None else str(total[0]))
        figures = [
            f"{v:,}"
            for v, c in zip(total, report.columns, strict=False)
            if c.kind == "int" and isinstance(v, int)
        ]
        assert [c for c in cells if c in figures] == figures
    assert report.subtitle in unescape(answer.text)


def _links(html: str) -> dict[str, str]:
    return {
        name: unescape(re.search(rf'id="{name}-link" href="([^"]+)"', html).group(1))
        for name in ("print", "xlsx", "csv")
    }


@pytest.mark.parametrize(
    ("name", "filters", "build"),
    CASES[:1] + CASES[4:5] + CASES[6:7],
    ids=["period-summary", "near-expiry", "write-off-rate"],
)
def test_print_and_downloads_open_in_the_browser_with_the_session(auditor, name, filters, build):
    client, database = auditor
    links = _links(client.get(f"/reports/{name}?{urlencode(filters)}").text)
    assert all(link.startswith(f"/api/v1/reports/{name}?") for link in links.values())
    report = database.lookup(build)
    printed = client.get(links["print"])
    assert printed.status_code == 200 and printed.headers["content-type"].startswith("text/html")
    assert report.title in printed.text and "<table>" in printed.text
    sheet = client.get(links["xlsx"])
    assert sheet.status_code == 200
    assert sheet.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert sheet.content[:2] == b"PK" and "attachment" in sheet.headers["content-disposition"]
    text = client.get(links["csv"])
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(text.content.decode("utf-8-sig"))))
    assert rows[0] == [column.title for column in report.columns]
    assert len(rows) >= 1 + len(report.rows) + len(report.totals)


def test_the_links_carry_the_apis_defaults(auditor):
    client, _ = auditor
    links = _links(client.get("/reports/write-off-rate?under=510121").text)
    assert "limit=0.005" in links["csv"] and "under=510121" in links["csv"]
    assert (
        f"date_from={TODAY.replace(day=1)}" in links["csv"] and f"date_to={TODAY}" in links["csv"]
    )


def test_the_index_names_every_report(auditor):
    client, _ = auditor
    page = client.get("/reports")
    assert page.status_code == 200
    for name, title in [
        ("period-summary", "收发存汇总表"),
        ("stock-on-hand", "库存余额表"),
        ("stock-card", "库存明细账"),
        ("near-expiry", "近效期"),
        ("in-transit", "在途物资表"),
        ("write-off-rate", "报损率统计表"),
        ("coverage", "进村入户率"),
        ("audit-sample", "抽查盘点表"),
        ("stocktake", "盘点报告"),
    ]:
        assert f'href="/reports/{name}"' in page.text and title in page.text


def test_a_first_visit_runs_with_the_pages_defaults_or_waits_for_a_choice(auditor):
    client, database = auditor
    page = client.get("/reports/stock-on-hand")
    assert page.status_code == 200
    report = database.lookup(lambda s: report_stock.stock_on_hand(s, "510100"))
    assert len(table(page.text, "report-table")["tbody"]) == len(report.rows)
    waiting = client.get("/reports/coverage")
    assert waiting.status_code == 200 and 'id="report-waiting"' in waiting.text
    assert not field_error(waiting.text, "item")


@pytest.mark.parametrize(
    ("name", "query", "field", "message"),
    [
        (
            "period-summary",
            "under=510100&date_from=2026-13-01&date_to=2026-06-30",
            "date_from",
            "日期应为 年-月-日",
        ),
        (
            "period-summary",
            "under=510100&date_from=2026-07-01&date_to=2026-06-30",
            "date_from",
            "起始日期晚于截止日期",
        ),
        ("stock-on-hand", "under=NOWHERE", "under", "没有编码为 'NOWHERE' 的库点"),
        ("near-expiry", "under=510100&days=9999", "days", "应为 0 到 3,650 之间的整数"),
        (
            "write-off-rate",
            "under=510100&date_from=2026-03-01&date_to=2026-06-30&limit=2",
            "limit",
            "应为 0 到 1 之间的数",
        ),
        (
            "coverage",
            "under=510100&item=&date_from=2026-03-01&date_to=2026-06-30",
            "item",
            "请选择物资",
        ),
        (
            "coverage",
            "under=510100&item=NOPE&date_from=2026-03-01&date_to=2026-06-30",
            "item",
            "NOPE",
        ),
        (
            "stock-card",
            "location=510100&item=NH2014&batch=1999&date_from=2026-03-01&date_to=2026-06-30",
            "batch",
            "1999",
        ),
        (
            "period-summary",
            "under=510100&date_from=2026-03-01&date_to=2026-06-30&by_batch=maybe",
            "by_batch",
            "应为“是”或“否”",
        ),
        ("stocktake", "number=PD-NONE", "number", "没有盘点单"),
    ],
)
def test_a_wrong_filter_is_named_in_chinese_beside_it(auditor, name, query, field, message):
    client, _ = auditor
    page = client.get(f"/reports/{name}?{query}")
    assert page.status_code in (400, 404, 422)
    assert message in unescape(field_error(page.text, field)), page.text[-3000:]
    assert 'id="report-table"' not in page.text
    assert 'id="report-filters"' in page.text  # the form stays, with what was typed


def test_a_large_report_is_shown_a_page_at_a_time_with_the_downloads_for_all(auditor, monkeypatch):
    client, database = auditor
    monkeypatch.setattr(report_pages, "PAGE_ROWS", 50)
    report = database.lookup(lambda s: report_stock.stock_on_hand(s, "510100"))
    assert len(report.rows) > 100
    first = client.get("/reports/stock-on-hand?under=510100")
    assert len(table(first.text, "report-table")["tbody"]) == 50
    assert f"共 {len(report.rows):,} 行" in first.text and "下载" in first.text
    last_page = -(-len(report.rows) // 50)
    last = client.get(f"/reports/stock-on-hand?under=510100&page={last_page}")
    rows = table(last.text, "report-table")["tbody"]
    assert len(rows) == len(report.rows) - 50 * (last_page - 1)
    assert rows[-1][:5] == [str(v) for v in report.rows[-1][:5]]
    assert 'rel="prev"' in last.text and 'rel="next"' not in last.text
    assert len(table(last.text, "report-table")["tfoot"]) == len(report.totals)


def test_a_township_user_picks_only_inside_its_subtree(shared_web):
    _, database = shared_web
    with signed_in(database, "requester@510121-zj") as client:
        page = client.get("/reports/stock-on-hand")
        assert page.status_code == 200
        offered = re.findall(
            r'<option value="([^"]*)"', page.text.split('id="f-under"')[1].split("</select>")[0]
        )
        assert offered[0] == "510121-ZJ"
        assert all(code.startswith("510121-ZJ") for code in offered)
        for query in ("under=510121", "under=510100&days=30"):
            refused = client.get(f"/reports/near-expiry?{query}")
            assert refused.status_code == 403
            assert "不在您的管辖范围内" in refused.text and 'id="report-table"' not in refused.text
        assert (
            client.get(
                "/reports/stock-card?location=510100&item=NH2014&batch=2014-01"
                "&date_from=2026-03-01&date_to=2026-06-30"
            ).status_code
            == 403
        )
        assert client.get("/api/v1/reports/in-transit?under=510121&format=csv").status_code == 403
        own = client.get("/reports/stock-on-hand?under=510121-ZJ")
        assert own.status_code == 200 and 'id="report-table"' in own.text


def test_the_stock_cards_batches_follow_the_item(auditor):
    client, database = auditor
    fragment = client.get("/reports/stock-card/batches?item=BYT", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    numbers = [batch.number for batch in lookups.batches(database, "BYT", 50, 0)]
    assert numbers and all(f'value="{number}"' in fragment.text for number in numbers)
    page = client.get("/reports/stock-card?item=BYT")
    assert 'hx-get="/reports/stock-card/batches"' in page.text
    assert all(f'value="{number}"' in page.text for number in numbers)


def test_the_stocktake_report_is_read_within_reach(web_database):
    counted = stocktakes.open_stocktake(
        web_database, OpenStocktake(location_code="510121"), None, TODAY
    )
    stocktakes.zero_uncounted(web_database, counted.number, ZeroUncounted("510121"), None, TODAY)
    stocktakes.close(web_database, counted.number, None, TODAY)
    report = web_database.lookup(
        lambda s: report_audit.stocktake_report(s, counted.number, DEFAULT_THRESHOLD)
    )
    with signed_in(web_database, "clerk@510121") as client:
        offered = client.get("/reports/stocktake")
        assert re.search(
            rf'<option value="{counted.number}">{counted.number}　金堂县', offered.text
        )
        page = client.get(f"/reports/stocktake?number={counted.number}")
        assert page.status_code == 200, page.text
        rows = table(page.text, "report-table")["tbody"]
        assert len(rows) == len(report.rows) > 0
        assert rows[0] == _expected(web_database, report, report.rows[0])
        links = _links(page.text)
        assert links["print"].startswith(f"/api/v1/stocktakes/{counted.number}/report?")
        assert client.get(links["print"]).status_code == 200
    with signed_in(web_database, "requester@510121-zj") as client:
        assert f'value="{counted.number}"' not in client.get("/reports/stocktake").text
        assert client.get(f"/reports/stocktake?number={counted.number}").status_code == 403


def test_reports_are_in_every_roles_menu(shared_web):
    _, database = shared_web
    with signed_in(database, "requester@510121-zj") as client:
        assert 'href="/reports"' in client.get("/reports").text
