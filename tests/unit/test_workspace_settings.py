"""The workspace's settings: whole numbers in a range, or the start stops with
`invalid_setting` naming the variable."""

from __future__ import annotations

import pytest

from ledger.rules import Code, LedgerError
from ledger.settings import Settings


def test_the_defaults():
    settings = Settings.from_environment({})
    assert (
        settings.session_idle_minutes,
        settings.near_expiry_days,
        settings.transit_days_max,
    ) == (
        30,
        90,
        7,
    )


def test_each_is_read_from_its_variable():
    settings = Settings.from_environment(
        {
            "LEDGER_SESSION_IDLE_MINUTES": "45",
            "LEDGER_NEAR_EXPIRY_DAYS": "60",
            "LEDGER_TRANSIT_DAYS_MAX": "3",
        }
    )
    assert (
        settings.session_idle_minutes,
        settings.near_expiry_days,
        settings.transit_days_max,
    ) == (
        45,
        60,
        3,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LEDGER_SESSION_IDLE_MINUTES", "0"),
        ("LEDGER_SESSION_IDLE_MINUTES", "1441"),
        ("LEDGER_SESSION_IDLE_MINUTES", "ten"),
        ("LEDGER_NEAR_EXPIRY_DAYS", "-5"),
        ("LEDGER_NEAR_EXPIRY_DAYS", "3.5"),
        ("LEDGER_TRANSIT_DAYS_MAX", "366"),
    ],
)
def test_a_value_out_of_range_stops_the_start(name, value):
    with pytest.raises(LedgerError) as refused:
        Settings.from_environment({name: value})
    assert refused.value.code == Code.invalid_setting and refused.value.field == name
    assert name in refused.value.message
