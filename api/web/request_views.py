"""申领 pages' shared pieces: the item catalogue a form picks from, the lines a form posts
(quantities with a unit per line), refusals mapped onto the row at fault, and what the
signed-in user may do with a request (the API's reach and role checks, asked, not repeated)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import anyio
from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect

from api.common import services_of
from api.errors import Forbidden
from api.policy import (
    require_approver,
    require_at,
    require_request_closer,
    require_request_confirmer,
    require_sees_request,
)
from api.web.names import REQUEST_EVENT_NAMES, SHORTAGE_REASON_NAMES
from api.web.render import chinese
from api.web.units import quantity_text
from ledger.model import Item, Role
from ledger.requests import RequestStatus
from ledger.rules import Code, LedgerError
from ledger.services import lookups, requests
from ledger.services.request_models import AllocationRequest, RequestEvent
from ledger.services.users import User, get_user
from ledger.settings import office_zone

ITEMS_MAX = 200  # items a form offers (a page of the item list)
LINES_MAX = 200  # rows a lines form takes (a page of 20,000 blank rows is refused, not drawn)


def items_of(request: Request) -> dict[str, Item]:
    """The items by code, in code order: what a line may name, and how quantities are shown."""
    database = services_of(request.app.state).database
    return {item.code: item for item in lookups.items(database, ITEMS_MAX, 0)}


def unit_options(item: Item | None, items: Iterable[Item] = ()) -> list[tuple[str, str]]:
    """A line's unit choice: the base unit ("") or one of the item's packs, with its size;
    without an item, every pack name any item has (the service refuses one the item lacks)."""
    if item is not None:
        base = [("", f"{item.base_unit}（基本单位）")]
        return base + [
            (pack.name, f"{pack.name}（{pack.base_units:,} {item.base_unit}）")
            for pack in item.packs
        ]
    names = sorted({pack.name for each in items for pack in each.packs})
    return [("", "基本单位")] + [(name, name) for name in names]


def form_of(form: FormMultiDict) -> dict[str, Any]:
    """A posted form as `once` takes it: one value per name, repeated names joined, so that
    the digest covers every row."""
    return {key: "\x1f".join(form.getall(key)) for key in dict.fromkeys(form.keys())}


class LineRow(NamedTuple):
    """One row of a lines form as typed (kept to show it again after a refusal)."""

    item_code: str
    quantity: str
    unit: str


def rows_of(form: FormMultiDict, prefix: str = "") -> list[LineRow]:
    codes = form.getall(f"{prefix}item_code", [])
    quantities = form.getall(f"{prefix}quantity", [])
    units = form.getall(f"{prefix}unit", [])

    def at(values: list[str], index: int) -> str:
        return values[index].strip() if index < len(values) else ""

    count = max(len(codes), len(quantities), len(units))
    if count > LINES_MAX:
        raise LedgerError(
            Code.too_many_lines,
            f"一张单据最多 {LINES_MAX} 行，这次提交了 {count} 行 (too many lines)",
            f"{prefix}item_code",
        )
    return [LineRow(at(codes, i), at(quantities, i), at(units, i)) for i in range(count)]


def whole_number(text: str, field: str, allow_zero: bool = True) -> int:
    """A quantity typed on a page: a whole number (thousands separators allowed)."""
    cleaned = text.replace(",", "").replace("，", "").strip()
    if not re.fullmatch(r"\d{1,12}", cleaned) or (not allow_zero and int(cleaned) == 0):
        what = "大于零的整数" if not allow_zero else " 0 或正整数"
        raise LedgerError(Code.invalid_field, f"请填写{what}：{text!r}", field)
    return int(cleaned)


class Posted(NamedTuple):
    """The filled rows of a lines form: (row index on the page, row)."""

    rows: list[tuple[int, LineRow]]

    def field(self, service_field: str | None, prefix: str = "lines") -> str | None:
        """A service's field (`lines[2].quantity`, counted over filled rows) as the page's row
        (`lines[5].quantity`)."""
        if not service_field:
            return service_field
        found = re.fullmatch(rf"{prefix}\[(\d+)\](.*)", service_field)
        if not found or int(found.group(1)) >= len(self.rows):
            return service_field
        return f"{prefix}[{self.rows[int(found.group(1))][0]}]{found.group(2)}"


def filled(rows: list[LineRow], need_item: bool = True) -> Posted:
    """The rows with something typed in; a row with a quantity but no item is refused."""
    kept: list[tuple[int, LineRow]] = []
    for index, row in enumerate(rows):
        if not row.item_code and not row.quantity:
            continue
        if need_item and not row.item_code:
            raise LedgerError(Code.invalid_field, "请选择物资", f"lines[{index}].item_code")
        if not row.quantity:
            raise LedgerError(Code.invalid_field, "请填写数量", f"lines[{index}].quantity")
        kept.append((index, row))
    return Posted(kept)


def parse_date(text: str, field: str) -> dt.date | None:
    """A date typed on a page (YYYY-MM-DD); blank: the service's default (today)."""
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise LedgerError(Code.invalid_field, f"日期须为 YYYY-MM-DD：{text!r}", field) from None


def done(number: str) -> Redirect:
    """After an action: the request's page (POST/redirect/GET)."""
    return Redirect(path=f"/requests/{number}", status_code=303)


async def run(request: Request, handler: Callable[..., Any], *args: Any) -> Any:
    """A POST handler's work: the form read here, the rest (storage) in a worker thread."""
    form = await request.form()
    return await anyio.to_thread.run_sync(handler, request, form, *args)


# The fields each form shows an error beside (any other refusal goes above the form).
NEW_FIELDS = r"lines(\[\d+\](\.item_code|\.quantity)?)?|memo|requester_code"
APPROVE_FIELDS = r"lines\[\d+\]\.quantity|memo"
REJECT_FIELDS = r"reason"
SHIP_FIELDS = r"lines(\[\d+\](\.quantity|\.override_reason|\.batch_number)?)?|occurred_on|memo"
CONFIRM_FIELDS = r"received\[\d+\]\.quantity_received|occurred_on|memo|shortage(\.reason|\.note)?"


def error_at(error: LedgerError, field: str | None, shown: str = "") -> dict[str, str]:
    """A refusal beside `field` (the page's name for the field at fault) when the form shows
    that field (`shown`, a pattern of its field names), else above the form."""
    at = field if field and re.fullmatch(shown, field) else ""
    return {at: chinese(error.message)}


# ---- what the user may do --------------------------------------------------------------------------


def holds(user: User, *roles: Role) -> bool:
    """The user holds one of the roles (an admin holds every one): the API's role guard."""
    return user.has(Role.admin) or any(user.has(role) for role in roles)


def _allowed(check: Callable[[], None]) -> bool:
    try:
        check()
    except (Forbidden, LedgerError):
        return False
    return True


class Allowed(NamedTuple):
    edit: bool
    cancel: bool
    approve: bool
    ship: bool
    close: bool
    confirm: bool


def allowed(request: Request, found: AllocationRequest) -> Allowed:
    """What the signed-in user may do with the request now: the API's guard and checks for
    each action, and the request's state (so no button is offered that would be refused)."""
    user: User = request.user
    locate = services_of(request.app.state).location
    status = found.status
    as_requester = holds(user, Role.requester) and _allowed(
        lambda: require_at(user, found.requester_code, Role.requester, "", locate)
    )
    nothing_issued = not any(line.issued for line in found.lines)
    approved = status == RequestStatus.approved
    unconfirmed = any(s.confirmation_number is None for s in found.shipments)
    return Allowed(
        edit=as_requester and status == RequestStatus.draft,
        cancel=as_requester
        and nothing_issued
        and status in (RequestStatus.draft, RequestStatus.submitted, RequestStatus.approved),
        approve=status == RequestStatus.submitted
        and holds(user, Role.approver)
        and _allowed(lambda: require_approver(user, found, locate)),
        ship=approved
        and any(line.outstanding > 0 for line in found.lines)
        and holds(user, Role.clerk)
        and _allowed(lambda: require_at(user, found.supplier_code, Role.clerk, "", locate)),
        close=approved
        and holds(user, Role.approver, Role.clerk)
        and _allowed(lambda: require_request_closer(user, found, locate)),
        confirm=unconfirmed
        and holds(user, Role.requester, Role.clerk)
        and _allowed(lambda: require_request_confirmer(user, found, locate)),
    )


def visible_request(request: Request, number: str) -> AllocationRequest:
    """The request, if the user may see it: 403 otherwise, 404 for an unknown number."""
    services = services_of(request.app.state)
    found = requests.get(services.database, number)
    require_sees_request(request.user, found, services.location)
    return found


# ---- the timeline ------------------------------------------------------------------------------------

CLOSE_REASONS = {
    "everything approved has arrived": "批准的物资已全部到货",
    "nothing approved": "全部核减为零",
    "closed with the rest cancelled": "未发部分取消",
}


def local_time(at: dt.datetime) -> str:
    """A stored instant (UTC) as the office's clock shows it: 2026-06-30 14:05."""
    aware = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return aware.astimezone(office_zone()).strftime("%Y-%m-%d %H:%M")


class TimelineEntry(NamedTuple):
    at: str
    who: str
    what: str
    detail: str
    vouchers: tuple[str, ...]


def timeline(request: Request, number: str, items: dict[str, Item]) -> list[TimelineEntry]:
    """The request's events, oldest first: when (office time), who, what in Chinese."""
    database = services_of(request.app.state).database
    labels: dict[int, str] = {}

    def who(user_id: int | None) -> str:
        if user_id is None:
            return "系统"
        if user_id not in labels:
            found = get_user(database, user_id)
            labels[user_id] = found.label if found else f"用户 {user_id}"
        return labels[user_id]

    entries = []
    for event in requests.events(database, number):
        detail, vouchers = _said(event, items)
        entries.append(
            TimelineEntry(
                local_time(event.at),
                who(event.user_id),
                REQUEST_EVENT_NAMES.get(event.action, event.action),
                detail,
                vouchers,
            )
        )
    return entries


def _lines_said(pairs: Any, items: dict[str, Item]) -> str:
    said = []
    for code, quantity in pairs or []:
        item = items.get(code)
        said.append(f"{item.name if item else code} {quantity_text(quantity, item)}")
    return "；".join(said)


def _said(event: RequestEvent, items: dict[str, Item]) -> tuple[str, tuple[str, ...]]:
    """An event's detail in words, and the vouchers it names."""
    try:
        detail = json.loads(event.detail or "{}")
    except ValueError:
        return event.detail, ()
    if not isinstance(detail, dict):
        return "", ()
    if "lines" in detail:
        return _lines_said(detail["lines"], items), ()
    if "approved" in detail:
        memo = detail.get("memo") or ""
        return _lines_said(detail["approved"], items) + (f"；{memo}" if memo else ""), ()
    if "reason" in detail:
        reason = str(detail["reason"])
        return CLOSE_REASONS.get(reason, reason), ()
    if "confirmation" in detail:
        return "", (str(detail.get("shipment")), str(detail["confirmation"]))
    if "shipment" in detail:
        overrides = detail.get("overrides") or []
        said = f"未按近效期先出：{'；'.join(overrides)}" if overrides else ""
        return said, (str(detail["shipment"]),)
    return "", ()


def shortage_reason_options() -> list[tuple[str, str]]:
    return [("", "请选择"), *SHORTAGE_REASON_NAMES.items()]
