"""Stocktakes (盘点): what a caller asks (commands) and what it is answered (results).

The use cases that take and give them are in `ledger.services.stocktakes`.
"""

from __future__ import annotations

import datetime as dt

import msgspec


class OpenStocktake(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """location_code: the place counted. include_subtree: count every place under it too
    (townships, villages); otherwise only location_code and the places of `location_codes`
    (each inside its subtree). cut_off: the day whose closing balances are the book side (today
    if omitted). item_codes: only these items (all if empty). blind: counters do not see the
    book quantities until the count is closed."""

    location_code: str
    cut_off: dt.date | None = None
    item_codes: tuple[str, ...] = ()
    blind: bool = False
    memo: str = ""
    include_subtree: bool = False
    location_codes: tuple[str, ...] = ()


class CountLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What was found of one batch at one location; 0 when none was found. unit: a pack name
    to count in packs."""

    location_code: str
    item_code: str
    batch_number: str
    quantity: int
    unit: str | None = None


class EnterCounts(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    lines: tuple[CountLine, ...]


class AccountRef(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    location_code: str
    item_code: str
    batch_number: str


class Recount(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    lines: tuple[AccountRef, ...]
    reason: str


class ZeroUncounted(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The counters declare `location_code` fully counted: every line on its books (at the
    cut-off) that has no count yet is counted as 0 (and so becomes 盘亏 at approval)."""

    location_code: str


class ApproveStocktake(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """reason: why the differences are accepted (written on each adjustment). preview_digest:
    the `digest` of the approval preview the approver looked at; approval posts only if the
    adjustments are still exactly those."""

    reason: str
    preview_digest: str = ""


class CountedLine(msgspec.Struct, frozen=True):
    location_code: str
    item_code: str
    batch_number: str
    quantity: int
    source: str
    counted_by: int | None
    counted_at: dt.datetime


class ExpectedLine(msgspec.Struct, frozen=True):
    location_code: str
    item_code: str
    batch_number: str
    book: int


class Stocktake(msgspec.Struct, frozen=True):
    number: str
    status: str
    location_code: str
    location_name: str
    item_codes: tuple[str, ...]
    cut_off: dt.date
    blind: bool
    memo: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    approved_at: dt.datetime | None
    approval_reason: str | None
    counted: tuple[CountedLine, ...]
    adjustments: tuple[str, ...]
    expected: tuple[ExpectedLine, ...] = ()  # the book at the cut-off; never for a blind count
    include_subtree: bool = False
    location_codes: tuple[str, ...] = ()  # the places counted besides location_code


class ReconciliationLine(msgspec.Struct, frozen=True):
    location_code: str
    location_name: str
    item_code: str
    item_name: str
    batch_number: str
    unit: str
    book: int  # at the end of the cut-off day
    after_cut_off: int  # net movements since, shown beside the count
    counted: int
    difference: int  # counted − book: 盘盈 > 0, 盘亏 < 0
    outcome: str
    outcome_name: str


class UnitTotal(msgspec.Struct, frozen=True):
    """What an approval posts in one base unit: 盘盈 and 盘亏 (both positive) and the net."""

    unit: str
    gain: int
    loss: int
    net: int


class ApprovalPreview(msgspec.Struct, frozen=True):
    """What approving will post, before it posts: the adjustment lines (盘盈/盘亏 per account),
    totals per unit, how many vouchers, and the 未盘 lines it will NOT adjust. `digest` names
    exactly this content; approve with it."""

    number: str
    status: str
    cut_off: dt.date
    adjustments: tuple[ReconciliationLine, ...]
    totals: tuple[UnitTotal, ...]
    vouchers: int
    not_counted: tuple[ReconciliationLine, ...]
    digest: str


class LocationRate(msgspec.Struct, frozen=True):
    location_code: str
    location_name: str
    lines: int
    matched: int
    gains: int
    losses: int
    not_counted: int
    not_on_books: int
    rate: float
    passed: bool


class StocktakeReconciliation(msgspec.Struct, frozen=True):
    number: str
    status: str
    cut_off: dt.date
    threshold: float
    lines: tuple[ReconciliationLine, ...]
    by_location: tuple[LocationRate, ...]
    judged: int
    matched: int
    rate: float
    passed: bool
