"""Stock on hand, reserved and available: one account's lines, a subtree's, or roll-ups.

A virtual location every root shares (supplier, in-transit, …) holds every root's movements in
one stored balance; a user of one root reads that root's share of it while the ledger holds
several roots (ledger/db/roots.py). Which locations a user may read is the caller's decision
(api/policy.py); this module reads what it is asked for.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import msgspec

from ledger.db import balance_queries, roots
from ledger.db.balance_queries import BalanceLine
from ledger.db.unit_of_work import Database
from ledger.rules import Code, LedgerError

GROUPINGS = ("account", "location", "item", "batch")


class Balance(msgspec.Struct, frozen=True):
    """A balance line, or a roll-up when grouped (then the grouped-away codes are null)."""

    location_code: str | None
    location_name: str | None
    item_code: str
    item_name: str
    batch_number: str | None
    expires_on: dt.date | None
    unit: str
    on_hand: int
    reserved: int
    available: int


class BalanceQuery(NamedTuple):
    """location_code: one location's own accounts (virtual: it is a shared virtual place);
    otherwise every account under the path prefix `under` (None: everywhere). root_path: the
    root whose share of a shared virtual place is read (None: the stored balance, every root's
    movements — a global admin's reading)."""

    location_code: str | None = None
    virtual: bool = False
    under: str | None = None
    root_path: str | None = None
    item_code: str | None = None
    batch_number: str | None = None
    as_of: dt.date | None = None


def check_grouping(group_by: str) -> None:
    if group_by not in GROUPINGS:
        raise LedgerError(
            Code.unknown_grouping, f"group_by 必须是 {', '.join(GROUPINGS)} 之一", "group_by"
        )


def balances(database: Database, query: BalanceQuery, group_by: str = "account") -> list[Balance]:
    """The balance lines `query` selects, summed per `group_by` (one of GROUPINGS): account
    (no sum), location (per location and item), item or batch (totals across the locations)."""
    check_grouping(group_by)
    virtual = query.location_code is not None and query.virtual
    with database.read() as connection:
        if (
            query.location_code is not None
            and virtual
            and query.root_path is not None
            and roots.root_count(connection) > 1
        ):
            lines = roots.virtual_share(
                connection,
                query.location_code,
                query.root_path,
                query.item_code,
                query.batch_number,
                query.as_of,
            )
        else:
            lines = balance_queries.balances(
                connection,
                query.location_code,
                query.item_code,
                query.batch_number,
                query.as_of,
                include_virtual=virtual,
                under_path=None if virtual else query.under,
            )
    return grouped(lines, group_by)


def balance_lines(
    database: Database,
    location_code: str | None = None,
    item_code: str | None = None,
    batch_number: str | None = None,
    as_of: dt.date | None = None,
    include_virtual: bool = False,
) -> list[BalanceLine]:
    """Every balance line of the ledger (every root's; the virtual places' too with
    `include_virtual`) of one location / item / batch when given, now or at the end of `as_of`:
    what the command line on the server reads. Each code given is looked up first, so an
    unknown one is refused as such."""

    def check_codes(store) -> None:
        if location_code:
            store.location(location_code)
        if item_code:
            item = store.item(item_code)
            if batch_number:
                store.batch(item, batch_number)

    database.lookup(check_codes)
    with database.read() as connection:
        return balance_queries.balances(
            connection, location_code, item_code, batch_number, as_of, include_virtual
        )


def grouped(lines: list[BalanceLine], group_by: str) -> list[Balance]:
    """Balance lines as rows, summed per `group_by` in the order each key first appears."""
    if group_by == "account":
        return [Balance(*msgspec.structs.astuple(line)) for line in lines]  # the same fields
    totals: dict[RollUpKey, list[int]] = {}
    for line in lines:
        entry = totals.setdefault(_key(line, group_by), [0, 0])
        entry[0] += line.on_hand
        entry[1] += line.reserved
    return [
        Balance(*key, on_hand, reserved, on_hand - reserved)
        for key, (on_hand, reserved) in totals.items()
    ]


# location code and name, item code and name, batch number and expiry, unit
RollUpKey = tuple[str | None, str | None, str, str, str | None, dt.date | None, str]


def _key(line: BalanceLine, group_by: str) -> RollUpKey:
    """What the rows of one roll-up share: the codes not grouped away, and the unit."""
    by_place, by_batch = group_by == "location", group_by == "batch"
    return (
        line.location_code if by_place else None,
        line.location_name if by_place else None,
        line.item_code,
        line.item_name,
        line.batch_number if by_batch else None,
        line.expires_on if by_batch else None,
        line.unit,
    )
