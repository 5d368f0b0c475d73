"""Numbers typed into the 印制计划 and 库存定额 forms: a character Python calls a digit but
cannot read as a number ('²') is refused beside its field (it was a 500), and a negative whole
number is refused for its range, not as "not a whole number"; nothing is stored."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import func, select

from ledger.db import tables as t
from ledger.services import norms
from tests.web.requests_support import error_beside, form_html, signed_in
from tests.web.test_norm_pages import TOWNSHIP, post_norm
from tests.web.test_plans import hidden_fields, set_populations
from tests.web.test_print_plans import POPULATIONS, preview_path, saved_number
from tests.web.test_requests_flow import CLERK, balance


def test_a_print_plans_number_that_is_not_a_number_is_refused_beside_its_field(web_database):
    with signed_in(web_database, CLERK) as clerk:
        squared = clerk.get(preview_path(copies="²"))
        negative = clerk.get(preview_path(spare_percent="-1"))
    assert squared.status_code == 422, squared.text[-500:]
    assert "每份数量须为整数" in error_beside(squared.text, "copies")
    assert negative.status_code == 422, negative.text[-500:]
    assert "机动比例 须为 0 到 100 之间的整数" in error_beside(negative.text, "spare_percent")
    with web_database.read() as connection:
        assert connection.execute(select(func.count()).select_from(t.print_plans)).scalar() == 0


def test_a_norms_months_that_are_not_a_number_are_refused_beside_their_field(web_database):
    with signed_in(web_database, "admin@510100") as client:
        squared = post_norm(client, location_code=TOWNSHIP, min_months="²", max_months="3")
        negative = post_norm(client, location_code=TOWNSHIP, min_months="-1", max_months="3")
    assert squared.status_code == 422, squared.text[-500:]
    assert "月数须为整数" in error_beside(squared.text, "min_months")
    assert negative.status_code == 422, negative.text[-500:]
    assert "月数须在 0 到 36 之间" in error_beside(negative.text, "min_months")
    assert norms.norms_set(web_database) == []


def test_a_page_number_typed_as_a_superscript_is_the_first_page(web_database):
    with signed_in(web_database, "auditor@510100") as auditor:
        log = auditor.get("/audit/log?page=²")
        by_user = auditor.get("/audit/log?user_id=²")
        alerts = auditor.get("/reports/stock-alerts?under=510100&page=²")
    assert log.status_code == 200, log.text[-500:]
    assert by_user.status_code == 422 and "应为用户编号（正整数）" in by_user.text
    assert alerts.status_code == 200, alerts.text[-500:]


def test_a_refused_issue_by_a_print_plan_shows_why_beside_its_date(web_database):
    """下发 with a day after today is refused: the preview is shown again with the refusal
    beside 出库日期 (it was an empty chooser with no word of why), and nothing is issued."""
    set_populations(web_database, POPULATIONS)
    number = saved_number(web_database, "0")
    before = balance(web_database, "510121", "NH2014")
    with signed_in(web_database, CLERK) as clerk:
        page = clerk.get(
            f"/plans/print-plan?{urlencode({'print_plan': number, 'source_code': '510121'})}"
        )
        data = {**hidden_fields(form_html(page.text, "apply-form")), "occurred_on": "2099-01-01"}
        refused = clerk.post("/plans/print-plan/apply", data=data, follow_redirects=False)
    assert refused.status_code == 422, refused.text[-500:]
    assert error_beside(refused.text, "occurred_on"), refused.text[-3000:]
    assert 'id="apply-form"' in refused.text and 'value="2099-01-01"' in refused.text
    assert balance(web_database, "510121", "NH2014") == before
