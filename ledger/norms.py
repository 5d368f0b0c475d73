"""库存定额: stock norms, average monthly consumption (AMC) and suggested request quantities.
Pure: no I/O. The services (ledger/services/norms.py) read the figures and call these.

- A **norm** is a minimum and a maximum stock in months of consumption. Each level of the tree
  has one (`LEVEL_DEFAULTS` until set), set for every city of the database or for one city
  (root location); a location may override it for every item or for one item. Norms are
  dated: the one in force on a day is the newest set valid on it, the most specific first
  (location and item, then location, then the city's level, then every city's level, then the
  default).
- **Consumption** of a location is what left its subtree for use: distributed to the public
  (发放) plus write-offs whose reason counts as use (`USE_WRITE_OFF_REASONS`), less reversals
  of those. **AMC** is its average over the window's months (`window`), ignoring stock-out
  months of items handed out continuously (contraceptives): see `is_stock_out`.
- **Suggested quantity** = max stock − (on hand + in transit + on order), rounded up to whole
  packs, never negative (on order, 已申领未到: what the place's open requests still expect —
  submitted ones in full, approved ones what is not yet shipped); min and max stock are AMC × months (rounded up to whole base units), and
  never below the location's explicit 最低库存 where one is set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from enum import StrEnum
from fractions import Fraction
from typing import NamedTuple

from ledger.model import Item, ItemKind, LocationLevel, WriteOffReason

# Defaults in months (min, max) per level, in force until a level's norm is set.
LEVEL_DEFAULTS: dict[LocationLevel, tuple[int, int]] = {
    LocationLevel.city: (3, 6),
    LocationLevel.county: (2, 4),
    LocationLevel.township: (1, 3),
    LocationLevel.village: (1, 2),
}
WINDOW_MONTHS = (3, 6, 12)  # the AMC window may be this many whole months
# Write-offs that count as use: stock lost in the handling (破损/霉变, 丢失) has to be replaced
# at the rate it happens. Expired stock (过期) is a symptom of overstock and a recall (召回) a
# maker's one-off: counting them would ask for more of what was already too much.
USE_WRITE_OFF_REASONS: frozenset[str] = frozenset({WriteOffReason.damaged, WriteOffReason.lost})


class NormSource(StrEnum):
    """Where the norm in force comes from, most specific first."""

    location_item = "location_item"  # 本库点本物资
    location = "location"  # 本库点全部物资
    city_level = "city_level"  # 本市本级: the level's norm set for the place's city
    level = "level"  # 全部城市本级: the level's norm set for every city
    default = "default"  # 系统默认


NORM_SOURCE_NAMES = {
    NormSource.location_item: "本库点本物资",
    NormSource.location: "本库点",
    NormSource.city_level: "本市本级",
    NormSource.level: "全部城市本级",
    NormSource.default: "默认",
}
PRECEDENCE = (
    NormSource.location_item,
    NormSource.location,
    NormSource.city_level,
    NormSource.level,
)


class Norm(NamedTuple):
    """min_months, max_months: stock to hold, in months of consumption; source: which setting."""

    min_months: int
    max_months: int
    source: NormSource


class NormSetting(NamedTuple):
    """One norm as set: for `level` (all places of it, all items: with `root_id` those of that
    city only, else those of every city) or for `location_id` (with `item_id` one item, else
    all items), valid from `valid_from`; `id` orders settings of one day (the later wins)."""

    id: int
    level: str | None
    location_id: int | None
    item_id: int | None
    min_months: int
    max_months: int
    valid_from: dt.date
    root_id: int | None = None


def norm_in_force(
    settings: Iterable[NormSetting],
    level: str,
    location_id: int,
    item_id: int,
    day: dt.date,
    *,
    root_id: int | None,
) -> Norm:
    """The norm of (location, item) on `day`, the location being of `level` in the city whose
    root location is `root_id` (None: no city, only every city's level norms apply): of the
    settings valid on it, the newest of the most specific scope; the level's default when
    none applies."""
    best: dict[NormSource, NormSetting] = {}
    for setting in settings:
        if setting.valid_from > day:
            continue
        source = _scope(setting, level, location_id, item_id, root_id)
        if source is None:
            continue
        held = best.get(source)
        if held is None or (setting.valid_from, setting.id) > (held.valid_from, held.id):
            best[source] = setting
    for source in PRECEDENCE:
        if source in best:
            return Norm(best[source].min_months, best[source].max_months, source)
    low, high = LEVEL_DEFAULTS[LocationLevel(level)]
    return Norm(low, high, NormSource.default)


def _scope(
    setting: NormSetting, level: str, location_id: int, item_id: int, root_id: int | None
) -> NormSource | None:
    if setting.location_id is not None:
        if setting.location_id != location_id:
            return None
        if setting.item_id is None:
            return NormSource.location
        return NormSource.location_item if setting.item_id == item_id else None
    if setting.level != level:
        return None
    if setting.root_id is None:
        return NormSource.level
    return NormSource.city_level if setting.root_id == root_id else None


def window(as_of: dt.date, months: int) -> list[dt.date]:
    """The first days of the `months` whole calendar months before `as_of`'s month, oldest
    first (the month in progress says too little yet)."""
    if months not in WINDOW_MONTHS:
        raise ValueError(f"an AMC window is {WINDOW_MONTHS} months, not {months}")
    index = as_of.year * 12 + as_of.month - 1
    return [dt.date(i // 12, i % 12 + 1, 1) for i in range(index - months, index)]


class Month(NamedTuple):
    """One month of a location's subtree and one item.

    start: its first day.
    used: consumption in it (base units; a reversal in a later month is taken off there).
    stock_at_end: what the subtree's physical places held at its end (in transit not counted).
    came_in: something of the item came into a place of the subtree during it.
    """

    start: dt.date
    used: int
    stock_at_end: int
    came_in: bool


def is_stock_out(month: Month) -> bool:
    """A stock-out month: the subtree held none of the item at the month's end and nothing came
    into it during the month — so it was empty from some day of the month to its end (and was
    at zero the whole month when it also began at zero). Its consumption says nothing of the
    demand and it is left out of the AMC of items handed out continuously."""
    return month.stock_at_end == 0 and not month.came_in


def ignores_stock_outs(kind: str) -> bool:
    """Contraceptives are asked for continuously: an empty shelf hides the demand. Printed
    matter is handed out in campaigns (年画 at the Spring Festival, 5.29, 7.11): an empty shelf
    between them is no stock-out, and every month of the window counts."""
    return kind == ItemKind.contraceptive


class Consumption(NamedTuple):
    """total: used over the months counted; months: how many counted; stock_out_months: how
    many of the window were left out as stock-outs."""

    total: int
    months: int
    stock_out_months: int

    @property
    def amc(self) -> Fraction:
        """Average monthly consumption, exact (0 with no month counted)."""
        return Fraction(self.total, self.months) if self.months else Fraction(0)


def consumption(months: Sequence[Month], skip_stock_outs: bool) -> Consumption:
    """The window's consumption and the months it averages over. A month whose reversals took
    back more than it used counts as 0."""
    counted = [m for m in months if not (skip_stock_outs and is_stock_out(m))]
    total = sum(max(m.used, 0) for m in counted)
    return Consumption(total, len(counted), len(months) - len(counted))


def stock_for(used: Consumption, months: int) -> int:
    """AMC × months in whole base units, rounded up."""
    if not used.months:
        return 0
    return -(-used.total * months // used.months)


def request_pack_size(item: Item) -> int | None:
    """Base units of the pack a request is rounded to: the item's first pack (the unit it is
    counted and asked in: 套 of 挂图, 盒 of 避孕套, 捆 of 年画), None without one larger than a
    unit. Not the warehouse's labelled pack (packs.label_pack_size): a village asking for
    14 张 of 挂图 needs 4 套, not a 捆 of 100 套."""
    sizes = [pack.base_units for pack in item.packs[:1] if pack.base_units > 1]
    return sizes[0] if sizes else None


def round_up_to_packs(quantity: int, pack_size: int | None) -> int:
    """`quantity` rounded up to whole packs of `pack_size` base units (as is without packs)."""
    if quantity <= 0:
        return 0
    if not pack_size or pack_size <= 1:
        return quantity
    return -(-quantity // pack_size) * pack_size


class AlertKind(StrEnum):
    below_minimum = "below_minimum"  # 补货 (急需)
    above_maximum = "above_maximum"  # 积压


ALERT_NAMES = {AlertKind.below_minimum: "补货", AlertKind.above_maximum: "积压"}


class Suggestion(NamedTuple):
    """One (location, item): its norm, consumption and stock, and what to ask for.

    minimum, maximum: stock to hold in base units (AMC × the norm's months, at least the
      location's 最低库存 `floor`).
    on_hand: at the location itself, every batch. in_transit: shipped to it, not confirmed.
    suggested: maximum − (on hand + in transit + on order), rounded up to whole packs, never
      negative.
    pack_size: base units of the pack it is rounded to (None: none).
    on_order: 已申领未到, what the location's open requests still expect (submitted: what was
      asked; approved: what was approved and not yet shipped). It lowers the suggestion, not
      the alerts: a place whose request is approved is still short on its shelf.
    """

    norm: Norm
    used: Consumption
    floor: int
    minimum: int
    maximum: int
    on_hand: int
    in_transit: int
    suggested: int
    pack_size: int | None
    on_order: int = 0

    @property
    def position(self) -> int:
        """On hand plus in transit: what the location has or has on its way (the alerts')."""
        return self.on_hand + self.in_transit

    @property
    def expected(self) -> int:
        """On hand, in transit and on order: what the location has or will have without
        asking again (the suggestion's)."""
        return self.position + self.on_order

    @property
    def urgent(self) -> bool:
        """急需: the position is below the minimum."""
        return self.position < self.minimum

    @property
    def months_of_stock(self) -> Fraction | None:
        """On hand ÷ AMC; None without consumption."""
        amc = self.used.amc
        return Fraction(self.on_hand) / amc if amc else None

    @property
    def alert(self) -> AlertKind | None:
        """补货 below the minimum; 积压 above the maximum (any stock with no consumption is)."""
        if self.urgent:
            return AlertKind.below_minimum
        if self.position > self.maximum:
            return AlertKind.above_maximum
        return None


def suggest(
    norm: Norm,
    used: Consumption,
    on_hand: int,
    in_transit: int,
    pack_size: int | None,
    floor: int = 0,
    on_order: int = 0,
) -> Suggestion:
    """The suggestion for one (location, item) from its norm, consumption, stock and what its
    open requests still expect (`on_order`)."""
    minimum = max(stock_for(used, norm.min_months), floor)
    maximum = max(stock_for(used, norm.max_months), minimum)
    wanted = maximum - (on_hand + in_transit + on_order)
    return Suggestion(
        norm,
        used,
        floor,
        minimum,
        maximum,
        on_hand,
        in_transit,
        round_up_to_packs(wanted, pack_size),
        pack_size,
        on_order,
    )
