"""报表 › 年度需求计划: the page shows the report service's rows for the filters sent (a GET
form whose address can be shared), next year by default; its print form, XLSX and CSV open
with the session; bad filters are refused beside their field in Chinese; a township's user
reads its own subtree only."""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from urllib.parse import urlencode

import openpyxl
import pytest

from ledger.services import report_demand
from tests.conftest import TODAY
from tests.web.reports_support import field_error, signed_in, table

PAGE = "/reports/demand-plan"


@pytest.fixture(scope="module")
def auditor(shared_web):
    _, database = shared_web
    with signed_in(database, "auditor@510100") as client:
        yield client, database


def _expected_cells(report, row) -> list[str]:
    """A row as the page should show it: whole numbers with separators, the rest as is."""
    cells = []
    for column, value in zip(report.columns, row, strict=True):
        if value is None:
            cells.append("")
        elif column.kind == "int":
            cells.append(f"{value:,}")
        else:
            cells.append(str(value))
    return cells


def test_the_reports_list_offers_the_demand_plan(auditor):
    client, _ = auditor
    listing = client.get("/reports")
    assert listing.status_code == 200 and 'href="/reports/demand-plan' in listing.text
    assert "年度需求计划" in listing.text


def test_the_page_shows_the_services_plan_for_the_filters(auditor):
    client, database = auditor
    filters = {"under": "510121", "year": "2027", "months": "6", "growth": "5", "level": ""}
    answer = client.get(f"{PAGE}?{urlencode(filters)}")
    assert answer.status_code == 200, answer.text
    report = database.lookup(
        lambda s: report_demand.demand_plan_asked_report(s, "510121", 2027, TODAY, 6, "5", None)
    )
    assert report.rows, "an empty plan proves nothing"
    shown = table(answer.text, "report-table")
    assert shown["thead"] == [[column.title for column in report.columns]]
    assert shown["tbody"] == [_expected_cells(report, row) for row in report.rows]
    assert shown["tfoot"] == [_expected_cells(report, row) for row in report.totals]
    assert report.subtitle in unescape(answer.text) and "增长率：+5%" in report.subtitle
    amc = [column.key for column in report.columns].index("amc")
    assert re.search(r'<th scope="col" class="n">月均消耗</th>', answer.text)
    assert all(re.fullmatch(r"-?[0-9]+\.[0-9]", row[amc]) for row in shown["tbody"])


def test_first_visit_plans_next_year_for_the_users_own_place(auditor):
    client, database = auditor
    answer = client.get(PAGE)
    assert answer.status_code == 200
    assert re.search(rf'<option value="{TODAY.year + 1}" selected', answer.text)
    assert f'<option value="{TODAY.year}"' in answer.text
    report = database.lookup(
        lambda s: report_demand.demand_plan_asked_report(s, "510100", TODAY.year + 1, TODAY)
    )
    assert unescape(answer.text).count(report.title) >= 1


def _links(html: str) -> dict[str, str]:
    return {
        name: unescape(re.search(rf'id="{name}-link" href="([^"]+)"', html).group(1))
        for name in ("print", "xlsx", "csv")
    }


def test_print_and_downloads_open_with_the_session(auditor):
    client, database = auditor
    filters = {"under": "510121", "year": "2026", "level": "village"}
    links = _links(client.get(f"{PAGE}?{urlencode(filters)}").text)
    for link in links.values():
        assert link.startswith("/api/v1/reports/demand-plan?")
        assert "under=510121" in link and "year=2026" in link and "level=village" in link
    report = database.lookup(
        lambda s: report_demand.demand_plan_asked_report(
            s, "510121", 2026, TODAY, None, None, "village"
        )
    )
    printed = client.get(links["print"])
    assert printed.status_code == 200 and report.title in printed.text
    amc = [column.key for column in report.columns].index("amc")
    assert f'<td class="n">{report.rows[0][amc]}</td>' in printed.text
    assert '<td class="s">申领</td>' in printed.text
    book = openpyxl.load_workbook(io.BytesIO(client.get(links["xlsx"]).content))
    sheet = book.active
    assert sheet["A1"].value == report.title
    for index, row in enumerate((*report.rows, *report.totals), start=4):
        cell = sheet.cell(row=index, column=amc + 1)
        assert cell.data_type == "n" and cell.number_format == "0.0"
        assert round(cell.value, 1) == float(row[amc]), (index, cell.value, row[amc])
    text = client.get(links["csv"])
    rows = list(csv.reader(io.StringIO(text.content.decode("utf-8-sig"))))
    assert rows[0] == [column.title for column in report.columns]
    assert len(rows) >= 1 + len(report.rows) + len(report.totals)


@pytest.mark.parametrize(
    ("filters", "field", "words"),
    [
        ({"year": "2025"}, "year", "只能编制今年（2026）或明年（2027）"),
        ({"year": "²"}, "year", "四位数的年份"),
        ({"year": "2027", "months": "4"}, "months", "3、6 或 12"),
        ({"year": "2027", "growth": "abc"}, "growth", "不是 abc"),
        ({"year": "2027", "level": "planet"}, "level", "village：planet"),
    ],
)
def test_bad_filters_are_refused_beside_their_field(auditor, filters, field, words):
    client, _ = auditor
    answer = client.get(f"{PAGE}?{urlencode({'under': '510121', **filters})}")
    assert answer.status_code in (400, 422), answer.text
    shown = unescape(field_error(answer.text, field))
    assert words in shown and "'" not in shown, answer.text
    assert "report-table" not in answer.text


def test_every_wrong_filter_is_named_at_once(auditor):
    client, _ = auditor
    filters = {"under": "510121", "year": "2030", "months": "4", "growth": "abc", "level": "x"}
    answer = client.get(f"{PAGE}?{urlencode(filters)}")
    assert answer.status_code in (400, 422)
    for field in ("year", "months", "growth", "level"):
        assert field_error(answer.text, field), field
    assert 'value="abc"' in answer.text and "report-table" not in answer.text


def test_a_townships_user_reads_its_own_subtree_only(shared_web):
    _, database = shared_web
    with signed_in(database, "requester@510121-zj") as client:
        assert client.get(f"{PAGE}?under=510121&year=2027").status_code == 403
        own = client.get(f"{PAGE}?under=510121-ZJ&year=2027")
        assert own.status_code == 200, own.text


def test_the_home_alerts_card_links_to_the_plan_of_the_users_place(shared_web):
    _, database = shared_web
    with signed_in(database, "requester@510121-zj") as client:
        home = client.get("/")
        found = re.search(r'id="demand-plan-report" href="([^"]+)"', home.text)
        assert found, "the alerts card should link to 年度需求计划"
        link = unescape(found.group(1))
        assert link == f"{PAGE}?under=510121-ZJ"
        assert client.get(link).status_code == 200
