"""Reads and writes of the print-run plans (印制计划): the places of an office's area a plan
covers, and a saved plan's rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import Connection, insert, select

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
