"""月结's months: the form offers only the months a close may take — ended, after the city's
last close, not before the ledger's first movement — newest first (the service on SQLite and
PostgreSQL, the page on the demo); what is refused is still refused by the server."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from html import unescape

import pytest

from ledger.rules import Code, LedgerError
from ledger.services import lookups
from ledger.services.audit import close_period, period_closes
from ledger.services.close_months import month_ends, months_to_close
from ledger.services.lookups import TransactionFilter
from tests.builder import CITY_TEXT, ledger_from_text
from tests.conftest import TODAY
from tests.web.conftest import csrf_of, sign_in
from tests.web.reports_support import field_error

CITY = "510100"
D = dt.date


def test_the_months_are_those_ended_after_the_last_close_from_the_first_movement():
    first, today = D(2025, 11, 15), D(2026, 2, 10)
    assert month_ends(first, None, today) == [D(2026, 1, 31), D(2025, 12, 31), D(2025, 11, 30)]
    assert month_ends(first, D(2025, 12, 31), today) == [D(2026, 1, 31)]
    assert month_ends(first, D(2026, 1, 15), today) == [D(2026, 1, 31)]  # a close mid-month
    assert month_ends(first, D(2026, 1, 31), today) == []  # closed through the last ended
    assert month_ends(first, None, D(2026, 1, 31)) == [D(2025, 12, 31), D(2025, 11, 30)]
    assert month_ends(D(2025, 12, 31), None, D(2026, 1, 1)) == [D(2025, 12, 31)]
    assert month_ends(None, None, today) == []  # nothing posted: nothing to close


def test_the_months_to_close_on_each_engine(ledger):
    with pytest.raises(LedgerError) as no_city:  # as close_period refuses it
        months_to_close(ledger.database, None, TODAY)
    assert no_city.value.code == Code.root_required
    ledger_from_text(ledger, CITY_TEXT)
    assert months_to_close(ledger.database, CITY, TODAY) == []  # nothing posted yet
    ledger_from_text(ledger, "receipt 510100 NH2014 2014-01 10000 on 2026-03-02")
    ends = [D(2026, 5, 31), D(2026, 4, 30), D(2026, 3, 31)]
    assert months_to_close(ledger.database, CITY, TODAY) == ends
    assert months_to_close(ledger.database, None, TODAY) == ends  # the only root
    ledger.database.write(lambda store: close_period(store, D(2026, 3, 31), None, TODAY))
    assert months_to_close(ledger.database, CITY, TODAY) == ends[:2]
    ledger.database.write(lambda store: close_period(store, D(2026, 5, 31), None, TODAY))
    assert months_to_close(ledger.database, CITY, TODAY) == []


def offered(page: str) -> list[str]:
    found = re.search(r'<select id="f-month"[^>]*>(.*?)</select>', page, re.S)
    assert found, "no month select"
    return re.findall(r'<option value="([^"]*)"', found.group(1))


def chosen(page: str) -> str:
    return re.search(r'<option value="([^"]*)" selected>', page).group(1)


def test_the_close_form_offers_only_the_months_that_may_be_closed(web, web_database):
    found = lookups.transactions(web_database, TransactionFilter(None), 100_000, 0)
    first = min(transaction.occurred_on for transaction in found)
    months, month = [], first.replace(day=1)
    while month < TODAY.replace(day=1):  # every month ended before the office's today
        months.insert(0, month.strftime("%Y-%m"))
        month = (month + dt.timedelta(days=31)).replace(day=1)
    assert months[0] == "2026-05" and len(months) > 2

    assert sign_in(web, "auditor@510100").status_code == 303
    page = web.get("/audit/closes").text
    assert offered(page) == months and chosen(page) == "2026-05"
    assert "2026-06" not in offered(page) and "1999-01" not in offered(page)
    assert 'type="month"' not in page

    close = web.get("/audit/closes/confirm", params={"month": months[-1]}).text
    once = re.search(r'name="once" value="([^"]+)"', close).group(1)
    done = web.post(
        "/audit/closes",
        data={"_csrf": csrf_of(close), "month": months[-1], "once": once},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert offered(web.get("/audit/closes").text) == months[:-1]  # after the last close

    # the server still refuses what the form no longer offers, beside the month
    refused = web.post(
        "/audit/closes",
        data={"_csrf": csrf_of(page), "month": "2026-06", "once": "k-june"},
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert "尚未过去" in unescape(field_error(refused.text, "month"))
    assert chosen(refused.text) == "2026-06"  # what was asked, beside its refusal
    year, number = (int(part) for part in months[-1].split("-"))
    end = D(year, number, calendar.monthrange(year, number)[1])
    assert [c.period_end for c in period_closes(web_database, CITY)] == [end]


def test_nothing_left_to_close_says_so(web, web_database):
    web_database.write(lambda store: close_period(store, D(2026, 5, 31), None, TODAY))
    assert sign_in(web, "auditor@510100").status_code == 303
    page = web.get("/audit/closes").text
    assert 'id="close-form"' not in page and 'id="no-months"' in page
    assert "没有可以月结的月份" in page
