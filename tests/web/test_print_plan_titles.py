"""印制计划 in the workspace: a title with a line break or a bidirectional override (U+202E,
which makes a title print otherwise than it reads) is refused beside 标题, and nothing is
saved; a plain title with Chinese punctuation is kept."""

from __future__ import annotations

import pytest

from tests.web.requests_support import error_beside, signed_in
from tests.web.test_plans import set_populations
from tests.web.test_print_plans import POPULATIONS, plans_saved, preview_path
from tests.web.test_requests_flow import CLERK


@pytest.mark.parametrize(
    ("title", "code"), [("年画\u202e划计", "202E"), ("第一批\n第二批", "000A")]
)
def test_a_title_with_a_control_character_is_refused_beside_it(web_database, title, code):
    set_populations(web_database, POPULATIONS)
    with signed_in(web_database, CLERK) as clerk:
        page = clerk.get(preview_path(title=title))
    assert page.status_code in (400, 422), page.text
    shown = error_beside(page.text, "title")
    assert "标题 不能含有" in shown and f"U+{code}" in shown
    assert 'id="save-form"' not in page.text
    assert plans_saved(web_database) == 0


def test_a_plain_title_is_kept(web_database):
    set_populations(web_database, POPULATIONS)
    title = "2015年慰问独生子女家庭户年画（第1/2批）：金堂县"
    with signed_in(web_database, CLERK) as clerk:
        page = clerk.get(preview_path(title=title))
    assert page.status_code == 200 and 'id="save-form"' in page.text
    assert not error_beside(page.text, "title")
