""" "Today" is the office's date (LEDGER_TIME_ZONE, Asia/Shanghai by default), not the date of
the server process's own time zone: checked at fixed instants either side of midnight."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from ledger import commands as c
from ledger import settings
from ledger.rules import Code, LedgerError
from ledger.settings import Settings, office_today, office_zone
from tests.bound import Ledger
from tests.builder import CITY_TEXT, ledger_from_text

# 2026-06-30 16:30 UTC is 2026-07-01 00:30 in Shanghai (UTC+8) and 09:30 on 06-30 in Los Angeles.
AFTER_MIDNIGHT_IN_SHANGHAI = dt.datetime(2026, 6, 30, 16, 30, tzinfo=dt.UTC)
BEFORE_MIDNIGHT_IN_SHANGHAI = dt.datetime(2026, 6, 30, 15, 59, 59, tzinfo=dt.UTC)


@pytest.fixture
def server_far_from_the_office(monkeypatch):
    """The process runs in a zone a day away from the office (UTC−10) with no LEDGER_TIME_ZONE."""
    monkeypatch.delenv("LEDGER_TIME_ZONE", raising=False)
    monkeypatch.setenv("TZ", "Pacific/Honolulu")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def stand_at(monkeypatch, instant: dt.datetime) -> None:
    monkeypatch.setattr(settings, "utc_now", lambda: instant)


def test_the_office_day_turns_at_midnight_in_shanghai(server_far_from_the_office):
    assert office_today(AFTER_MIDNIGHT_IN_SHANGHAI) == dt.date(2026, 7, 1)
    assert office_today(BEFORE_MIDNIGHT_IN_SHANGHAI) == dt.date(2026, 6, 30)
    # the process's own zone says 06-30 06:30 for the first instant: it is not asked
    local = AFTER_MIDNIGHT_IN_SHANGHAI.astimezone().date()
    assert local == dt.date(2026, 6, 30) != office_today(AFTER_MIDNIGHT_IN_SHANGHAI)


def test_the_time_zone_is_a_setting(monkeypatch, server_far_from_the_office):
    assert Settings.from_environment({}).time_zone == "Asia/Shanghai"
    monkeypatch.setenv("LEDGER_TIME_ZONE", "America/Los_Angeles")
    assert Settings.from_environment().time_zone == "America/Los_Angeles"
    assert office_today(AFTER_MIDNIGHT_IN_SHANGHAI) == dt.date(2026, 6, 30)
    at_home = dt.datetime(2026, 7, 1, 7, 0, tzinfo=dt.UTC)  # midnight in Los Angeles (PDT)
    assert office_today(at_home) == dt.date(2026, 7, 1)
    assert office_today(at_home - dt.timedelta(seconds=1)) == dt.date(2026, 6, 30)
    assert office_today(at_home, "Asia/Shanghai") == dt.date(2026, 7, 1)


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "../../etc/passwd", "UTC+8"])
def test_an_unknown_time_zone_is_refused_with_its_name(monkeypatch, name):
    monkeypatch.setenv("LEDGER_TIME_ZONE", name)
    with pytest.raises(LedgerError) as refused:
        office_zone()
    assert refused.value.code == Code.invalid_setting
    assert refused.value.field == "LEDGER_TIME_ZONE" and repr(name) in refused.value.message


def test_the_ledger_dates_by_the_office_day(database, monkeypatch, server_far_from_the_office):
    """Just after midnight in Shanghai (still the day before in UTC and in the process's zone)
    a receipt without a date is dated the new day, and a movement dated that day is not
    'in the future'."""
    stand_at(monkeypatch, AFTER_MIDNIGHT_IN_SHANGHAI)
    ledger = Ledger(database)  # the default clock
    assert ledger.clock() == dt.date(2026, 7, 1)
    ledger_from_text(ledger, CITY_TEXT)
    received = ledger.receive(c.Receive("510100", (c.ReceiptLine("NH2014", "2014-01", 1000),)))
    assert received.occurred_on == dt.date(2026, 7, 1)
    issued = ledger.issue(
        c.Issue("510100", "510121", (c.LineSpec("NH2014", 10),), dt.date(2026, 7, 1))
    )
    assert issued.occurred_on == dt.date(2026, 7, 1)
    with pytest.raises(LedgerError) as refused:
        ledger.issue(c.Issue("510100", "510121", (c.LineSpec("NH2014", 10),), dt.date(2026, 7, 2)))
    assert refused.value.code == Code.date_in_future

    stand_at(monkeypatch, BEFORE_MIDNIGHT_IN_SHANGHAI)
    assert ledger.clock() == dt.date(2026, 6, 30)


def test_the_api_uses_the_office_day(database, monkeypatch, server_far_from_the_office):
    from api.app import create_app

    stand_at(monkeypatch, AFTER_MIDNIGHT_IN_SHANGHAI)
    app = create_app(database)
    assert app.state["services"].clock() == dt.date(2026, 7, 1)
    monkeypatch.setenv("LEDGER_TIME_ZONE", "Nowhere/Atlantis")
    with pytest.raises(LedgerError) as refused:
        create_app(database)
    assert refused.value.code == Code.invalid_setting
