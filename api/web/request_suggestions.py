"""建议申领 on the request pages: a new request's form filled in from the ledger's suggested
request (docs/norms.md: max stock − (on hand + in transit + on order), in whole packs), the
figures shown beside each item (AMC, on hand, in transit, on order, min/max), and on a request's page how far what was
asked is from what the ledger suggested when the line was written.

The suggestions are `ledger.services.suggestions.suggested_request` for the requesting place,
read only for a place the user may see (a township's requester: its own)."""

from __future__ import annotations

from typing import NamedTuple

from litestar import Request

from api.common import services_of
from api.errors import Forbidden
from api.web.request_views import LineRow
from ledger.model import Item
from ledger.rules import LedgerError
from ledger.services import report_norms, suggestions
from ledger.services.suggestions import Position

# 申领 differs much from 建议 when it is off by more than this share of the suggestion (and by
# more than one pack): the approver's page marks the line.
DIFFERENCE_SHARE_MAX = (1, 4)


class SuggestedItem(NamedTuple):
    """One item's suggestion as the form shows it: the position and the AMC as text."""

    position: Position
    amc: str

    @property
    def item(self) -> Item:
        return self.position.item


class Suggested(NamedTuple):
    """The suggestion for `location_code` by item code, over the `months` window."""

    location_code: str
    location_name: str
    months: int
    by_item: dict[str, SuggestedItem]

    @property
    def wanted(self) -> list[SuggestedItem]:
        """The items the ledger suggests asking for (a quantity above 0)."""
        return [s for s in self.by_item.values() if s.position.suggestion.suggested > 0]


def suggested_for(request: Request, location_code: str) -> Suggested | None:
    """The suggested request of a place the user may see; None for a place it may not see,
    an unknown place, or none given (the form is then shown without suggestions)."""
    if not location_code:
        return None
    services = services_of(request.app.state)
    try:
        place = services.visible_location(request.user, location_code, "requester_code")
    except (Forbidden, LedgerError):
        return None
    if not place.physical:
        return None
    months = suggestions.window_months(None)
    today = services.clock()
    positions = services.database.lookup(
        lambda store: suggestions.suggested_request(store, location_code, today, months)
    )
    by_item = {
        p.item.code: SuggestedItem(p, report_norms.decimal(p.suggestion.used.amc) or "0.0")
        for p in positions
    }
    return Suggested(place.location.code, place.location.name, months, by_item)


def in_packs(item_code: str, quantity: int, item: Item | None) -> LineRow:
    """A quantity as a form row: in the largest pack that holds it exactly, else base units."""
    packs = sorted(item.packs if item else (), key=lambda p: p.base_units, reverse=True)
    pack = next((p for p in packs if quantity % p.base_units == 0), None)
    if pack is None:
        return LineRow(item_code, str(quantity), "")
    return LineRow(item_code, str(quantity // pack.base_units), pack.name)


def prefilled_rows(found: Suggested | None) -> list[LineRow]:
    """A new request's rows: each item the ledger suggests asking for, its suggested quantity."""
    if found is None:
        return []
    return [in_packs(s.item.code, s.position.suggestion.suggested, s.item) for s in found.wanted]


def differs_much(requested: int, suggested: int | None, pack_size: int = 1) -> bool:
    """What was asked is far from the suggestion: off by more than a quarter of it and by more
    than one pack (`pack_size` base units). Anything asked when 0 was suggested is; a line
    without a kept suggestion (written before suggestions were kept) is not."""
    if suggested is None:
        return False
    difference = abs(requested - suggested)
    share, whole = DIFFERENCE_SHARE_MAX
    return difference * whole > suggested * share and difference > max(pack_size, 1)
