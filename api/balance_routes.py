"""Stock on hand, reserved and available, per account or rolled up (ledger/services/balances.py)."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Request, get
from litestar.datastructures import State
from litestar.params import FromQuery

from api.common import Limit, Offset, reads_of, services_of
from api.policy import own_root_path, scope_path
from api.schemas import BalanceRow, Page, page
from ledger.services.balances import BalanceQuery, check_grouping
from ledger.services.balances import balances as balance_rows
from ledger.services.users import User


@get(
    "/balances",
    sync_to_thread=True,
    tags=["balances"],
    summary="Stock on hand, reserved and available",
)
def balances(
    request: Request,
    state: State,
    location: FromQuery[str | None] = None,
    subtree: FromQuery[bool] = False,
    item: FromQuery[str | None] = None,
    batch: FromQuery[str | None] = None,
    as_of: FromQuery[dt.date | None] = None,
    group_by: FromQuery[str] = "account",
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[BalanceRow]:
    """`location` with `subtree=true` rolls up everything under it; `group_by` sums per
    location, item or batch (item and batch totals across the selected locations)."""
    user: User = request.user
    services = services_of(state)
    check_grouping(group_by)
    query = BalanceQuery(
        under=scope_path(user),
        root_path=own_root_path(user),
        item_code=item,
        batch_number=batch,
        as_of=as_of,
    )
    if location is not None:
        entry = services.visible_location(user, location, "location")
        if subtree:
            query = query._replace(under=entry.path)
        else:
            query = query._replace(location_code=location, virtual=not entry.physical)
    rows = balance_rows(reads_of(request, state), query, group_by)[offset : offset + limit + 1]
    return page([BalanceRow(*msgspec.structs.astuple(row)) for row in rows], limit, offset)


ROUTES = [balances]
