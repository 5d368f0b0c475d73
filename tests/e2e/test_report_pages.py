"""The print pages of the reports, rendered by headless Chromium: every column heading and row
is laid out, nothing runs off the printed page, and printing gives a PDF that says what the
report is."""

from __future__ import annotations

import base64
import datetime as dt
import io
import shutil

import pypdfium2
import pytest
from selenium.webdriver.common.by import By

from ledger.db import journal_queries
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.services import report_audit, report_demand, report_stock, reports
from ledger.services.report_formats import WIDEST_PORTRAIT, render
from tests.bound import Ledger
from tests.conftest import TODAY

START = TODAY - dt.timedelta(days=60)
REPORTS = {
    "period-summary": lambda s, _: reports.period_summary(s, "510100", START, TODAY),
    "stock-card": lambda s, _: report_stock.stock_card(
        s, "510121", "NH2014", "2014-01", TODAY - dt.timedelta(days=100), TODAY
    ),
    "stock-on-hand": lambda s, _: report_stock.stock_on_hand(s, "510100", None, None),
    "near-expiry": lambda s, _: report_stock.near_expiry(s, "510100", 365, TODAY),
    "coverage": lambda s, _: report_stock.coverage(s, "510121", "NH2014", START, TODAY),
    "in-transit": lambda s, _: report_stock.in_transit(s, "510100", TODAY),
    "write-off-rate": lambda s, _: reports.write_off_rate(s, "510100", START, TODAY),
    "audit-sample": lambda s, _: report_audit.audit_sample(s, "510100", 12, 7, TODAY),
    "voucher": lambda s, number: report_audit.voucher(s, number),
    "demand-plan": lambda s, _: report_demand.demand_plan_asked_report(s, "510100", 2027, TODAY),
}


@pytest.fixture(scope="module")
def demo(workspace_template, tmp_path_factory):
    """A copy of the demo city the process loaded once (conftest.py's workspace_template)."""
    copy = tmp_path_factory.mktemp("pages") / "demo.db"
    shutil.copyfile(workspace_template, copy)
    engine = make_engine(f"sqlite:///{copy}")
    ledger = Ledger(Database(engine), clock=lambda: TODAY)
    with ledger.database.read() as connection:
        first = next(journal_queries.stored_transactions(connection)).number
    yield ledger, first
    engine.dispose()


@pytest.mark.parametrize("name", list(REPORTS))
def test_a_report_page_renders_and_prints(name, demo, browser, tmp_path):
    ledger, first = demo
    report = ledger.database.lookup(lambda store: REPORTS[name](store, first))
    assert report.rows  # the demo has something to show in every report
    page = tmp_path / f"{name}.html"
    page.write_bytes(render(report, "html"))
    browser.get(page.as_uri())

    assert browser.title == report.title
    assert browser.find_element(By.TAG_NAME, "h1").text == report.title
    headings = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "thead th")]
    assert headings == [column.title for column in report.columns]
    rows = browser.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == len(report.rows)
    first_row = [td.text for td in rows[0].find_elements(By.TAG_NAME, "td")]
    assert len(first_row) == len(report.columns) and any(first_row)
    table = browser.find_element(By.TAG_NAME, "table")
    assert table.size["width"] > 0 and table.size["height"] > 0

    # Printed as a clerk prints it: on the page's own @page size (A4, across for wide tables).
    printed = browser.execute_cdp_cmd(
        "Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True}
    )
    pdf = pypdfium2.PdfDocument(io.BytesIO(base64.b64decode(printed["data"])))
    assert len(pdf) >= 1
    first_page = pdf[0]
    width, height = first_page.get_size()
    text = "".join(first_page.get_textpage().get_text_range().split())
    assert text.startswith(report.title)
    # Nothing runs off the right edge: every heading is on the printed page.
    missing = [c.title for c in report.columns if "".join(c.title.split()) not in text]
    assert not missing, (missing, width, height)
    wide = len(report.columns) > WIDEST_PORTRAIT
    assert (width > height) == wide  # A4 across for wide tables, upright otherwise
    assert round(max(width, height) / 72 * 25.4) == 297  # A4: 297 mm (PDF points are 1/72 in)
