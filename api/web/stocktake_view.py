"""What the 盘点 pages show of a stocktake: who may do what with it, the lines to count (the
book at the cut-off when the count is not blind, what was counted so far), the places of its
scope the user sees, the finished count scan documents it may import, and refusals placed
beside the form field at fault."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any

from litestar import Request
from litestar.params import QueryParameter
from litestar.response import Template

from api.common import services_of
from api.policy import can_see
from api.web.render import chinese, new_once_key, page
from ledger.model import Item, Role, ScanDocumentStatus, ScanPurpose, StocktakeStatus
from ledger.reconcile import DEFAULT_THRESHOLD
from ledger.rules import LedgerError
from ledger.services import lookups, scanning, stocktakes
from ledger.services.stocktake_models import Stocktake
from ledger.services.users import User

OFFICE = (Role.clerk, Role.approver, Role.auditor)  # open, read and close a count
REVIEWERS = (Role.approver, Role.auditor)  # send lines back, approve
COUNTERS = (Role.clerk,)  # enter counts

# A reconciliation line's row colour by its outcome (app.css: tr.gain, tr.bad, tr.warn).
ROW_TONES: dict[str, str] = {
    "match": "",
    "gain": "gain",
    "not_on_books": "gain",
    "loss": "bad",
    "not_counted": "warn",
}
STATUS_TONES: dict[str, str] = {"counting": "warn", "closed": "", "approved": "ok"}

Threshold = Annotated[float, QueryParameter(ge=0, le=1, required=False)]

places_max = 2000  # places offered in one picker
documents_max = 100  # finished count scan documents offered for import


def holds(user: User, roles: Iterable[str]) -> bool:
    """The user holds one of these roles (an admin holds every one)."""
    return user.has(Role.admin) or any(user.has(role) for role in roles)


def stocktake_in_reach(request: Request, number: str) -> Stocktake:
    """The stocktake, if its location is in the user's subtree (403 otherwise), as the API's
    GET /stocktakes/{number} reads it."""
    services = services_of(request.app.state)
    stocktake = stocktakes.get(services.database, number)
    services.visible_location(request.user, stocktake.location_code)
    return stocktake


def key_of(location_code: str, item_code: str, batch_number: str) -> str:
    return f"{location_code}|{item_code}|{batch_number}"


def split_key(key: str) -> tuple[str, str, str] | None:
    parts = key.split("|")
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else None


def items_of(database: Any, codes: Iterable[str]) -> dict[str, Item]:
    return {code: lookups.item(database, code) for code in sorted(set(codes))}


def location_name(database: Any, code: str) -> str:
    return lookups.location(database, code).location.name


def units_of(item: Item) -> list[str]:
    """The units a count may be entered in: the base unit, then the item's packs."""
    return [item.base_unit, *(pack.name for pack in item.packs)]


def visible_places(database: Any, user: User, under: str) -> list[tuple[str, str]]:
    """(code, name) of the physical places under a path that the user sees, in tree order."""
    found = lookups.locations(database, under, None, False, places_max, 0)
    return [(p.code, p.name) for p in found if p.physical and can_see(user, p.path)]


def places_below(database: Any, user: User, location_code: str) -> list[tuple[str, str]]:
    """(code, name) of the physical places under a location (its whole subtree, itself left
    out) that the user sees: what a count there may name in `location_codes` (the service
    takes any place inside the counted location's subtree); none for an unknown code."""
    try:
        top = lookups.location(database, location_code)
    except LedgerError:
        return []
    own = top.location.code
    return [place for place in visible_places(database, user, top.path) if place[0] != own]


def places_of(database: Any, user: User, stocktake: Stocktake) -> list[tuple[str, str]]:
    """The places the count covers that the user sees: the whole subtree, or the location and
    the places it names."""
    if stocktake.include_subtree:
        top = lookups.location(database, stocktake.location_code)
        return visible_places(database, user, top.path)
    places = []
    for code in (stocktake.location_code, *stocktake.location_codes):
        entry = lookups.location(database, code)
        if can_see(user, entry.path):
            places.append((code, entry.location.name))
    return places


def count_rows(database: Any, stocktake: Stocktake) -> list[dict]:
    """One row per account to count: every book line at the cut-off (unless the count is
    blind) and every account counted so far, with what was counted (counts add up)."""
    counted: dict[str, int] = {}
    for line in stocktake.counted:
        key = key_of(line.location_code, line.item_code, line.batch_number)
        counted[key] = counted.get(key, 0) + line.quantity
    book = {
        key_of(e.location_code, e.item_code, e.batch_number): e.book for e in stocktake.expected
    }
    keys = list(book) + [key for key in counted if key not in book]
    items = items_of(database, (key.split("|")[1] for key in keys))
    names: dict[str, str] = {}
    rows = []
    for key in sorted(keys):
        location_code, item_code, batch_number = key.split("|")
        if location_code not in names:
            names[location_code] = location_name(database, location_code)
        item = items[item_code]
        rows.append(
            {
                "key": key,
                "location_code": location_code,
                "location_name": names[location_code],
                "item": item,
                "batch_number": batch_number,
                "book": None if stocktake.blind else book.get(key, 0),
                "counted": counted.get(key),
                "units": units_of(item),
            }
        )
    return rows


def importable_documents(
    database: Any, stocktake: Stocktake, places: list[tuple[str, str]]
) -> list:
    """Finished (posted) count scan documents at the count's places, not yet imported."""
    top = lookups.location(database, stocktake.location_code)
    imported = {line.source for line in stocktake.counted}
    codes = {code for code, _ in places}
    found = scanning.documents(database, top.path, ScanDocumentStatus.posted, documents_max, 0)
    return [
        document
        for document in found
        if document.purpose == ScanPurpose.count
        and document.location_code in codes
        and f"scan:{document.id}" not in imported
    ]


_INDEXED = re.compile(r"^lines\[(\d+)\]\.?(.*)$")


def field_errors(
    error: LedgerError, rename: dict[str, str] | None = None, fields: Iterable[str] = ()
) -> dict[str, str]:
    """A refusal beside the form field at fault: the use case's field name (`item_codes[2]`,
    `occurred_on` …) through `rename`, a list's index dropped; {"": message} when the form
    has no such field."""
    field = error.field or ""
    field = (rename or {}).get(field, field)
    field = re.sub(r"\[\d+\]$", "", field)
    field = (rename or {}).get(field, field)
    key = field if field in set(fields) else ""
    return {key: chinese(error.message)}


def line_error(error: LedgerError, rows: list[int]) -> dict[str, str]:
    """A refusal of entered counts beside the count it names: `lines[3].quantity` is the 4th
    line sent, the table's row `rows[3]`."""
    found = _INDEXED.match(error.field or "")
    if found and int(found.group(1)) < len(rows):
        return {f"q-{rows[int(found.group(1))]}": chinese(error.message)}
    return {"": chinese(error.message)}


def scope_text(stocktake: Stocktake, places: list[tuple[str, str]]) -> str:
    if stocktake.include_subtree:
        return f"{stocktake.location_name}及其全部下级"
    names = [name for _, name in places]
    return "、".join(names) if names else stocktake.location_name


def items_text(database: Any, stocktake: Stocktake) -> str:
    if not stocktake.item_codes:
        return "全部品种"
    return "、".join(item.name for item in items_of(database, stocktake.item_codes).values())


# What a page says after a form did its work (?done=…).
DONE: dict[str, str] = {
    "opened": "已开始盘点。",
    "counted": "盘点数已录入。",
    "imported": "扫描单已导入盘点。",
    "zeroed": "该库点未盘的账面行已记为 0。",
    "closed": "盘点已结束，下面是盘点报告。",
    "recount": "所选行已退回复盘，盘点重新开始。",
    "approved": "已审核，盘盈盘亏已过账。",
}


def many(data: dict[str, Any], name: str) -> list[str]:
    """A form's repeated field (a multiple select, checkboxes) as a list of non-empty texts."""
    value = data.get(name)
    values = value if isinstance(value, list) else [value] if value is not None else []
    return [str(v).strip() for v in values if str(v).strip()]


def detail_context(request: Request, number: str, threshold: float) -> dict[str, Any]:
    """Everything the stocktake's page shows, for the user asking."""
    user: User = request.user
    database = services_of(request.app.state).database
    stocktake = stocktake_in_reach(request, number)
    places = places_of(database, user, stocktake)
    counting = stocktake.status == StocktakeStatus.counting
    closed = stocktake.status == StocktakeStatus.closed
    context: dict[str, Any] = {
        "st": stocktake,
        "places": places,
        "scope_text": scope_text(stocktake, places),
        "items_text": items_text(database, stocktake),
        "tones": STATUS_TONES,
        "row_tones": ROW_TONES,
        "may_count": counting and holds(user, COUNTERS),
        "may_close": counting and holds(user, OFFICE),
        "may_review": closed and holds(user, REVIEWERS),
        "rows": [],
        "documents": [],
        "report": None,
        "threshold": threshold,
        "once_key": new_once_key(),
        "errors": {},
        "failed": "",
        "values": {},
        "checked": [],
        "done": DONE.get(request.query_params.get("done", ""), ""),
    }
    if counting:
        context["rows"] = count_rows(database, stocktake)
        if context["may_count"]:
            context["documents"] = importable_documents(database, stocktake, places)
            items = (
                list(items_of(database, stocktake.item_codes).values())
                if stocktake.item_codes
                else lookups.items(database, 500, 0)
            )
            context["item_options"] = [(item.code, item.name) for item in items]
    else:
        report = stocktakes.reconciliation(database, number, threshold)
        context["report"] = report
        context["line_items"] = items_of(database, (line.item_code for line in report.lines))
    return context


def detail_page(
    request: Request,
    number: str,
    threshold: float = DEFAULT_THRESHOLD,
    status_code: int = 200,
    **overrides: Any,
) -> Template:
    context = detail_context(request, number, threshold)
    context.update(overrides)
    result = page(request, "stocktakes_detail.html", f"盘点 {number}", **context)
    result.status_code = status_code
    return result
