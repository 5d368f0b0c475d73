"""Allocation plans (分配计划): compute a split of stock over locations and push it down as issues."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ledger import commands as c
from ledger.allocation import Plan, Share, allocate
from ledger.db import balance_queries, reference_queries
from ledger.db.unit_of_work import Database
from ledger.limits import shares_per_plan_max
from ledger.model import Transaction
from ledger.rules import Code, LedgerError
from ledger.services.ledger import execute_many
from ledger.services.work import day


def make_plan(
    database: Database,
    source_code: str,
    item_code: str,
    quantity: int,
    shares: Sequence[Share],
    unit: str | None = None,
    today: dt.date | None = None,
    batch_number: str | None = None,
) -> Plan:
    """Split `quantity` base units of an item over `shares` in whole `unit` packs (the item's
    first pack when omitted), never more than the source has available (unexpired on `today`;
    of `batch_number` alone when given). A share without a weight takes its location's
    population (人口); one with neither is refused (`weights_invalid`)."""
    today = day(today)
    if len(shares) > shares_per_plan_max:
        raise LedgerError(
            Code.too_many_lines,
            f"一个分配计划最多 {shares_per_plan_max} 个分配对象 (at most {shares_per_plan_max} shares)",
            "shares",
        )

    def compute(store):
        item = store.item(item_code)
        if batch_number is not None:
            store.batch(item, batch_number, "batch_number")
        store.location(source_code, "source_code")
        for share in shares:
            store.location(share.location_code, "shares")
        weighted = _with_populations(store, shares)
        pack_units = item.item.shipping_pack_base_units
        if unit is not None and unit != item.item.base_unit:
            pack = item.item.pack(unit)
            if pack is None:
                raise LedgerError(Code.unknown_pack, f"{item.item.name} 没有包装 {unit!r}", "unit")
            pack_units = pack.base_units
        elif unit == item.item.base_unit:
            pack_units = 1
        return pack_units, weighted

    pack_units, weighted = database.lookup(compute)
    with database.read() as connection:
        lines = balance_queries.balances(
            connection, location_code=source_code, item_code=item_code, batch_number=batch_number
        )
    available = sum(
        line.available for line in lines if line.expires_on is None or line.expires_on >= today
    )
    return allocate(quantity, weighted, pack_units, available)


def _with_populations(store, shares: Sequence[Share]) -> list[Share]:
    """The shares, each omitted weight replaced by its location's population."""
    codes = [share.location_code for share in shares if share.weight is None]
    if not codes:
        return list(shares)
    populations = reference_queries.populations(store.connection, codes)
    unknown = [code for code in codes if populations.get(code) is None]
    if unknown:
        shown = "、".join(f"{store.location(code).location.name}({code})" for code in unknown[:10])
        raise LedgerError(
            Code.weights_invalid,
            f"{shown}{' 等' if len(unknown) > 10 else ''} 没有人口数：请给出权重 weight，或先在库点导入中"
            "填写人口 (no weight given and no population recorded)",
            "shares",
        )
    return [
        share
        if share.weight is not None
        else Share(share.location_code, populations[share.location_code])
        for share in shares
    ]


def issue_plan(
    database: Database,
    plan: Plan,
    source_code: str,
    item_code: str,
    occurred_on: dt.date | None = None,
    memo: str = "",
    idempotency_key: str | None = None,
    actor: int | None = None,
    today: dt.date | None = None,
    batch_number: str | None = None,
) -> list[Transaction]:
    """Issue each line of the plan from the source (FEFO, or from `batch_number` when given),
    all in one database transaction."""
    issues = [
        c.Issue(
            source_code,
            line.location_code,
            (c.LineSpec(item_code, line.quantity, batch_number),),
            occurred_on=occurred_on,
            memo=memo,
            idempotency_key=f"{idempotency_key}/{line.location_code}" if idempotency_key else None,
        )
        for line in plan.lines
        if line.quantity > 0
    ]
    return execute_many(database, issues, actor, today)
