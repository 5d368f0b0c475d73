"""Inputs of the 印制计划, 库存定额 and 年度需求计划 routes (issue 19): 户均人数 as a JSON number or
a string (exactly, two decimal places at most), refusals that show what was typed without
Python quotes, an impossible date answered in Chinese, and titles without control or
bidirectional-override characters."""

from __future__ import annotations

import pytest

from api.web.norms import _months
from ledger.db.import_rows import set_populations
from ledger.rules import LedgerError
from tests.api.conftest import headers
from tests.api.test_print_plans import PLAN

V1 = "/api/v1"


@pytest.fixture
def populated(client, api_database):
    api_database.write(lambda store: set_populations(store, {"510121-ZJ-PS": 2_620}))
    return client


def _post(client, body: dict):
    return client.post(f"{V1}/print-plans", json=body, headers=headers("clerk"))


def test_household_size_may_be_a_number_or_a_string(populated):
    as_text = _post(populated, {**PLAN, "household_size": "2.62"})
    as_number = _post(populated, {**PLAN, "household_size": 2.62})
    assert as_text.status_code == as_number.status_code == 200, as_number.text
    assert as_number.json()["household_size"] == "2.62"
    assert as_number.json()["lines"] == as_text.json()["lines"]
    # 2620 persons ÷ 2 per household = 1310 households (a whole number given as a JSON integer)
    whole = _post(populated, {**PLAN, "household_size": 2})
    assert whole.status_code == 200, whole.text
    lines = {line["location_code"]: line for line in whole.json()["lines"]}
    assert lines["510121-ZJ-PS"]["units"] == 1310 and whole.json()["household_size"] == "2"


@pytest.mark.parametrize(
    ("size", "shown"),
    [(2.625, "2.625"), ("2.625", "2.625"), ("abc", "abc"), (1e-7, "1e-07"), (True, None)],
)
def test_a_bad_household_size_is_refused_showing_what_was_typed(populated, size, shown):
    answer = _post(populated, {**PLAN, "household_size": size})
    assert answer.status_code in (400, 422), answer.text
    assert answer.json()["field"] == "household_size"
    if shown is not None:
        assert answer.json()["code"] == "print_plan_target_invalid"
        assert f"如 2.62：{shown}" in answer.json()["detail"]
        assert "'" not in answer.json()["detail"]


@pytest.mark.parametrize(
    "title", ["2015年\n年画", "年画\t计划", "年画\u202e划计", "a\u2066b", "x\x7f"]
)
def test_a_title_with_a_control_or_bidi_character_is_refused(populated, title):
    answer = _post(populated, {**PLAN, "title": title, "save": True})
    assert answer.status_code == 400, answer.text
    problem = answer.json()
    assert (problem["code"], problem["field"]) == ("invalid_character", "title")
    bad = next(ch for ch in title if not ch.isprintable())
    assert "标题 不能含有" in problem["detail"] and f"U+{ord(bad):04X}" in problem["detail"]


def test_a_plain_title_with_chinese_and_punctuation_is_kept(populated):
    title = "2015年慰问独生子女家庭户年画（第1/2批）：金堂县"
    answer = _post(populated, {**PLAN, "title": title, "save": True})
    assert answer.status_code == 201, answer.text
    assert answer.json()["title"] == title


def test_other_refusals_show_what_was_typed_without_quotes(populated):
    basis = _post(populated, {**PLAN, "basis": "family"}).json()["detail"]
    assert "place：family" in basis and "'" not in basis
    level = _post(populated, {**PLAN, "level": "planet"}).json()["detail"]
    assert "village：planet" in level and "'" not in level
    pack = _post(populated, {**PLAN, "pack": "箱子"}).json()["detail"]
    assert "没有包装 箱子（" in pack and "'" not in pack
    plan = f"{V1}/reports/demand-plan"
    growth = populated.get(
        plan,
        params={"under": "510121", "year": 2027, "growth": "abc"},
        headers=headers("clerk"),
    )
    assert "不是 abc " in growth.json()["detail"] and "'" not in growth.json()["detail"]
    year = populated.get(plan, params={"under": "510121", "year": 2030}, headers=headers("clerk"))
    assert "不是 2030 " in year.json()["detail"]
    with pytest.raises(LedgerError) as refused:
        _months("abc", "min_months")
    assert refused.value.message.startswith("月数须为整数：abc ")


def test_an_impossible_norm_date_is_answered_in_chinese(client):
    body = {"location_code": "510121-ZJ", "min_months": 1, "max_months": 3}
    answer = client.post(
        f"{V1}/norms", json={**body, "valid_from": "2026-02-30"}, headers=headers("admin")
    )
    assert answer.status_code == 400, answer.text
    problem = answer.json()
    assert problem["field"] == "valid_from"
    assert problem["detail"].startswith("valid_from 不是有效的日期：应写成 YYYY-MM-DD")
