"""印制计划 (print-run plans): make one for an office's area from its places' populations and a
coverage target, keep it under a number (YZ-2026-000001), read it back, and turn it into an
allocation plan (分配计划) when the print run arrives. The rule itself is ledger/print_plan.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from fractions import Fraction
from typing import NamedTuple

from ledger import commands as c
from ledger import print_plan as pp
from ledger.allocation import Plan, allocate
from ledger.db import balance_queries, oplog
from ledger.db import print_plan_queries as q
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database
from ledger.limits import name_length_max
from ledger.model import ItemKind, Transaction
from ledger.rules import Code, LedgerError, check_one_line, check_text
from ledger.services.ledger import run_command
from ledger.services.work import day, read, write

NUMBER_PREFIX = "YZ"  # 印制


class IssueOrder(NamedTuple):
    """How to issue an allocation from a plan: the base units to split (None: all that is
    due), 出库日期 (None: today), 摘要, the idempotency key (each issue's is key/place), the
    batch to issue from (None: FEFO), the item the caller believes the plan is for."""

    quantity: int | None = None
    occurred_on: dt.date | None = None
    memo: str = ""
    key: str | None = None
    batch_number: str | None = None
    item_code: str | None = None


class Terms(NamedTuple):
    """What a plan is asked for: an item, the office whose area it covers, the target level,
    the coverage target, the spare kept at each level above (percent), persons per household,
    the pack to count in (the item's first pack when None; its base unit for loose units),
    whether the office's stock comes off what to print, and a title."""

    office_code: str
    item_code: str
    level: str
    target: pp.Target
    spare_percent: int = 0
    household_size: Fraction = pp.HOUSEHOLD_SIZE_DEFAULT
    pack: str | None = None
    deduct_stock: bool = True
    title: str = ""


class PrintPlanOut(NamedTuple):
    """A plan as made or saved: number None until saved; names for people; the figures."""

    number: str | None
    title: str
    terms: Terms
    item_name: str
    base_unit: str
    pack_name: str
    office_name: str
    plan: pp.PrintPlan
    made_on: dt.date
    made_by: str | None


def _pack(item, pack: str | None) -> tuple[str, int]:
    """(name, base units) of the pack a plan counts in."""
    if pack is None:
        return (item.packs[0].name, item.packs[0].base_units) if item.packs else (item.base_unit, 1)
    if pack == item.base_unit:
        return item.base_unit, 1
    found = item.pack(pack)
    if found is None:
        names = "、".join([item.base_unit, *(p.name for p in item.packs)])
        raise LedgerError(
            Code.unknown_pack, f"{item.name} 没有包装 {pack}（可用：{names}）", "pack"
        )
    return found.name, found.base_units


def _tree_order(rows: Sequence[q.AreaPlace], office_id: int) -> list[pp.Place]:
    """The office, then each place after its parent (depth first, by code)."""
    children: dict[int | None, list[q.AreaPlace]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    codes = {row.id: row.code for row in rows}
    office = next(row for row in rows if row.id == office_id)
    out: list[pp.Place] = []
    stack = [office]
    while stack:
        row = stack.pop()
        parent = None if row.id == office_id else codes.get(row.parent_id or 0)
        out.append(pp.Place(row.code, row.name, parent, row.level, row.population))
        stack.extend(sorted(children.get(row.id, []), key=lambda r: r.code, reverse=True))
    return out


def _office_stock(store: LedgerStore, office_code: str, item_code: str, today: dt.date) -> int:
    lines = balance_queries.balances(
        store.connection, location_code=office_code, item_code=item_code
    )
    return sum(
        line.available for line in lines if line.expires_on is None or line.expires_on >= today
    )


def _compute(store: LedgerStore, terms: Terms, today: dt.date):
    item = store.item(terms.item_code, "item_code")
    if item.item.kind is not ItemKind.printed:
        raise LedgerError(
            Code.print_plan_target_invalid,
            f"{item.item.name} 不是宣传品：印制计划只用于年画、挂图等宣传品 (printed matter only)",
            "item_code",
        )
    office = store.location(terms.office_code, "office_code")
    if not office.physical:
        raise LedgerError(
            Code.location_must_be_physical,
            f"{office.location.name} 是虚拟库点，不能做印制计划 (a physical office only)",
            "office_code",
        )
    pack_name, pack_units = _pack(item.item, terms.pack)
    top = office.location.level.value
    levels = pp.LEVELS[pp.LEVELS.index(top) :] if top in pp.LEVELS else ()
    if terms.level in pp.LEVELS:
        levels = levels[: pp.LEVELS.index(terms.level) + 1]
    rows = q.area_places(store.connection, office.path, levels or (top,))
    places = _tree_order(rows, office.id)
    on_hand = _office_stock(store, terms.office_code, terms.item_code, today)
    plan = pp.plan_print(
        places,
        terms.level,
        terms.target,
        pack_units,
        terms.spare_percent,
        terms.household_size,
        on_hand if terms.deduct_stock else 0,
    )
    return item, office, pack_name, plan, {row.code: row.id for row in rows}


def make_print_plan(
    database: Database,
    terms: Terms,
    save: bool = False,
    actor: int | None = None,
    today: dt.date | None = None,
) -> PrintPlanOut:
    """The plan for `terms`; with `save`, kept under a new number (logged: print_plan.save)."""
    office_day = day(today)
    check_text(terms.title, "title", name_length_max, required=False)
    check_one_line(terms.title, "title", "标题")
    title = terms.title.strip()

    def step(store: LedgerStore) -> PrintPlanOut:
        item, office, pack_name, plan, ids = _compute(store, terms, office_day)
        number = None
        if save:
            number = store.next_number_for(NUMBER_PREFIX, office_day.year)
            head = (number, title, item.id, office.id, pack_name, office_day, actor)
            _save(store, head, terms, plan, ids)
            oplog.record(
                store,
                "print_plan.save",
                "print_plan",
                number,
                user_id=actor,
                after={"item": terms.item_code, "total": plan.total, "to_print": plan.to_print},
                location_path=office.path,
            )
        return PrintPlanOut(
            number,
            title,
            terms._replace(title=title, pack=pack_name),
            item.item.name,
            item.item.base_unit,
            pack_name,
            office.location.name,
            plan,
            office_day,
            store.user_label(actor) if save else None,
        )

    return write(database, step, actor, office_day) if save else read(database, step)


def _save(store: LedgerStore, head: tuple, terms: Terms, plan: pp.PrintPlan, ids: dict) -> None:
    number, title, item_id, office_id, pack_name, made_on, actor = head
    target = terms.target
    values = {
        "number": number,
        "title": title,
        "item_id": item_id,
        "office_id": office_id,
        "level": terms.level,
        "basis": target.basis.value,
        "copies": target.copies,
        "per_units": target.per,
        "coverage_percent": target.coverage_percent,
        "spare_percent": terms.spare_percent,
        "household_size_hundredths": int(terms.household_size * 100),
        "pack_name": pack_name,
        "pack_base_units": plan.pack_base_units,
        "total": plan.total,
        "deduct_stock": terms.deduct_stock,
        "on_hand": plan.on_hand,
        "to_print": plan.to_print,
        "made_on": made_on,
        "made_by": actor,
        "made_at": store.recorded_at,
    }
    lines = [
        {
            "position": position,
            "location_id": ids[line.location_code],
            "parent_id": ids[line.parent_code] if line.parent_code else None,
            "level": line.level,
            "target": line.target,
            "population": line.population,
            "units": line.units,
            "need": line.need,
            "packs": line.packs,
            "quantity": line.quantity,
            "subtree": line.subtree,
        }
        for position, line in enumerate(plan.lines)
    ]
    q.insert_plan(store.connection, values, lines)


def get_print_plan(database: Database, number: str) -> PrintPlanOut:
    """A saved plan, as it was made (populations and stock of that day)."""
    return read(database, lambda store: saved_plan(store, number))


def saved_plan(store: LedgerStore, number: str) -> PrintPlanOut:
    row = q.plan_row(store.connection, number)
    if row is None:
        raise LedgerError(Code.unknown_print_plan, f"没有印制计划 {number}", "number")
    item = store.item_by_id(row["item_id"]).item
    office = store.location_by_id(row["office_id"]).location

    def code(location_id: int | None) -> str | None:
        return None if location_id is None else store.location_by_id(location_id).location.code

    lines = []
    for line in q.line_rows(store.connection, row["id"]):
        place = store.location_by_id(line["location_id"]).location
        lines.append(
            pp.PrintLine(
                place.code,
                place.name,
                code(line["parent_id"]),
                line["level"],
                line["target"],
                line["population"],
                line["units"],
                line["need"],
                line["packs"],
                line["quantity"],
                line["subtree"],
            )
        )
    terms = Terms(
        office.code,
        item.code,
        row["level"],
        pp.Target(pp.Basis(row["basis"]), row["copies"], row["per_units"], row["coverage_percent"]),
        row["spare_percent"],
        Fraction(row["household_size_hundredths"], 100),
        row["pack_name"],
        bool(row["deduct_stock"]),
        row["title"],
    )
    plan = pp.PrintPlan(
        tuple(lines), row["pack_base_units"], row["total"], row["on_hand"], row["to_print"]
    )
    return PrintPlanOut(
        row["number"],
        row["title"],
        terms,
        item.name,
        item.base_unit,
        row["pack_name"],
        office.name,
        plan,
        row["made_on"],
        store.user_label(row["made_by"]),
    )


class Split(NamedTuple):
    """An allocation from a saved plan: the plan as saved, where each place below its office
    stands (planned, shipped, due), and the split from the source of what is due."""

    saved: PrintPlanOut
    shipping: tuple[pp.Shipping, ...]
    plan: Plan


def _split(
    store: LedgerStore,
    number: str,
    source_code: str,
    quantity: int | None,
    today: dt.date,
    batch_number: str | None = None,
    item_code: str | None = None,
) -> Split:
    """The places of the saved plan right below the source, each weighted by what is still due
    to it, in whole packs of the plan's pack; `quantity` (default: all that is due) capped at
    what is due and at what the source has available (unexpired on `today`)."""
    saved = saved_plan(store, number)
    if item_code is not None and item_code != saved.terms.item_code:
        raise LedgerError(
            Code.print_plan_source_outside,
            f"印制计划 {number} 是 {saved.item_name}（{saved.terms.item_code}）的，不是 {item_code}",
            "item_code",
        )
    store.location(source_code, "source_code")
    shipping = pp.shipping(saved.plan.lines, shipped_codes(store, number))
    sent = {place.location_code: place.shipped for place in shipping}
    shares = pp.allocation_shares(saved.plan.lines, source_code, sent)
    due = sum(share.weight or 0 for share in shares)
    asked = due if quantity is None else quantity
    if batch_number is not None:
        store.batch(store.item(saved.terms.item_code), batch_number, "batch_number")
    held = balance_queries.balances(
        store.connection,
        location_code=source_code,
        item_code=saved.terms.item_code,
        batch_number=batch_number,
    )
    available = sum(
        line.available for line in held if line.expires_on is None or line.expires_on >= today
    )
    plan = allocate(asked, shares, saved.plan.pack_base_units, min(available, due))
    return Split(saved, shipping, plan)


def shipped_codes(store: LedgerStore, number: str) -> dict[str, int]:
    """Base units shipped under the saved plan to each place (by code), reversals excluded."""
    row = q.plan_row(store.connection, number)
    if row is None:
        raise LedgerError(Code.unknown_print_plan, f"没有印制计划 {number}", "number")
    return {
        store.location_by_id(location_id).location.code: quantity
        for location_id, quantity in q.shipped(store.connection, row["id"]).items()
    }


def print_plan_shipping(database: Database, number: str) -> tuple[pp.Shipping, ...]:
    """Each place of the saved plan below its office: 计划 / 已发 / 待发 (base units)."""

    def step(store: LedgerStore) -> tuple[pp.Shipping, ...]:
        saved = saved_plan(store, number)
        return pp.shipping(saved.plan.lines, shipped_codes(store, number))

    return read(database, step)


def allocation_from_print_plan(
    database: Database,
    number: str,
    source_code: str,
    quantity: int | None = None,
    today: dt.date | None = None,
    batch_number: str | None = None,
    item_code: str | None = None,
) -> Plan:
    """The allocation plan (分配计划) from `source_code` when the print run arrives: the places
    of the saved plan right below the source, each weighted by what is still due to it (its
    subtree's quantity less what has been shipped to it under the plan, reversals not
    counted), in the plan's pack; `quantity` defaults to all that is due, so where the source
    holds enough each place gets exactly what it is still due (less stock: the largest
    remainder scales down; more asked than is due: the rest stays unallocated). Nothing due:
    print_plan_fully_shipped. `item_code`, when given, must be the plan's."""
    office_day = day(today)
    return read(
        database,
        lambda store: (
            _split(store, number, source_code, quantity, office_day, batch_number, item_code).plan
        ),
    )


def issue_print_plan(
    database: Database,
    number: str,
    source_code: str,
    order: IssueOrder,
    actor: int | None = None,
    today: dt.date | None = None,
) -> tuple[Plan, list[Transaction]]:
    """下发: the allocation from the source (`allocation_from_print_plan`'s) issued line by line
    (FEFO, or `order.batch_number`), each issue linked to the plan in the same database
    transaction, so that what it ships is no longer due. The plan's row is locked while the
    split is worked out and issued. Refused: a quantity not above zero
    (quantity_must_be_positive), nothing due (print_plan_fully_shipped), nothing the source
    can send in whole packs (exceeds_available)."""
    office_day = day(today)
    if order.quantity is not None and order.quantity <= 0:
        raise LedgerError(
            Code.quantity_must_be_positive, f"分配数量须大于零：{order.quantity}", "quantity"
        )

    def step(store: LedgerStore) -> tuple[Plan, list[Transaction]]:
        row = q.lock_plan(store.connection, number)
        if row is None:
            raise LedgerError(Code.unknown_print_plan, f"没有印制计划 {number}", "number")
        split = _split(
            store,
            number,
            source_code,
            order.quantity,
            office_day,
            order.batch_number,
            order.item_code,
        )
        plan = split.plan
        if plan.allocated == 0:
            pack = f"{plan.pack_base_units} {split.saved.base_unit}"
            raise LedgerError(
                Code.exceeds_available,
                f"{source_code} 没有可按计划下发的库存（至少一整{split.saved.pack_name}，{pack}）"
                "，或所填数量不足一整包 (nothing to issue)",
                "quantity" if order.quantity is not None else "source_code",
            )
        item_code = split.saved.terms.item_code
        issues = [
            c.Issue(
                source_code,
                line.location_code,
                (c.LineSpec(item_code, line.quantity, order.batch_number),),
                occurred_on=order.occurred_on,
                memo=order.memo,
                idempotency_key=f"{order.key}/{line.location_code}" if order.key else None,
            )
            for line in plan.lines
            if line.quantity > 0
        ]
        made = [run_command(store, issue, office_day) for issue in issues]
        store.flush()  # the issues' rows first: the links refer to them
        q.record_issues(
            store.connection,
            row["id"],
            store.location(source_code).id,
            [(tx.sequence, store.location(tx.counterparty_code or "").id) for tx in made],
        )
        return plan, made

    return write(database, step, actor, office_day)


def saved_print_plans(
    database: Database, under_path: str | None, limit: int = 200
) -> list[q.PlanSummary]:
    """The saved plans of the offices in a subtree (`under_path`; None: all), newest first."""
    return read(database, lambda store: q.plan_summaries(store.connection, under_path, limit))
