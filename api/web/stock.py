"""库存: stock on hand over the location tree with subtree roll-ups, by item and batch, as of a date; the stock card (明细账); packs of a batch and where they are.

`/stock` shows a location (the user's own by default) and the locations right under it, each
with its own stock and its subtree's total per item; a child opens the next level. The shared
virtual places (在途 …) are listed for a user at the top of the tree, read as the balances API
reads them for that user. `/stock/{code}` is one location's lines by item and batch. Reach is
api/policy.py's: a location outside the user's subtree is refused (403) as by the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.common import services_of
from api.policy import at_top, own_root_path, scope_path
from api.web.render import page
from api.web.stock_card import card_page, packs_page
from api.web.stock_common import Query, as_of_reading, blank, crumbs, item_options, parse_day
from ledger.model import Item
from ledger.services import lookups
from ledger.services.balances import BalanceQuery, balances
from ledger.services.stock_tree import stock_tree, virtual_stock
from ledger.services.users import User


def _default_top(user: User) -> str | None:
    """The user's top of the tree: its own location, its city for an admin, none (every city)
    for a global admin."""
    scope = scope_path(user)
    return scope.strip("/").split("/")[-1] if scope else None


@get("/stock", sync_to_thread=True)
def stock_page(request: Request, at: Query = None, as_of: Query = None, item: Query = None) -> Any:
    """The tree: a location and its children with their own stock and roll-ups."""
    user: User = request.user
    services = services_of(request.app.state)
    today = services.clock()
    errors: dict[str, str] = {}
    day = parse_day(as_of, "as_of", errors) or today
    code = blank(at) or _default_top(user)
    top = services.visible_location(user, code, "at") if code else None
    if top is not None and not top.physical:
        return Redirect(f"/stock/{top.location.code}", status_code=303)
    item_code = blank(item)
    reading = as_of_reading(day, today)
    tree = stock_tree(services.database, top, own_root_path(user), item_code, reading)
    virtual, virtual_items = (
        virtual_stock(services.database, own_root_path(user), item_code, reading)
        if at_top(user)
        else ([], {})
    )
    return page(
        request,
        "stock_tree.html",
        "库存",
        tree=tree,
        items={**tree.items, **virtual_items},
        virtual=virtual,
        crumbs=crumbs(request, user, top.path) if top is not None else [],
        at=top.location.code if top is not None else "",
        as_of=day.isoformat(),
        past=reading is not None,
        item=item_code or "",
        item_options=item_options(request),
        errors=errors,
    )


def _expiry(expires_on: dt.date | None, today: dt.date, days: int) -> str:
    """'bad' for an expired batch, 'warn' for one expiring within `days`, '' otherwise."""
    if expires_on is None:
        return ""
    if expires_on < today:
        return "bad"
    return "warn" if expires_on <= today + dt.timedelta(days=days) else ""


@get("/stock/{code:str}", sync_to_thread=True)
def location_page(
    request: Request, code: FromPath[str], as_of: Query = None, item: Query = None
) -> Template:
    """One location's lines by item and batch: expiry, on hand, reserved, available."""
    user: User = request.user
    services = services_of(request.app.state)
    today = services.clock()
    errors: dict[str, str] = {}
    day = parse_day(as_of, "as_of", errors) or today
    entry = services.visible_location(user, code, "code")
    item_code = blank(item)
    reading = as_of_reading(day, today)
    query = BalanceQuery(
        location_code=code,
        virtual=not entry.physical,
        under=scope_path(user),
        root_path=own_root_path(user),
        item_code=item_code,
        as_of=reading,
    )
    lines = balances(services.database, query, "account")
    items: dict[str, Item] = {}
    for line in lines:
        if line.item_code not in items:
            items[line.item_code] = lookups.item(services.database, line.item_code)
    days = request.app.state.settings.near_expiry_days
    children = lookups.locations(services.database, entry.path, None, False, 2, 0)
    return page(
        request,
        "stock_location.html",
        f"库存 · {entry.location.name}",
        entry=entry,
        lines=lines,
        tones={
            (ln.item_code, ln.batch_number): _expiry(ln.expires_on, today, days) for ln in lines
        },
        items=items,
        has_children=entry.physical and len(children) > 1,
        crumbs=crumbs(request, user, entry.path) if entry.physical else [],
        as_of=day.isoformat(),
        past=reading is not None,
        item=item_code or "",
        item_options=item_options(request),
        card_from=dt.date(today.year, 1, 1).isoformat(),
        card_to=today.isoformat(),
        errors=errors,
    )


HANDLERS: list = [stock_page, card_page, packs_page, location_page]
