import datetime as dt

import pytest

from ledger.model import AccountKey
from ledger.posting import (
    AccountState,
    Leg,
    Move,
    apply_legs,
    check_period_open,
    in_closed_period,
    legs_of_moves,
    mirror_legs,
)
from ledger.rules import Code, InvariantBroken, LedgerError

DAY = dt.date(2026, 6, 1)
WAREHOUSE, TRANSIT = 10, 2
A = AccountKey(WAREHOUSE, 1, 1)
T = AccountKey(TRANSIT, 1, 1)


def issue_legs(quantity: int, reserved: int = 0) -> list[Leg]:
    return legs_of_moves([Move(WAREHOUSE, True, TRANSIT, False, 1, 1, quantity, reserved)])


def test_a_move_becomes_two_legs_that_sum_to_zero():
    legs = issue_legs(5)
    assert [(leg.key, leg.quantity) for leg in legs] == [(A, -5), (T, 5)]


def test_applying_legs_returns_running_balances_and_updates_states():
    states = {A: AccountState(10), T: AccountState(-3)}
    assert apply_legs(issue_legs(4), states, DAY) == [6, 1]
    assert (states[A].on_hand, states[T].on_hand) == (6, 1)


def test_a_physical_balance_may_not_go_below_zero_and_nothing_changes():
    states = {A: AccountState(3), T: AccountState(0)}
    with pytest.raises(LedgerError) as refused:
        apply_legs(issue_legs(4), states, DAY)
    assert refused.value.code is Code.exceeds_on_hand
    assert (states[A].on_hand, states[T].on_hand) == (3, 0)


def test_a_virtual_balance_may_go_negative():
    legs = legs_of_moves([Move(1, False, WAREHOUSE, True, 1, 1, 7)])
    states: dict = {}
    assert apply_legs(legs, states, DAY) == [-7, 7]


def test_an_outflow_may_not_take_stock_reserved_for_someone_else():
    states = {A: AccountState(10, reserved=8), T: AccountState()}
    with pytest.raises(LedgerError) as refused:
        apply_legs(issue_legs(3), states, DAY)
    assert refused.value.code is Code.exceeds_available
    assert states[A].reserved == 8


def test_an_outflow_against_its_reservation_consumes_it():
    states = {A: AccountState(10, reserved=8), T: AccountState()}
    apply_legs(issue_legs(9, reserved=8), states, DAY)
    assert (states[A].on_hand, states[A].reserved) == (1, 0)


def test_consuming_more_than_is_reserved_is_refused():
    states = {A: AccountState(10, reserved=2), T: AccountState()}
    with pytest.raises(LedgerError) as refused:
        apply_legs(issue_legs(5, reserved=5), states, DAY)
    assert refused.value.code is Code.exceeds_reserved


def test_a_physical_account_cannot_move_on_a_date_before_its_last_movement():
    states = {A: AccountState(10, last_on=dt.date(2026, 6, 5)), T: AccountState()}
    with pytest.raises(LedgerError) as refused:
        apply_legs(issue_legs(1), states, DAY)
    assert refused.value.code is Code.date_before_last_movement
    apply_legs(issue_legs(1), states, dt.date(2026, 6, 5))
    assert states[A].last_on == dt.date(2026, 6, 5)


def test_the_same_place_on_both_sides_is_refused():
    with pytest.raises(LedgerError) as refused:
        legs_of_moves([Move(WAREHOUSE, True, WAREHOUSE, True, 1, 1, 1)])
    assert refused.value.code is Code.locations_must_be_different


def test_unbalanced_legs_are_a_bug_not_a_rejection():
    with pytest.raises(InvariantBroken):
        apply_legs([Leg(A, -1, True), Leg(T, 2, False)], {A: AccountState(5)}, DAY)


def test_a_single_leg_is_a_bug():
    with pytest.raises(InvariantBroken):
        apply_legs([Leg(T, 0, False)], {}, DAY)


def test_mirror_legs_negate_every_quantity():
    mirrored = mirror_legs(issue_legs(4))
    assert [(leg.key, leg.quantity) for leg in mirrored] == [(A, 4), (T, -4)]


def test_a_day_on_or_before_the_last_close_is_in_a_closed_period():
    closed = dt.date(2026, 5, 31)
    assert in_closed_period(closed, closed)
    assert in_closed_period(dt.date(2026, 1, 1), closed)
    assert not in_closed_period(DAY, closed)
    assert not in_closed_period(dt.date(2000, 1, 1), None)


def test_a_movement_dated_in_a_closed_period_is_refused():
    check_period_open(DAY, dt.date(2026, 5, 31))
    with pytest.raises(LedgerError) as refused:
        check_period_open(dt.date(2026, 5, 31), dt.date(2026, 5, 31))
    assert refused.value.code is Code.period_closed and refused.value.field == "occurred_on"
