"""Quantities in the office's units: whole packs first (捆, 盒 …), the loose rest, and the base
units beside — "3 捆 20 张（1,520 张）"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _packs(item: Any) -> Sequence[Any]:
    return getattr(item, "packs", None) or ()


def quantity_text(quantity: int, item: Any) -> str:
    """`quantity` base units of `item` (anything with .base_unit and .packs: name, base_units)
    in whole packs, largest first, the loose rest in base units, and the base units beside.
    Negative quantities keep their sign."""
    unit = getattr(item, "base_unit", "") or ""
    sign = "-" if quantity < 0 else ""
    amount = abs(quantity)
    base = f"{sign}{amount:,} {unit}".strip()
    packs = sorted(_packs(item), key=lambda pack: pack.base_units, reverse=True)
    parts: list[str] = []
    rest = amount
    for pack in packs:
        if pack.base_units > 1 and rest >= pack.base_units:
            whole, rest = divmod(rest, pack.base_units)
            parts.append(f"{whole:,} {pack.name}")
    if not parts:
        return base
    if rest:
        parts.append(f"{rest:,} {unit}")
    return f"{sign}{' '.join(parts)}（{base}）"


def number(value: Any) -> str:
    """A whole number with thousands separators; anything else as it is."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
