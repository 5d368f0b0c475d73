"""What a stocktake counts and where it stands, inside a unit of work: the stocktake by number,
its state checked for an action, its scope (the location alone plus the places it names, or
its whole subtree; all items or the ones it names), the book side of that scope at the cut-off."""

from __future__ import annotations

from typing import NamedTuple

from ledger.db import stocktakes as db
from ledger.db.store import LedgerStore, LocationEntry
from ledger.model import StocktakeStatus
from ledger.rules import Code, LedgerError


def stocktake_row(store: LedgerStore, number: str, lock: bool = False) -> db.StocktakeRow:
    row = db.stocktake(store, number, lock)
    if row is None:
        raise LedgerError(
            Code.unknown_stocktake, f"没有盘点单 {number!r} (unknown stocktake)", "number"
        )
    return row


STATUS_NAMES: dict[str, str] = {
    StocktakeStatus.counting: "盘点中",
    StocktakeStatus.closed: "已结束",
    StocktakeStatus.approved: "已审核",
    StocktakeStatus.cancelled: "已作废",
}


def require_status(row: db.StocktakeRow, status: StocktakeStatus, action: str) -> None:
    if row.status != status:
        raise LedgerError(
            Code.stocktake_state,
            f"盘点单 {row.number} {STATUS_NAMES.get(row.status, row.status)}，不能{action} "
            f"(stocktake is {row.status})",
            "number",
        )


class Scope(NamedTuple):
    top: LocationEntry
    item_ids: list[int] | None  # None: every item
    locations: dict[int, str] | None  # id → path of each place counted; None: the subtree

    def holds(self, location: LocationEntry) -> bool:
        if not location.physical:
            return False
        if self.locations is None:
            return location.path.startswith(self.top.path)
        return location.id in self.locations


def scope_of(store: LedgerStore, row: db.StocktakeRow) -> Scope:
    top = store.location_by_id(row.location_id)
    codes = row.item_codes.split()
    locations = None
    if not row.subtree:
        locations = {top.id: top.path}
        for code in row.location_codes.split():
            entry = store.location(code)
            locations[entry.id] = entry.path
    return Scope(top, [store.item(code).id for code in codes] if codes else None, locations)


def scope_words(store: LedgerStore, scope: Scope) -> str:
    if scope.locations is None:
        return f"{scope.top.location.name}及其下级"
    names = [store.location_by_id(i).location.name for i in scope.locations]
    return "、".join(names[:5]) + (f" 等 {len(names)} 处" if len(names) > 5 else "")


def in_scope(
    store: LedgerStore,
    row: db.StocktakeRow,
    location_code: str,
    item_code: str,
    field: str,
    check_item: bool = True,
):
    scope = scope_of(store, row)
    item_ids = scope.item_ids
    where = f"{field}.location_code" if check_item else field
    location = store.location(location_code, where)
    if not scope.holds(location):
        raise LedgerError(
            Code.outside_stocktake,
            f"{location.location.name} 不在盘点单 {row.number} 的范围内"
            f"（范围：{scope_words(store, scope)}）(outside the count)",
            where,
        )
    if not check_item:
        return location, None
    item = store.item(item_code, f"{field}.item_code")
    if item_ids is not None and item.id not in item_ids:
        raise LedgerError(
            Code.outside_stocktake,
            f"{item.item.name} 不在盘点单 {row.number} 的品种内 (item outside the count)",
            f"{field}.item_code",
        )
    return location, item


def scope_balances(
    store: LedgerStore, row: db.StocktakeRow, only: LocationEntry | None = None
) -> list[tuple[int, int, int, int, int]]:
    """The book side of the count's scope (or of one place in it) as of the cut-off."""
    scope = scope_of(store, row)
    locations = {only.id: only.path} if only is not None else scope.locations
    return db.scope_balances(store, scope.top.path, scope.item_ids, row.cut_off, locations)
