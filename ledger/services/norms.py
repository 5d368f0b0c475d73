"""库存定额: setting the stock norms (dated, logged) and reading them. What a norm means and how
the one in force is chosen is ledger/norms.py; suggestions from them, ledger/services/
suggestions.py. Who may set which norm is the caller's decision (the CLI: an admin's)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from ledger import norms as n
from ledger.db import norm_queries as nq
from ledger.db import oplog
from ledger.db.store import LedgerStore, LocationEntry
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
    """A norm as set: its scope (level and maybe the code of the city it is for, None for
    every city; or location code and maybe item code), months, the day it is valid from, who
    set it and when."""

    id: int
    level: str | None
    city_code: str | None
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


def _check_scope(
    level: str | None, location_code: str | None, item_code: str | None, city_code: str | None
) -> None:
    if (level is None) == (location_code is None):
        raise LedgerError(
            Code.norm_scope_invalid,
            "须指定一个级别或一个库点，且只能指定一个 (a level or a location)",
            "level",
        )
    if level is not None and level not in LEVEL_NAMES:
        raise LedgerError(
            Code.norm_scope_invalid,
            f"级别只能是 city、county、township、village：{level} (unknown level)",
            "level",
        )
    if level is not None and item_code is not None:
        raise LedgerError(
            Code.norm_scope_invalid,
            "级别定额对全部物资，不能指定物资；为一种物资设定额请指定库点 (a level norm has no item)",
            "item_code",
        )
    if city_code is not None and level is None:
        raise LedgerError(
            Code.norm_scope_invalid,
            "只有级别定额可指定城市；库点定额已属于库点所在的市 (a city goes with a level norm)",
            "city_code",
        )


def city_root(store: LedgerStore, city_code: str, field: str = "city_code") -> LocationEntry:
    """The root location (a city) of code `city_code`; refused when it is not one."""
    city = store.location(city_code, field)
    if city.location.parent_code is not None or not city.physical:
        raise LedgerError(
            Code.norm_scope_invalid,
            f"{city.location.name}（{city_code}）不是一个市（根库点），级别定额只能按市设定 "
            "(a level norm is for a city: a root location)",
            field,
        )
    return city


def _physical(store: LedgerStore, location_code: str) -> LocationEntry:
    location = store.location(location_code, "location_code")
    if not location.physical:
        raise LedgerError(
            Code.location_must_be_physical,
            f"{location.location.name} 是虚拟库点，不能设库存定额 (a physical location only)",
            "location_code",
        )
    return location


def set_norm(
    database: Database,
    min_months: int,
    max_months: int,
    *,
    level: str | None = None,
    city_code: str | None = None,
    location_code: str | None = None,
    item_code: str | None = None,
    valid_from: dt.date | None = None,
    actor: int | None = None,
    today: dt.date | None = None,
) -> NormOut:
    """Set the norm of a level (every place of it, every item: in the city `city_code`, a
    root location, or in every city without one) or of one location (every item, or
    `item_code`), valid from `valid_from` (default today; never before today) and logged.
    Earlier days keep the norm that was in force on them."""
    check_months(min_months, max_months)
    _check_scope(level, location_code, item_code, city_code)
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
        location = _physical(store, location_code) if location_code else None
        item = store.item(item_code, "item_code") if item_code else None
        city = city_root(store, city_code) if city_code else None
        at = store.recorded_at
        norm_id = nq.insert_norm(
            store.connection,
            level=level,
            root_id=city.id if city else None,
            location_id=location.id if location else None,
            item_id=item.id if item else None,
            min_months=min_months,
            max_months=max_months,
            valid_from=starts,
            set_by=actor,
            set_at=at,
        )
        after: dict[str, object] = {
            "min_months": min_months,
            "max_months": max_months,
            "valid_from": starts.isoformat(),
        }
        scope = (location_code, item_code)
        if level:
            scope = (city_code, level)
            after["city_code"] = city_code  # None: every city
        oplog.record(
            store,
            "stock_norm.set",
            "stock_norm",
            " ".join(code for code in scope if code),
            user_id=actor,
            after=after,
            location_path=where.path if (where := location or city) else None,
        )
        return NormOut(
            norm_id,
            level,
            city_code,
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
    """Every norm set, in the order set: the level norms of every city and those of
    `under`'s city, and those of places under `under` (None: everywhere, every city's)."""

    def step(store: LedgerStore) -> list[NormOut]:
        rows = nq.norm_rows(store.connection)
        store.cache_locations(
            ids={r.setting.location_id or r.setting.root_id or 0 for r in rows} - {0}
        )
        top = store.location(under, "under").path if under else None
        out = []
        for row in rows:
            s = row.setting
            place = store.location_by_id(s.location_id) if s.location_id else None
            city = store.location_by_id(s.root_id) if s.root_id else None
            shown = where.path if (where := place or city) else None
            if top is not None and shown is not None and not _reaches(top, shown, city):
                continue
            out.append(
                NormOut(
                    s.id,
                    s.level,
                    city.location.code if city else None,
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


def _reaches(top: str, path: str, city: LocationEntry | None) -> bool:
    """A place's norm is shown under `top` when the place is under it; a city's level norm
    when `top` is in that city."""
    return top.startswith(path) if city is not None else path.startswith(top)


def norm_of(store: LedgerStore, location_code: str, item_code: str, on: dt.date) -> n.Norm:
    """The norm in force at a location for an item on a day (its city's level norm before
    every city's)."""
    location = store.location(location_code, "location_code")
    item = store.item(item_code, "item_code")
    settings = [row.setting for row in nq.norm_rows(store.connection, on)]
    root_id = nq.root_id_of(store.connection, location.path)
    return n.norm_in_force(
        settings, location.location.level, location.id, item.id, on, root_id=root_id
    )


def levels_in_force(
    database: Database, city_code: str | None, on: dt.date
) -> list[tuple[str, n.Norm]]:
    """(level, the norm in force on `on` at a place of that level with no norm of its own)
    for each level, city first: in the city `city_code` (its own level norm, else every
    city's), or with None every city's level norm alone."""

    def step(store: LedgerStore) -> list[tuple[str, n.Norm]]:
        root_id = city_root(store, city_code).id if city_code else None
        settings = [
            row.setting
            for row in nq.norm_rows(store.connection, on)
            if row.setting.location_id is None
        ]
        return [
            (str(level), n.norm_in_force(settings, level, 0, 0, on, root_id=root_id))
            for level in LEVEL_NAMES
        ]

    return read(database, step)
