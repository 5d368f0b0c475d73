"""Allocation plans (分配计划): split a quantity over locations by integer weights.

The largest remainder method (Hamilton) in whole packs: each location first gets the whole
packs its share rounds down to; the packs left over go one each to the largest fractional
remainders (ties to the earlier location in the given order). A 挂图 set of 4 张 is never split.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ledger.rules import Code, LedgerError


class Share(NamedTuple):
    """weight: None until the location's population stands in for it (see
    `ledger.services.allocation`); `allocate` needs every weight."""

    location_code: str
    weight: int | None


class PlanLine(NamedTuple):
    location_code: str
    packs: int
    quantity: int  # base units: packs × pack size


class Plan(NamedTuple):
    lines: tuple[PlanLine, ...]
    allocated: int  # base units allocated in all
    unallocated: int  # base units of the request left over (part packs, or beyond available)
    pack_base_units: int = 1  # the pack the plan counts in


def allocate(
    quantity: int, shares: Sequence[Share], pack_base_units: int = 1, available: int | None = None
) -> Plan:
    """Split `quantity` base units over `shares` in whole packs, never more than `available`."""
    if quantity < 0:
        raise LedgerError(Code.quantity_must_be_positive, "分配数量不能为负", "quantity")
    if pack_base_units <= 0:
        raise LedgerError(Code.quantity_must_be_positive, "包装数量必须大于零", "pack")
    if not shares:
        raise LedgerError(Code.weights_invalid, "至少需要一个分配对象 (no locations)", "shares")
    codes = [share.location_code for share in shares]
    if len(set(codes)) != len(codes):
        raise LedgerError(Code.weights_invalid, "分配对象重复 (a location appears twice)", "shares")
    missing = [share.location_code for share in shares if share.weight is None]
    if missing:
        raise LedgerError(
            Code.weights_invalid,
            f"{'、'.join(missing[:10])} 没有权重 (a share has no weight)",
            "shares",
        )
    weights = [share.weight or 0 for share in shares]
    if any(weight < 0 for weight in weights):
        raise LedgerError(Code.weights_invalid, "权重不能为负 (weights must be ≥ 0)", "shares")
    weight_total = sum(weights)
    if weight_total == 0:
        raise LedgerError(Code.weights_invalid, "权重合计为零 (weights sum to zero)", "shares")
    cap = quantity if available is None else min(quantity, max(available, 0))
    packs_total = cap // pack_base_units
    floors = [packs_total * weight // weight_total for weight in weights]
    remainders = [packs_total * weight % weight_total for weight in weights]
    left = packs_total - sum(floors)
    order = sorted(range(len(shares)), key=lambda i: (-remainders[i], i))
    for index in order[:left]:
        floors[index] += 1
    lines = tuple(
        PlanLine(share.location_code, packs, packs * pack_base_units)
        for share, packs in zip(shares, floors, strict=True)
    )
    allocated = packs_total * pack_base_units
    return Plan(lines, allocated, quantity - allocated, pack_base_units)
