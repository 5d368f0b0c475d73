"""期初余额 from a spreadsheet: `ledger import opening-balances FILE --as-of DAY` and
`POST /api/v1/imports/opening-balances?as_of=DAY` (see docs/import.md).

Each row is a batch on a location's shelves. The file is checked whole against itself and the
ledger first — every problem listed with its row, nothing written — then posted as one
opening transaction (`OpenBalances`, a QC voucher from the virtual 期初 location) per location,
dated the as-of day, all of them in one database transaction: every location's or none.

A location whose unreversed opening holds exactly the file's lines (in base units, same day) is
skipped, so the same file imported twice changes nothing the second time. A location whose
opening differs is refused row by row: a wrong opening is reversed (红冲) and imported again; a
later difference is a stocktake's.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import NamedTuple

from ledger import commands as c
from ledger.db import import_rows
from ledger.db.import_lock import hold_import_lock
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database
from ledger.limits import memo_length_max, opening_lines_per_transaction_max, quantity_per_line_max
from ledger.model import Item
from ledger.posting import in_closed_period
from ledger.rules import LedgerError, check_date
from ledger.services.checks import check_code
from ledger.services.import_common import (
    ColumnSpec,
    Imported,
    ImportInvalid,
    OutsideScope,
    PostedOpening,
    Problem,
    Progress,
    Rows,
    check,
    day,
    log_import,
    stored_items,
    whole_number,
)
from ledger.services.ledger import run_command

OPENING_COLUMNS: ColumnSpec = {
    "location_code": ("库点编码", "location_code", ("库点", "location"), True),
    "item_code": ("物资编码", "item_code", ("物资", "item"), True),
    "batch_number": ("批号", "batch_number", ("印次", "批次", "batch"), True),
    "expires_on": ("有效期至", "expires_on", ("有效期", "失效日期"), False),
    "quantity": ("数量", "quantity", ("库存数量", "期初数量"), True),
    "unit": ("单位", "unit", ("计量单位",), False),
    "produced_on": ("生产日期", "produced_on", ("印制日期",), False),
}


class Place(NamedTuple):
    id: int
    name: str
    physical: bool
    path: str


class Line(NamedTuple):
    """A checked row: where, what, how many (as written and in base units)."""

    row: int
    location_code: str
    item_code: str
    batch_number: str
    quantity: int
    unit: str | None
    base_units: int
    produced_on: dt.date | None
    expires_on: dt.date | None


class Opening(NamedTuple):
    """A location's unreversed opening in the ledger."""

    number: str
    occurred_on: dt.date
    lines: dict[tuple[str, str], int]  # (item, batch) → base units


class Plan(NamedTuple):
    problems: list[Problem]
    outside: list[int]
    lines: dict[str, list[Line]]  # by location, in the file's order
    skipped: list[str]  # locations whose identical opening is already there


# ---- what the ledger holds --------------------------------------------------------------------


def _places(store: LedgerStore) -> dict[str, Place]:
    return {r.code: Place(r.id, r.name, r.physical, r.path) for r in import_rows.places(store)}


def _batches(
    store: LedgerStore, item_codes: list[str]
) -> dict[tuple[str, str], tuple[dt.date | None, dt.date | None]]:
    """(item, batch) → (produced_on, expires_on) of the batches of these items."""
    return import_rows.batch_dates(store, item_codes)


def openings(store: LedgerStore) -> dict[str, Opening]:
    """Every location's unreversed opening, with its lines."""
    return {
        row.location_code: Opening(row.number, row.occurred_on, row.lines)
        for row in import_rows.openings(store)
    }


# ---- checking ---------------------------------------------------------------------------------


def _unit_base_units(item: Item, unit: str | None) -> int | None:
    if unit is None or unit == item.base_unit:
        return 1
    pack = item.pack(unit)
    return pack.base_units if pack else None


def plan_openings(
    rows: Rows,
    as_of: dt.date,
    today: dt.date,
    places: dict[str, Place],
    items: dict[str, Item],
    batches: dict[tuple[str, str], tuple[dt.date | None, dt.date | None]],
    scope: str | None,
) -> Plan:
    """Check every row against the file and the ledger's places, items and batches (the
    checks that need more of the ledger — closed periods, existing openings — follow)."""
    problems: list[Problem] = _as_of_problems(as_of, today)
    outside: list[int] = []
    by_location: dict[str, list[Line]] = {}
    seen: dict[tuple[str, str, str], int] = {}
    first_dates: dict[tuple[str, str], tuple[int, dt.date | None, dt.date | None]] = {}
    for number, row in rows:
        before = len(problems)
        code = row["location_code"].strip()
        place = places.get(code)
        place_problem = _place_problem(number, code, place)
        if place_problem is not None:
            problems.append(place_problem)
        elif place is not None and scope is not None and not place.path.startswith(scope):
            outside.append(number)
            continue
        item_code = row["item_code"].strip()
        item = items.get(item_code)
        if item is None:
            problems.append(
                Problem(number, "物资编码", f"账本中没有编码为 {item_code!r} 的物资")
                if item_code
                else Problem(number, "物资编码", "物资编码不能为空")
            )
        batch_number = row["batch_number"].strip()
        check(problems, number, "批号", check_code, batch_number, "批号")
        quantity = whole_number(row["quantity"], "数量")
        if isinstance(quantity, str):
            problems.append(Problem(number, "数量", quantity))
        unit = row.get("unit", "").strip() or None
        per_unit = _unit_base_units(item, unit) if item else 1
        if item is not None and per_unit is None:
            known = "、".join([item.base_unit, *(p.name for p in item.packs)])
            problems.append(
                Problem(number, "单位", f"{item.name} 没有单位 {unit!r}，可用：{known}")
            )
        produced, expires = _row_dates(
            number, row, item, batch_number, batches, first_dates, problems
        )
        if len(problems) > before or item is None or place is None:
            continue
        assert isinstance(quantity, int) and per_unit is not None
        line = Line(
            number,
            code,
            item_code,
            batch_number,
            quantity,
            unit,
            quantity * per_unit,
            produced,
            expires,
        )
        problem = _line_problem(line, item, seen)
        if problem is not None:
            problems.append(problem)
            continue
        seen[(code, item_code, batch_number)] = number
        by_location.setdefault(code, []).append(line)
    for code, lines in by_location.items():
        if len(lines) > opening_lines_per_transaction_max:
            problems.append(
                Problem(
                    lines[opening_lines_per_transaction_max].row,
                    "库点编码",
                    f"{code} 的期初有 {len(lines)} 行，一张期初建账单最多 "
                    f"{opening_lines_per_transaction_max} 行",
                )
            )
    return Plan(problems, outside, by_location, [])


def _place_problem(number: int, code: str, place: Place | None) -> Problem | None:
    """What is wrong with a row's 库点编码, if anything (a place outside the admin's scope is
    not a problem: its row is reported as outside)."""
    if not code:
        return Problem(number, "库点编码", "库点编码不能为空")
    if place is None:
        return Problem(number, "库点编码", f"账本中没有编码为 {code} 的库点")
    if not place.physical:
        return Problem(number, "库点编码", f"{code} {place.name} 是虚拟库点，期初只能记在实际库点")
    return None


def _as_of_problems(as_of: dt.date, today: dt.date) -> list[Problem]:
    try:
        check_date(as_of, "as_of")
    except LedgerError as error:
        return [Problem(0, "建账日期", error.message)]
    if as_of > today:
        return [
            Problem(
                0,
                "建账日期",
                f"建账日期 {as_of} 晚于今天 {today}：期初是开始用账本那天架上已有的库存 "
                "(as-of in the future)",
            )
        ]
    return []


def _row_dates(
    number: int,
    row: dict[str, str],
    item: Item | None,
    batch_number: str,
    batches: dict[tuple[str, str], tuple[dt.date | None, dt.date | None]],
    first_dates: dict[tuple[str, str], tuple[int, dt.date | None, dt.date | None]],
    problems: list[Problem],
) -> tuple[dt.date | None, dt.date | None]:
    """The row's (produced_on, expires_on), each None when empty or unreadable; their problems
    (and the batch's, beside the row's other problems) added to `problems`."""
    dates = {}
    dates_read = True
    for key, label in (("expires_on", "有效期至"), ("produced_on", "生产日期")):
        value = day(row.get(key, ""), label)
        if isinstance(value, str):
            problems.append(Problem(number, label, value))
            value, dates_read = None, False
        dates[key] = value
    expires, produced = dates["expires_on"], dates["produced_on"]
    if item is not None and not item.expiry_tracked and expires is not None:
        problems.append(Problem(number, "有效期至", f"{item.name} 不管理有效期，有效期至应空着"))
    if expires and produced and produced > expires:
        problems.append(Problem(number, "生产日期", f"生产日期 {produced} 晚于有效期至 {expires}"))
    if item is not None and batch_number and dates_read:
        problem = _batch_dates(number, item, batch_number, produced, expires, batches, first_dates)
        if problem is not None:
            problems.append(problem)
    return produced, expires


def _line_problem(line: Line, item: Item, seen: dict[tuple[str, str, str], int]) -> Problem | None:
    """A line above the per-line limit, or a second line of a location's batch."""
    if line.base_units > quantity_per_line_max:
        return Problem(
            line.row,
            "数量",
            f"{line.quantity} {line.unit} 合 {line.base_units} {item.base_unit}，每行最多 "
            f"{quantity_per_line_max} {item.base_unit}",
        )
    key = (line.location_code, line.item_code, line.batch_number)
    if key in seen:
        return Problem(
            line.row,
            "批号",
            f"{line.location_code} 的 {line.item_code} 批号 {line.batch_number} 与第 {seen[key]} "
            "行重复：同一库点的同一批次只写一行",
        )
    return None


def _batch_dates(
    number: int,
    item: Item,
    batch_number: str,
    produced: dt.date | None,
    expires: dt.date | None,
    batches: dict[tuple[str, str], tuple[dt.date | None, dt.date | None]],
    first_dates: dict[tuple[str, str], tuple[int, dt.date | None, dt.date | None]],
) -> Problem | None:
    """A batch already recorded keeps its dates; a new one is made by its first row, which must
    give the expiry of an item that tracks it; later rows may leave the dates out."""
    key = (item.code, batch_number)
    recorded = batches.get(key)
    if recorded is not None:
        known_produced, known_expires = recorded
        if (expires is not None and expires != known_expires) or (
            produced is not None and produced != known_produced
        ):
            return Problem(
                number,
                "有效期至" if expires is not None and expires != known_expires else "生产日期",
                f"{item.name} 批号 {batch_number} 已登记：生产日期 {known_produced or '—'}，"
                f"有效期至 {known_expires or '—'}，与本行不一致；批次的日期改动请用批次版本",
            )
        return None
    first = first_dates.get(key)
    if first is None:
        if item.expiry_tracked and expires is None:
            return Problem(
                number, "有效期至", f"{item.name} 管理有效期：新批号 {batch_number} 必须填有效期至"
            )
        first_dates[key] = (number, produced, expires)
        return None
    first_row, first_produced, first_expires = first
    if (expires is not None and expires != first_expires) or (
        produced is not None and produced != first_produced
    ):
        return Problem(
            number,
            "有效期至" if expires is not None and expires != first_expires else "生产日期",
            f"{item.name} 批号 {batch_number} 的日期与第 {first_row} 行不一致（同一批号只有一组日期）",
        )
    return None


def compare_existing(
    plan: Plan, as_of: dt.date, existing: dict[str, Opening], items: dict[str, Item]
) -> None:
    """A location whose opening is already there: skipped when it holds exactly the file's
    lines on the same day, refused row by row otherwise."""
    for code, lines in plan.lines.items():
        opening = existing.get(code)
        if opening is None:
            continue
        wanted = {(line.item_code, line.batch_number): line.base_units for line in lines}
        if wanted == opening.lines and opening.occurred_on == as_of:
            plan.skipped.append(code)
            continue
        remedy = f"如需更正，先红冲 {opening.number} 再导入"
        if opening.occurred_on != as_of:
            plan.problems.append(
                Problem(
                    lines[0].row,
                    "库点编码",
                    f"{code} 已有期初建账单 {opening.number}，建账日期 {opening.occurred_on}，"
                    f"与本次 {as_of} 不同；{remedy}",
                )
            )
        for line in lines:
            held = opening.lines.get((line.item_code, line.batch_number))
            unit = items[line.item_code].base_unit
            if held == line.base_units:
                continue
            what = (
                f"其中没有 {line.item_code} 批号 {line.batch_number}"
                if held is None
                else f"其中 {line.item_code} 批号 {line.batch_number} 为 {held} {unit}，"
                f"本行为 {line.base_units} {unit}"
            )
            plan.problems.append(
                Problem(
                    line.row, "数量", f"{code} 已有期初建账单 {opening.number}，{what}；{remedy}"
                )
            )
        for (item_code, batch_number), held in opening.lines.items():
            if (item_code, batch_number) not in wanted:
                unit = items[item_code].base_unit if item_code in items else ""
                plan.problems.append(
                    Problem(
                        lines[0].row,
                        "库点编码",
                        f"{code} 的期初建账单 {opening.number} 有 {item_code} 批号 "
                        f"{batch_number} {held} {unit}，文件中没有；{remedy}",
                    )
                )


def check_closed(store: LedgerStore, plan: Plan, as_of: dt.date, places: dict[str, Place]) -> None:
    """An opening dated in a city's closed period (月结) is refused at that city's rows."""
    for code, lines in plan.lines.items():
        root = places[code].path.split("/")[1]
        closed = store.closed_through(store.location(root))
        if in_closed_period(as_of, closed):
            plan.problems.append(
                Problem(
                    lines[0].row,
                    "库点编码",
                    f"{places[root].name} {closed} 及以前已月结，建账日期 {as_of} 须晚于 {closed}",
                )
            )


# ---- the import -------------------------------------------------------------------------------


def import_openings(
    database: Database,
    name: str,
    rows: Rows,
    as_of: dt.date,
    today: dt.date,
    actor: int | None,
    scope: str | None,
    progress: Progress | None = None,
    length: Progress | None = None,
) -> Imported:
    memo = f"期初建账：导入 {name}"[:memo_length_max]

    def work(store: LedgerStore) -> Imported:
        hold_import_lock(store)  # a second import of the same file plans on the first's openings
        store = store.acting(actor, today)
        places = _places(store)
        items = stored_items(store)
        codes = sorted({row["item_code"].strip() for _, row in rows} & set(items))
        plan = plan_openings(rows, as_of, today, places, items, _batches(store, codes), scope)
        if plan.outside:
            raise OutsideScope(plan.outside, "的库点不在您所在市的账内 (rows outside your city)")
        check_closed(store, plan, as_of, places)
        compare_existing(plan, as_of, openings(store), items)
        if plan.problems:
            raise ImportInvalid(sorted(plan.problems), len(rows))
        todo = {code: lines for code, lines in plan.lines.items() if code not in plan.skipped}
        if length is not None:
            length(sum(len(lines) for lines in todo.values()))
        posted = []
        for code, lines in todo.items():
            command = c.OpenBalances(
                code,
                tuple(
                    c.ReceiptLine(
                        line.item_code,
                        line.batch_number,
                        line.quantity,
                        line.unit,
                        line.produced_on,
                        line.expires_on,
                    )
                    for line in lines
                ),
                as_of,
                memo,
            )
            try:
                made = run_command(store, command, today)
            except LedgerError as error:  # e.g. a later movement of one of its accounts
                problem = Problem(lines[0].row, "库点编码", error.message)
                raise ImportInvalid([problem], len(rows)) from None
            totals: Counter[str] = Counter()
            for line in lines:
                totals[items[line.item_code].base_unit] += line.base_units
            posted.append(
                PostedOpening(code, places[code].name, made.number, len(lines), dict(totals))
            )
            if progress:
                progress(len(lines))
        skipped_rows = sum(len(plan.lines[code]) for code in plan.skipped)
        done = Imported(
            "opening-balances", len(rows), [], [], skipped_rows, posted, list(plan.skipped)
        )
        if posted:
            log_import(store, done, name, scope, [places[p.location_code].path for p in posted])
        return done

    return database.write(work)
