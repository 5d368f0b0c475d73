"""Numbers typed into the 印制计划 and 库存定额 forms: a character Python calls a digit but
cannot read as a number ('²') is refused beside its field (it was a 500), and a negative whole
number is refused for its range, not as "not a whole number"; nothing is stored."""

from __future__ import annotations

from sqlalchemy import func, select

from ledger.db import tables as t
from ledger.services import norms
from tests.web.requests_support import error_beside, signed_in
from tests.web.test_norm_pages import TOWNSHIP, post_norm
from tests.web.test_print_plans import preview_path
from tests.web.test_requests_flow import CLERK


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
