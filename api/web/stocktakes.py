"""盘点: open with scope and cut-off, enter counts, the reconciliation, recount, approve.

`/stocktakes` lists the counts opened in the user's subtree and opens a new one;
`/stocktakes/{number}` enters counts (by hand, or by importing a finished count scan document
from /scan), closes the count, shows the reconciliation (盘盈/盘亏/未盘, 帐物相符率 against its
threshold), sends lines back for recount and leads to the approval preview
(api/web/stocktake_forms.py has the forms that change a count). The rules are the API's
(api/stocktake_routes.py): the same use cases, the same checks of role and reach.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from api.common import services_of
from api.errors import status_of
from api.policy import require_stocktake_opener, roles, scope_path
from api.web.render import Form, new_once_key, once, page
from api.web.stocktake_forms import HANDLERS as FORM_HANDLERS
from api.web.stocktake_view import (
    OFFICE,
    STATUS_TONES,
    Threshold,
    detail_page,
    field_errors,
    holds,
    many,
    places_below,
    visible_places,
)
from ledger.model import StocktakeStatus
from ledger.reconcile import DEFAULT_THRESHOLD
from ledger.rules import Code, LedgerError
from ledger.services import lookups, stocktakes
from ledger.services.stocktake_list import stocktakes_under
from ledger.services.stocktake_models import OpenStocktake
from ledger.services.users import User

StatusFilter = Annotated[str | None, QueryParameter(name="status", required=False, max_length=20)]

OPEN_FIELDS = frozenset({"location_code", "cut_off", "item_codes", "location_codes", "memo"})
OPEN_RENAME = {"occurred_on": "cut_off"}
SCOPES = ("self", "subtree", "listed")


def _openers_places(request: Request) -> list[tuple[str, str]]:
    """Where the user may open a count: a clerk at its own location only; an admin, approver
    or auditor anywhere in its subtree (api/policy.py's require_stocktake_opener)."""
    user: User = request.user
    database = services_of(request.app.state).database
    if not holds(user, ("admin", "approver", "auditor")):
        return [(user.location_code, user.location_name)]
    return visible_places(database, user, scope_path(user) or "/")


def _list_page(
    request: Request,
    status: str | None,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    user: User = request.user
    services = services_of(request.app.state)
    wanted = status if status in StocktakeStatus.__members__ else None
    listed = stocktakes_under(services.database, scope_path(user), wanted, 200, 0)
    places = _openers_places(request)
    values = form or {
        "location_code": places[0][0] if places else "",
        "cut_off": services.clock().isoformat(),
        "scope": "self",
    }
    result = page(
        request,
        "stocktakes_list.html",
        "盘点",
        stocktakes=listed,
        status=wanted or "",
        tones=STATUS_TONES,
        places=places,
        items=lookups.items(services.database, 500, 0),
        values=values,
        chosen_items=many(values, "item_codes"),
        chosen_places=many(values, "location_codes"),
        sub_places=places_below(services.database, user, str(values.get("location_code", ""))),
        errors=errors or {},
        once_key=new_once_key(),
    )
    result.status_code = status_code
    return result


@get("/stocktakes", sync_to_thread=True, guards=[roles(*OFFICE)])
def stocktake_list(request: Request, wanted: StatusFilter = None) -> Template:
    return _list_page(request, wanted)


PlaceCode = Annotated[str, QueryParameter(name="location_code", required=False, max_length=64)]


@get("/stocktakes/places", sync_to_thread=True, guards=[roles(*OFFICE)])
def stocktake_places(request: Request, location_code: PlaceCode = "") -> Template:
    """The open form's list of places below the chosen location (htmx swaps it in when the
    location changes)."""
    database = services_of(request.app.state).database
    return page(
        request,
        "stocktakes_places.html",
        "盘点",
        sub_places=places_below(database, request.user, location_code.strip()),
        chosen_places=[],
        errors={},
    )


def _open_command(data: dict[str, Any]) -> OpenStocktake:
    text = str(data.get("cut_off", "")).strip()
    try:
        cut_off = dt.date.fromisoformat(text) if text else None
    except ValueError:
        raise LedgerError(
            Code.invalid_field,
            "截止日期应写成 YYYY-MM-DD，如 2026-06-30 (a date)",
            "cut_off",
        ) from None
    scope = str(data.get("scope", "self"))
    return OpenStocktake(
        location_code=str(data.get("location_code", "")).strip(),
        cut_off=cut_off,
        item_codes=tuple(many(data, "item_codes")),
        blind=bool(data.get("blind")),
        memo=str(data.get("memo", "")).strip(),
        include_subtree=scope == "subtree",
        location_codes=tuple(many(data, "location_codes")) if scope == "listed" else (),
    )


@post("/stocktakes", sync_to_thread=True, guards=[roles(*OFFICE)])
def open_stocktake(request: Request, data: Form) -> Any:
    """盘点: open a count (POST /api/v1/stocktakes)."""
    user: User = request.user
    services = services_of(request.app.state)
    try:
        command = _open_command(data)
        require_stocktake_opener(user, command.location_code, services.location)
        number = once(
            request,
            data,
            lambda: (
                stocktakes.open_stocktake(
                    services.database, command, user.id, services.clock()
                ).number
            ),
        )
    except LedgerError as error:
        errors = field_errors(error, OPEN_RENAME, OPEN_FIELDS)
        return _list_page(request, None, data, errors, status_of(error))
    return Redirect(path=f"/stocktakes/{number}?done=opened", status_code=303)


@get("/stocktakes/{number:str}", sync_to_thread=True, guards=[roles(*OFFICE)])
def stocktake_page(
    request: Request, number: FromPath[str], threshold: Threshold = DEFAULT_THRESHOLD
) -> Template:
    return detail_page(request, number, threshold)


HANDLERS: list = [
    stocktake_list,
    stocktake_places,
    open_stocktake,
    stocktake_page,
    *FORM_HANDLERS,
]
