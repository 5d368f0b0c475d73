"""Reads and writes of the print-run plans (印制计划): the places of an office's area a plan
covers, and a saved plan's rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import Connection, func, insert, select

from ledger.db import tables as t


class AreaPlace(NamedTuple):
    id: int
    parent_id: int | None
    code: str
    name: str
    level: str
    population: int | None


def area_places(connection: Connection, path: str, levels: Sequence[str]) -> list[AreaPlace]:
    """The physical places of `path`'s subtree at `levels`, each after its parent (tree
    order: a path sorts after its prefix)."""
    loc = t.locations.c
    rows = connection.execute(
        select(loc.id, loc.parent_id, loc.code, loc.name, loc.level, loc.population)
        .where(
            loc.physical,
            loc.path.startswith(path, autoescape=True),
            loc.level.in_(list(levels)),
        )
        .order_by(loc.path)
    )
    return [AreaPlace(*row) for row in rows]


def insert_plan(connection: Connection, values: dict, lines: list[dict]) -> int:
    plan_id = connection.execute(
        insert(t.print_plans).returning(t.print_plans.c.id), values
    ).scalar_one()
    connection.execute(insert(t.print_plan_lines), [{**line, "plan_id": plan_id} for line in lines])
    return plan_id


def plan_row(connection: Connection, number: str):
    """The saved plan's row (a mapping of its columns), or None."""
    return (
        connection.execute(select(t.print_plans).where(t.print_plans.c.number == number))
        .mappings()
        .first()
    )


def line_rows(connection: Connection, plan_id: int) -> list:
    """A saved plan's lines in tree order (mappings of their columns)."""
    lines = t.print_plan_lines
    return list(
        connection.execute(
            select(lines).where(lines.c.plan_id == plan_id).order_by(lines.c.position)
        ).mappings()
    )


class PlanSummary(NamedTuple):
    """A saved plan as a list shows it: its number and title, item, office, target level,
    pack, and its figures in base units."""

    number: str
    title: str
    item_code: str
    item_name: str
    base_unit: str
    office_code: str
    office_name: str
    level: str
    pack_name: str
    pack_base_units: int
    total: int
    to_print: int
    made_on: dt.date


def plan_summaries(connection: Connection, path: str | None, limit: int) -> list[PlanSummary]:
    """The saved plans of offices in `path`'s subtree (None: every office), newest first."""
    plan, loc, item = t.print_plans.c, t.locations.c, t.items.c
    query = (
        select(
            plan.number,
            plan.title,
            item.code,
            item.name,
            item.base_unit,
            loc.code,
            loc.name,
            plan.level,
            plan.pack_name,
            plan.pack_base_units,
            plan.total,
            plan.to_print,
            plan.made_on,
        )
        .join(t.locations, loc.id == plan.office_id)
        .join(t.items, item.id == plan.item_id)
        .order_by(plan.id.desc())
        .limit(limit)
    )
    if path is not None:
        query = query.where(loc.path.startswith(path, autoescape=True))
    return [PlanSummary._make(row) for row in connection.execute(query)]


def lock_plan(connection: Connection, number: str):
    """The saved plan's row, locked FOR UPDATE on PostgreSQL until the unit of work ends (two
    clerks applying the same plan at once: the second sees what the first shipped; SQLite's
    writers are serialised already), or None."""
    plans = t.print_plans
    query = select(plans).where(plans.c.number == number).with_for_update()
    return connection.execute(query).mappings().first()


def shipped(connection: Connection, plan_id: int) -> dict[int, int]:
    """Base units issued under the plan to each place (location id), from the source's side of
    each issue; an issue that has been reversed (红冲) counts as not shipped."""
    issue, posting, tx = t.print_plan_issues.c, t.postings.c, t.transactions.c
    reversal = select(tx.id).where(tx.reverses_id == issue.transaction_id).exists()
    rows = connection.execute(
        select(issue.location_id, func.sum(-posting.quantity))
        .join(
            t.postings,
            (posting.transaction_id == issue.transaction_id)
            & (posting.location_id == issue.source_id),
        )
        .where(issue.plan_id == plan_id, ~reversal)
        .group_by(issue.location_id)
    )
    return {location_id: int(quantity) for location_id, quantity in rows}


def record_issues(
    connection: Connection, plan_id: int, source_id: int, issues: Sequence[tuple[int, int]]
) -> None:
    """Link the issues (transaction id, destination id) to the plan; an issue already linked
    (the same command replayed under its idempotency key) is left as it is."""
    table = t.print_plan_issues
    ids = [transaction_id for transaction_id, _ in issues]
    known = set(
        connection.execute(select(table.c.transaction_id).where(table.c.transaction_id.in_(ids)))
        .scalars()
        .all()
    )
    rows = [
        {
            "transaction_id": transaction_id,
            "plan_id": plan_id,
            "source_id": source_id,
            "location_id": location_id,
        }
        for transaction_id, location_id in issues
        if transaction_id not in known
    ]
    if rows:
        connection.execute(insert(table), rows)
