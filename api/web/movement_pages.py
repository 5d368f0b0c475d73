"""What the movement pages share: the location a form works at (the clerk's own; an admin's
choice in its city), where a posted voucher is shown, and a movement form as rendered (its
lines with their pickers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.response import Template

from api.common import Services, services_of
from api.policy import require_at, scope_path
from api.web.movement_forms import KINDS, ROLE, Kind, Row, rows_of, unit_options
from api.web.render import page
from ledger.model import WRITE_OFF_REASON_NAMES, Batch, Item, Role
from ledger.rules import Code, LedgerError
from ledger.services import pickers
from ledger.services.lookups import LocationEntry
from ledger.services.pickers import BatchChoice
from ledger.services.users import User

RECENT_VOUCHERS = 20


def services(request: Request) -> Services:
    return services_of(request.app.state)


def place_of(request: Request, code: str | None, what: str) -> LocationEntry:
    """The location a movement form works at: the clerk's own (another is refused), or for an
    admin any physical location of its city (`code`, default its own)."""
    user: User = request.user
    code = code or user.location_code
    found = services(request).location
    require_at(user, code, ROLE, what, found)
    entry = found(code, "location")
    if not entry.physical:
        raise LedgerError(
            Code.location_must_be_physical,
            f"{entry.location.name} 是虚拟库点，请选择一个实体库点办理",
            "location",
        )
    return entry


def location_query(request: Request, entry: LocationEntry) -> str:
    """`?location=…` for an admin's links (a clerk works at its own location only)."""
    user: User = request.user
    if user.has(Role.admin):
        return "?location=" + quote(entry.location.code)
    return ""


def place_choices(request: Request) -> list[Any]:
    """The locations an admin may pick (its city's physical ones); none for a clerk."""
    user: User = request.user
    if not user.has(Role.admin):
        return []
    return pickers.places(services(request).database, scope_path(user))


def place_name(request: Request, code: str | None) -> str:
    if not code:
        return ""
    try:
        return services(request).location(code).location.name
    except LedgerError:
        return code


def voucher_path(request: Request, number: str) -> str:
    """Where a posted voucher is shown: the voucher page (凭证) when the app has one, else the
    movement pages' own confirmation."""
    has_page = any(route.path.startswith("/vouchers/{") for route in request.app.routes)
    return ("/vouchers/" if has_page else "/movements/done/") + quote(number)


@dataclass
class LineView:
    """A line of a form as shown: what was typed, the chosen item, its units and its batches."""

    row: Row
    item: Item | None
    units: list[tuple[str, str]]
    choices: list[BatchChoice] = field(default_factory=list)
    known: list[Batch] = field(default_factory=list)


def line_view(
    request: Request, kind: Kind, entry: LocationEntry, row: Row, items: dict[str, Item]
) -> LineView:
    item = items.get(row.item)
    view = LineView(row, item, unit_options(item))
    if item is None:
        return view
    database = services(request).database
    if kind.outgoing:
        view.choices = pickers.batch_choices(
            database, entry.location.code, item.code, services(request).clock()
        )
    else:
        view.known = pickers.known_batches(database, item.code)
    return view


def destinations(request: Request, entry: LocationEntry) -> list[Any]:
    """Where an issue may go: the user's subtree (an admin's city) but the source itself."""
    user: User = request.user
    found = pickers.places(services(request).database, scope_path(user))
    return [place for place in found if place.code != entry.location.code]


def form_page(
    request: Request,
    kind: Kind,
    entry: LocationEntry,
    data: dict[str, Any],
    errors: dict[str, str],
    once_key: str,
    status: int = 200,
) -> Template:
    """A movement form with what was typed (`data`), the refusal beside its input (`errors`)
    and the form's once key."""
    database = services(request).database
    items = {item.code: item for item in pickers.all_items(database)}
    rows = rows_of(data)
    context: dict[str, Any] = {
        "kind": kind,
        "kinds": KINDS,
        "place": entry,
        "loc_query": location_query(request, entry),
        "items": list(items.values()),
        "available": pickers.available_by_item(database, entry.location.code)
        if kind.outgoing
        else {},
        "lines": [line_view(request, kind, entry, row, items) for row in rows],
        "values": data,
        "errors": errors,
        "once_key": once_key,
        "today": services(request).clock().isoformat(),
        "reasons": list(WRITE_OFF_REASON_NAMES.items()),
        "destinations": destinations(request, entry) if kind.slug == "issue" else [],
        "parent_name": place_name(request, entry.location.parent_code),
    }
    answer = page(
        request, "movements_form.html", f"{kind.title} · {entry.location.name}", **context
    )
    answer.status_code = status
    return answer
