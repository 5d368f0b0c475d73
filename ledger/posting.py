"""The pure posting engine: turn a movement into postings and apply them to account states.

No storage here. The caller loads the states of the accounts a movement touches (locked, in key
order), calls `apply_legs`, and writes back what changed. Everything is checked before anything
is changed, so a refused movement leaves the states exactly as they were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from typing import NamedTuple

from ledger.limits import postings_per_transaction_max
from ledger.model import AccountKey
from ledger.rules import Code, LedgerError, require


class AccountState:
    """The stored state of one account: on hand and reserved, in base units."""

    __slots__ = ("is_new", "last_on", "on_hand", "reserved")

    def __init__(
        self,
        on_hand: int = 0,
        reserved: int = 0,
        last_on: dt.date | None = None,
        is_new: bool = False,
    ) -> None:
        self.on_hand = on_hand
        self.reserved = reserved
        self.last_on = last_on  # business date of the account's latest movement
        self.is_new = is_new

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def __repr__(self) -> str:
        return f"AccountState(on_hand={self.on_hand}, reserved={self.reserved})"


class Leg(NamedTuple):
    """One posting before it is written.

    physical: the location is physical, so its balance may not go below zero.
    reservation_consumed: base units of this outflow that were reserved for it (issue against
        an approved request); they are taken out of `reserved` as well as `on_hand`.
    """

    key: AccountKey
    quantity: int
    physical: bool
    reservation_consumed: int = 0


class Move(NamedTuple):
    """A quantity of one (item, batch) going from one location to another."""

    source_location_id: int
    source_physical: bool
    destination_location_id: int
    destination_physical: bool
    item_id: int
    batch_id: int
    quantity: int
    reservation_consumed: int = 0


def legs_of_moves(moves: Iterable[Move]) -> list[Leg]:
    """Two legs per move: minus at the source, plus at the destination."""
    legs: list[Leg] = []
    for move in moves:
        if move.source_location_id == move.destination_location_id:
            raise LedgerError(
                Code.locations_must_be_different,
                "发出与接收库点不能相同 (source and destination must differ)",
                "location",
            )
        legs.append(
            Leg(
                AccountKey(move.source_location_id, move.item_id, move.batch_id),
                -move.quantity,
                move.source_physical,
                move.reservation_consumed,
            )
        )
        legs.append(
            Leg(
                AccountKey(move.destination_location_id, move.item_id, move.batch_id),
                move.quantity,
                move.destination_physical,
            )
        )
    return legs


def check_balanced(legs: Sequence[Leg]) -> None:
    """Invariant 1: the legs sum to zero per (item, batch). A failure is a bug."""
    totals: dict[tuple[int, int], int] = {}
    for leg in legs:
        pair = (leg.key.item_id, leg.key.batch_id)
        totals[pair] = totals.get(pair, 0) + leg.quantity
    require(len(legs) >= 2, f"a transaction needs at least two postings, got {len(legs)}")
    require(
        len(legs) <= postings_per_transaction_max,
        f"{len(legs)} postings exceed postings_per_transaction_max",
    )
    unbalanced = {pair: total for pair, total in totals.items() if total != 0}
    require(not unbalanced, f"postings do not sum to zero per (item, batch): {unbalanced}")


Describe = Callable[[AccountKey], str]


def apply_legs(
    legs: Sequence[Leg],
    states: MutableMapping[AccountKey, AccountState],
    occurred_on: dt.date,
    describe: Describe = str,
) -> list[int]:
    """Check the legs against the account states, then apply them; return each balance after.

    `states` must hold every account the legs touch (a missing one is a new, empty account).
    Refuses with `exceeds_on_hand` when a physical balance would go below zero, with
    `exceeds_available` when an outflow would dip into stock reserved for someone else, and with
    `date_before_last_movement` when a physical account already moved on a later date (so that
    running balances are in date order and an as-of balance is one lookup).
    Nothing is changed unless every leg passes.
    """
    check_balanced(legs)
    net: dict[AccountKey, list[int]] = {}
    for leg in legs:
        entry = net.setdefault(leg.key, [0, 0, 0, int(leg.physical)])
        entry[0] += leg.quantity
        entry[1] += leg.reservation_consumed
        if leg.quantity < 0:
            entry[2] += -leg.quantity
    for key, (change, consumed, outflow, physical) in net.items():
        state = states.get(key) or AccountState(is_new=True)
        if consumed > state.reserved:
            raise LedgerError(
                Code.exceeds_reserved,
                f"{describe(key)}: 预留仅 {state.reserved}，不能消耗 {consumed} "
                f"(only {state.reserved} reserved)",
                "quantity",
            )
        if not physical:
            continue
        if state.last_on is not None and occurred_on < state.last_on:
            raise LedgerError(
                Code.date_before_last_movement,
                f"{describe(key)}: 已有 {state.last_on} 的收发记录，不能登记更早日期 {occurred_on} "
                f"(account already moved on {state.last_on})",
                "occurred_on",
            )
        if state.on_hand + change < 0:
            raise LedgerError(
                Code.exceeds_on_hand,
                f"{describe(key)}: 库存仅 {state.on_hand}，不足 {outflow} "
                f"(on hand {state.on_hand}, asked {outflow})",
                "quantity",
            )
        free = state.available + consumed
        if outflow > free:
            raise LedgerError(
                Code.exceeds_available,
                f"{describe(key)}: 可用 {free}（库存 {state.on_hand}，已预留 {state.reserved}），"
                f"不足 {outflow} (available {free}, asked {outflow})",
                "quantity",
            )
    balances_after: list[int] = []
    for leg in legs:
        found = states.get(leg.key)
        if found is None:
            found = states[leg.key] = AccountState(is_new=True)
        state = found
        state.on_hand += leg.quantity
        state.reserved -= leg.reservation_consumed
        if leg.physical and (state.last_on is None or occurred_on > state.last_on):
            state.last_on = occurred_on
        balances_after.append(state.on_hand)
    for key, (_, _, _, physical) in net.items():
        state = states[key]
        # The messages are only formatted on failure: this loop is on every posting's path.
        if physical and not 0 <= state.reserved <= state.on_hand:
            require(state.on_hand >= 0, f"physical account {key} below zero")
            require(False, f"reserved above on hand on {key}")
    return balances_after


def mirror_legs(legs: Iterable[Leg]) -> list[Leg]:
    """The legs of a reversal (红冲): every quantity negated, nothing reserved."""
    return [Leg(leg.key, -leg.quantity, leg.physical) for leg in legs]


def in_closed_period(day: dt.date, closed_through: dt.date | None) -> bool:
    """Whether `day` lies in a closed period (月结): on or before `closed_through`, the end of
    the last period closed at the place's root (None: nothing closed yet)."""
    return closed_through is not None and day <= closed_through


def check_period_open(occurred_on: dt.date, closed_through: dt.date | None) -> None:
    """Refuses with `period_closed` a movement dated in a closed period."""
    if in_closed_period(occurred_on, closed_through):
        raise LedgerError(
            Code.period_closed,
            f"{closed_through} 及以前的账期已月结，不能登记 {occurred_on} 的业务 (period closed)",
            "occurred_on",
        )
