"""分配方案's form as typed: the source, the item (and batch), the quantity to split in a unit of
the item, the pack the split counts in, and the places with their weights (the population when
left blank). Read from a preview's query or an apply's form alike."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ledger.allocation import Share
from ledger.model import Item, LocationLevel
from ledger.rules import Code, LedgerError
from ledger.services import lookups
from ledger.services.checks import base_units
from ledger.services.database import Database
from ledger.services.lookups import LocationRecord

# The level below each level: where a source's places are found by default.
CHILD_LEVEL = {
    LocationLevel.city: LocationLevel.county,
    LocationLevel.county: LocationLevel.township,
    LocationLevel.township: LocationLevel.village,
}
PLACES_MAX = 1_000  # places a plan offers (ledger.limits.shares_per_plan_max)

# The fields the form shows an error beside (any other refusal goes above the form).
PLAN_FIELDS = (
    r"source_code|item_code|batch_number|quantity|pack|shares|extra|occurred_on|memo|weight-.+"
)


@dataclass
class Place:
    code: str
    name: str
    population: int | None
    weight: str = ""  # as typed; blank: the population
    included: bool = True


@dataclass
class PlanForm:
    source_code: str
    item_code: str = ""
    batch_number: str = ""
    quantity: str = ""
    quantity_unit: str = ""
    pack: str | None = None  # None: the item's first pack
    places: list[Place] = field(default_factory=list)
    extra: str = ""
    occurred_on: str = ""
    memo: str = ""

    def shares(self) -> list[Share]:
        """The included places as the service's shares (blank weight: the population)."""
        shares = []
        for place in self.places:
            if not place.included:
                continue
            text = place.weight.replace(",", "").strip()
            if text and not re.fullmatch(r"\d{1,12}", text):
                raise LedgerError(
                    Code.weights_invalid, f"权重须为整数：{place.weight!r}", f"weight-{place.code}"
                )
            shares.append(Share(place.code, int(text) if text else None))
        return shares

    def base_quantity(self, item: Item) -> int:
        """The quantity to split in base units (typed in the base unit or one of the packs)."""
        text = self.quantity.replace(",", "").strip()
        if not re.fullmatch(r"\d{1,12}", text):
            raise LedgerError(Code.invalid_field, "请填写要分配的数量（整数）", "quantity")
        return base_units(item, int(text), self.quantity_unit or None, "quantity")


def children(database: Database, source: Any) -> list[LocationRecord]:
    """The places directly below the source, in tree order, with their populations."""
    level = CHILD_LEVEL.get(source.location.level)
    if level is None:
        return []
    found = lookups.locations(database, source.path, level.value, False, PLACES_MAX, 0)
    return [record for record in found if record.parent_code == source.location.code]


def default_places(database: Database, source: Any) -> list[Place]:
    return [Place(r.code, r.name, r.population) for r in children(database, source)]


def posted_places(database: Database, values: Any) -> list[Place]:
    """The places as the form sends them: `place` (codes, in order), `weight` beside each,
    `include` (the codes ticked); `extra` adds places by code."""
    codes = values.getall("place", [])
    weights = values.getall("weight", [])
    included = set(values.getall("include", []))
    places = []
    for index, code in enumerate(codes):
        entry = lookups.location(database, code, "shares")
        record = lookups.location_record(database, entry)
        weight = weights[index] if index < len(weights) else ""
        places.append(Place(code, record.name, record.population, weight.strip(), code in included))
    return places


def extra_places(database: Database, text: str, places: list[Place], sees: Any) -> list[Place]:
    """Places added by code (separated by spaces or commas), each one the user sees; a code
    already listed is ticked."""
    have = {place.code: place for place in places}
    added = []
    for code in [c for c in re.split(r"[\s,，、]+", text) if c]:
        if code in have:
            have[code].included = True
            continue
        entry = lookups.location(database, code, "extra")
        sees(entry)
        record = lookups.location_record(database, entry)
        place = Place(code, record.name, record.population)
        have[code] = place
        added.append(place)
    return places + added
