"""How the workspace says what went wrong: in Chinese, without the API's English glosses or
field codes, as a page (never JSON), for the framework's own refusals too."""

from __future__ import annotations

import pytest

from api.web.render import chinese
from tests.web.conftest import csrf_of, sign_in


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("数量必须大于零 (quantity must be positive): -3", "数量必须大于零: -3"),
        (
            "memo 过长：600 个字符，最多 500 个 (text too long)",
            "摘要 过长：600 个字符，最多 500 个",
        ),
        ("reason 不能为空 (required)", "原因 不能为空"),
        ("lines[0].quantity 必须是整数", "数量 必须是整数"),
        ("用户 3（x）已吊销，不能再修改 (the user is revoked)", "用户 3（x）已吊销，不能再修改"),
        ("widget 不能为空", "widget 不能为空"),  # a field with no Chinese name stays as it is
    ],
)
def test_messages_lose_their_english_glosses_and_field_codes(message, shown):
    assert chinese(message) == shown


def test_a_malformed_parameter_is_a_chinese_page_not_the_frameworks_english(web):
    sign_in(web, "clerk@510121")
    page = web.get("/vouchers?page=-1")
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "参数有误" in page.text and "Validation failed" not in page.text


def test_an_unknown_page_is_a_chinese_page(web):
    sign_in(web, "clerk@510121")
    page = web.get("/no-such-page")
    assert page.status_code == 404 and "没有这个页面" in page.text


def test_a_form_sent_again_with_other_content_is_told_plainly(web):
    sign_in(web, "clerk@510121")
    form = web.get("/movements/write-off")
    once = form.text.split('name="once" value="', 1)[1].split('"', 1)[0]
    base = {
        "_csrf": csrf_of(form.text),
        "once": once,
        "item_0": "NH2014",
        "batch_0": "2014-01",
        "qty_0": "20",
        "reason": "damaged",
        "action": "post",
    }
    first = web.post("/movements/write-off", data={**base, "memo": "雨淋"}, follow_redirects=False)
    assert first.status_code == 303, first.text
    again = web.post("/movements/write-off", data={**base, "memo": "霉变"}, follow_redirects=False)
    assert again.status_code == 409
    assert "这张表单已经提交过" in again.text and "幂等" not in again.text
