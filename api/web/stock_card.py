"""库存's detail pages: the stock card (明细账) of one account — its movements with voucher
numbers and running balance, the report service the API's `/reports/stock-card` calls — and the
labelled packs of a batch with their state and place (the packs service of
`/batches/{item}/{number}/packs`), each only inside the user's reach."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Request, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from api.common import services_of
from api.errors import Forbidden, status_of
from api.policy import can_see
from api.web.render import errors_of, page
from api.web.stock_common import (
    From,
    PageNumber,
    Query,
    To,
    blank,
    crumbs,
    item_options,
    parse_day,
)
from ledger.rules import LedgerError
from ledger.services import lookups, report_stock, scanning
from ledger.services.users import User

State = Annotated[str | None, QueryParameter(name="state", required=False)]

PACKS_PER_PAGE = 100
CARD_FIELDS = frozenset({"item", "batch", "from", "to"})
# the report's names of its inputs → the form's
FIELD_OF = {"date_from": "from", "date_to": "to", "batch_number": "batch", "item_code": "item"}

VIRTUAL_CARD = (
    "虚拟库点的明细账含各市的收发，仅限全局管理员查看 (a shared virtual place's card: global "
    "admins only)"
)


def _card(request: Request, code: str, wanted: tuple[str, str, dt.date, dt.date]) -> Any:
    """The stock card report, or the refusal as {field: message} with its status."""
    database = services_of(request.app.state).database
    try:
        return database.lookup(lambda s: report_stock.stock_card(s, code, *wanted)), {}, 200
    except LedgerError as error:
        if error.field in FIELD_OF:
            error = LedgerError(error.code, error.message, FIELD_OF[error.field])
        return None, errors_of(error, CARD_FIELDS), status_of(error)


@get("/stock/{code:str}/card", sync_to_thread=True)
def card_page(
    request: Request,
    code: FromPath[str],
    item: Query = None,
    batch: Query = None,
    date_from: From = None,
    date_to: To = None,
) -> Template:
    """明细账: one account's movements in a period, each voucher number a link to it."""
    user: User = request.user
    services = services_of(request.app.state)
    today = services.clock()
    entry = services.visible_location(user, code, "code")
    if not entry.physical and not user.is_global:
        raise Forbidden(VIRTUAL_CARD)
    errors: dict[str, str] = {}
    start = parse_day(date_from, "from", errors) or dt.date(today.year, 1, 1)
    end = parse_day(date_to, "to", errors) or today
    item_code, number = blank(item), blank(batch)
    if (item_code or number) and not item_code:
        errors["item"] = "请选择物资"
    if (item_code or number) and not number:
        errors["batch"] = "请填写批次"
    report, status = None, 400 if errors else 200
    if item_code and number and not errors:
        report, errors, status = _card(request, code, (item_code, number, start, end))
    known = None
    if item_code and "item" not in errors:
        known = lookups.item(services.database, item_code)
    answer = page(
        request,
        "stock_card.html",
        f"明细账 · {entry.location.name}",
        entry=entry,
        crumbs=crumbs(request, user, entry.path) if entry.physical else [],
        report=report,
        records=report.records() if report else [],
        totals=report.totals[0] if report and report.totals else None,
        item=known,
        form={"item": item_code or "", "batch": number or "", "from": start, "to": end},
        item_options=item_options(request),
        batches=_batches(request, known.code) if known else [],
        errors=errors,
    )
    answer.status_code = status
    return answer


def _batches(request: Request, item_code: str) -> list[str]:
    """The item's batch numbers, newest last, for the batch field's suggestions."""
    found = lookups.batches(services_of(request.app.state).database, item_code, 1_000, 0)
    return [batch.number for batch in found]


@get("/stock/packs/{item_code:str}/{number:str}", sync_to_thread=True)
def packs_page(
    request: Request,
    item_code: FromPath[str],
    number: FromPath[str],
    location: Query = None,
    pack_state: State = None,
    page_number: PageNumber = 1,
) -> Template:
    """A batch's labelled packs in the user's reach: serial, state, where each is (an
    announced or shipped pack: where it is going)."""
    user: User = request.user
    services = services_of(request.app.state)
    where = blank(location)
    if where is not None:
        services.visible_location(user, where, "location")
    batch = lookups.batch(services.database, item_code, number)
    item = lookups.item(services.database, item_code)
    found = scanning.packs(
        services.database, services.label_keys, item_code, number, where, sealed_only=False
    )
    seen: dict[str, bool] = {}

    def visible(code: str) -> bool:
        if code not in seen:
            entry = services.location(code)
            seen[code] = can_see(user, entry.path, entry.physical)
        return seen[code]

    packs = [pack for pack in found if visible(pack.location_code)]
    summary: dict[tuple[str, str, str], list[int]] = {}
    for pack in packs:
        entry = summary.setdefault((pack.location_code, pack.location_name, pack.state), [0, 0])
        entry[0] += 1
        entry[1] += pack.quantity
    chosen = blank(pack_state)
    listed = [pack for pack in packs if chosen is None or pack.state == chosen]
    first = (page_number - 1) * PACKS_PER_PAGE
    return page(
        request,
        "stock_packs.html",
        f"包装 · {item.name} {number}",
        item=item,
        batch=batch,
        summary=sorted(summary.items()),
        packs=listed[first : first + PACKS_PER_PAGE],
        total=len(listed),
        page_number=page_number,
        more=len(listed) > first + PACKS_PER_PAGE,
        location=where or "",
        state=chosen or "",
        states=sorted({pack.state for pack in packs}),
    )
