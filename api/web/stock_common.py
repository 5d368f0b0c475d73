"""What the 库存 and 凭证 pages share: query values as they come (empty is none, a day as
YYYY-MM-DD with its error beside the field), the item filter's options, the day balances are
read at, and the way down the tree to a location."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Request
from litestar.params import QueryParameter

from api.common import services_of
from api.policy import scope_path
from ledger.services import lookups
from ledger.services.users import User

Query = Annotated[str | None, QueryParameter(required=False)]
From = Annotated[str | None, QueryParameter(name="from", required=False)]
To = Annotated[str | None, QueryParameter(name="to", required=False)]
PageNumber = Annotated[int, QueryParameter(name="page", ge=1, le=100_000)]

BAD_DAY = "日期格式应为 YYYY-MM-DD"


def parse_day(text: str | None, field: str, errors: dict[str, str]) -> dt.date | None:
    """A YYYY-MM-DD query value; None when empty, or (with an error for `field`) when it is
    not a date."""
    if not text or not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        errors[field] = BAD_DAY
        return None


def blank(text: str | None) -> str | None:
    """A query value, None when empty."""
    return text.strip() if text and text.strip() else None


def item_options(request: Request) -> list[tuple[str, str]]:
    """Every item as a filter's option: (code, name)."""
    items = lookups.items(services_of(request.app.state).database, 10_000, 0)
    return [("", "全部物资")] + [(item.code, f"{item.name}（{item.code}）") for item in items]


def as_of_reading(as_of: dt.date | None, today: dt.date) -> dt.date | None:
    """The day balances are read at: None (now, with reservations) for today or later."""
    return None if as_of is None or as_of >= today else as_of


def crumbs(request: Request, user: User, path: str) -> list[tuple[str, str]]:
    """(code, name) from the top of the user's reach down to the location at `path`."""
    database = services_of(request.app.state).database
    scope = scope_path(user) or "/"
    codes = path.strip("/").split("/")
    found = []
    for depth in range(1, len(codes) + 1):
        prefix = "/" + "/".join(codes[:depth]) + "/"
        if prefix.startswith(scope):
            found.append(
                (codes[depth - 1], lookups.location(database, codes[depth - 1]).location.name)
            )
    return found
