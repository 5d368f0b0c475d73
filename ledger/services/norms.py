"""库存定额: setting the stock norms (dated, logged) and reading them. What a norm means and how
the one in force is chosen is ledger/norms.py; suggestions from them, ledger/services/
suggestions.py. Who may set which norm is the caller's decision (the CLI: an admin's)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from ledger import norms as n
from ledger.db import norm_queries as nq
from ledger.db import oplog
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database
from ledger.limits import norm_months_max
from ledger.model import LocationLevel
from ledger.rules import Code, LedgerError, check_date
from ledger.services.work import day, read, write

LEVEL_NAMES = {
    LocationLevel.city: "市",
    LocationLevel.county: "区县",
    LocationLevel.township: "乡镇",
    LocationLevel.village: "村",
}


class NormOut(NamedTuple):
    """A norm as set: its scope (level, or location code and maybe item code), months, the
    day it is valid from, who set it and when."""

    id: int
    level: str | None
    location_code: str | None
    item_code: str | None
    min_months: int
    max_months: int
    valid_from: dt.date
    set_by: str
    set_at: dt.datetime


def check_months(min_months: int, max_months: int) -> None:
    """Refuse months that are not whole, out of 0..norm_months_max, or max < min or max 0."""
    for value, field in ((min_months, "min_months"), (max_months, "max_months")):
        if isinstance(value, bool) or not isinstance(value, int):
            raise LedgerError(Code.norm_months_invalid, "月数须为整数 (whole months)", field)
        if not 0 <= value <= norm_months_max:
            raise LedgerError(
                Code.norm_months_invalid,
                f"月数须在 0 到 {norm_months_max} 之间：{value} (months out of range)",
                field,
            )
    if max_months < min_months or max_months == 0:
        raise LedgerError(
            Code.norm_months_invalid,
            f"最高月数 {max_months} 须不小于最低月数 {min_months} 且大于 0 (max below min)",
            "max_months",
        )


def _check_scope(level: str | None, location_code: str | None, item_code: str | None) -> None:
    if (level is None) == (location_code is None):
        raise LedgerError(
            Code.norm_scope_invalid,
            "须指定一个级别或一个库点，且只能指定一个 (a level or a location)",
            "level",
        )
    if level is not None and level not in LEVEL_NAMES:
        raise LedgerError(
            Code.norm_scope_invalid,
            f"级别只能是 city、county、township、village：{level!r} (unknown level)",
            "level",
        )
    if level is not None and item_code is not None:
        raise LedgerError(
            Code.norm_scope_invalid,
            "级别定额对全部物资，不能指定物资；为一种物资设定额请指定库点 (a level norm has no item)",
            "item_code",
        )


def set_norm(
    database: Database,
    min_months: int,
    max_months: int,
    *,
    level: str | None = None,
    location_code: str | None = None,
    item_code: str | None = None,
    valid_from: dt.date | None = None,
    actor: int | None = None,
    today: dt.date | None = None,
) -> NormOut:
    """Set the norm of a level (every place of it, every item) or of one location (every item,
    or `item_code`), valid from `valid_from` (default today; never before today) and logged.
    Earlier days keep the norm that was in force on them."""
    check_months(min_months, max_months)
    _check_scope(level, location_code, item_code)
    office_day = day(today)
    starts = valid_from or office_day
    check_date(starts, "valid_from")
    if starts < office_day:
        raise LedgerError(
            Code.norm_date_in_past,
            f"生效日期 {starts} 早于今天 {office_day} (a norm cannot change the past)",
            "valid_from",
        )

    def step(store: LedgerStore) -> NormOut:
        location = store.location(location_code, "location_code") if location_code else None
        if location is not None and not location.physical:
            raise LedgerError(
                Code.location_must_be_physical,
                f"{location.location.name} 是虚拟库点，不能设库存定额 (a physical location only)",
                "location_code",
            )
        item = store.item(item_code, "item_code") if item_code else None
        at = store.recorded_at
        norm_id = nq.insert_norm(
            store.connection,
            level=level,
            location_id=location.id if location else None,
            item_id=item.id if item else None,
            min_months=min_months,
            max_months=max_months,
            valid_from=starts,
            set_by=actor,
            set_at=at,
        )
        key = level or " ".join(code for code in (location_code, item_code) if code)
        oplog.record(
            store,
            "stock_norm.set",
            "stock_norm",
            key,
            user_id=actor,
            after={
                "min_months": min_months,
                "max_months": max_months,
                "valid_from": starts.isoformat(),
            },
            location_path=location.path if location else None,
        )
        return NormOut(
            norm_id,
            level,
            location_code,
            item_code,
            min_months,
            max_months,
            starts,
            store.user_label(actor),
            at,
        )

    return write(database, step, actor, office_day)


def norms_set(database: Database, under: str | None = None) -> list[NormOut]:
    """Every norm set, in the order set: the level norms, and those of places under `under`
    (None: everywhere)."""

    def step(store: LedgerStore) -> list[NormOut]:
        rows = nq.norm_rows(store.connection)
        store.cache_locations(ids={r.setting.location_id for r in rows if r.setting.location_id})
        top = store.location(under, "under").path if under else None
        out = []
        for row in rows:
            s = row.setting
            place = store.location_by_id(s.location_id) if s.location_id else None
            if top is not None and place is not None and not place.path.startswith(top):
                continue
            out.append(
                NormOut(
                    s.id,
                    s.level,
                    place.location.code if place else None,
                    store.item_by_id(s.item_id).item.code if s.item_id else None,
                    s.min_months,
                    s.max_months,
                    s.valid_from,
                    store.user_label(row.set_by),
                    row.set_at,
                )
            )
        return out

    return read(database, step)


def norm_of(store: LedgerStore, location_code: str, item_code: str, on: dt.date) -> n.Norm:
    """The norm in force at a location for an item on a day."""
    location = store.location(location_code, "location_code")
    item = store.item(item_code, "item_code")
    settings = [row.setting for row in nq.norm_rows(store.connection, on)]
    return n.norm_in_force(settings, location.location.level, location.id, item.id, on)
