"""库存定额 (/norms), an admin's page: the norm in force today at each level of the tree in the
admin's city and where it comes from (本市本级, 全部城市本级 or the default; a global admin
sees every city's, or one city's with ?city=), every norm set (the level norms of its city and
of every city, and the places' own within the admin's reach, with the day each is valid from),
and the form that sets a new dated norm (a city's admin: for its own city's levels or its
places; a global admin: for a city's levels or every city's) —
`ledger.services.norms.set_norm`, as `ledger norms set` and `POST /api/v1/norms` call it, with
the same checks, reach (api/norm_routes.require_may_set_norm) and operations log entry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.response import Redirect, Template

from api.common import services_of
from api.errors import status_of
from api.norm_routes import NormSet, require_may_set_norm
from api.policy import roles, root_code, scope_path
from api.web.render import Form, chinese, errors_of, new_once_key, once, page
from api.web.request_views import local_time, parse_date
from ledger import norms as n
from ledger.model import LocationLevel
from ledger.rules import Code, LedgerError
from ledger.services import lookups, norms
from ledger.services.database import Database
from ledger.services.users import User

FIELDS = frozenset(
    {
        "scope",
        "level",
        "city_code",
        "location_code",
        "item_code",
        "min_months",
        "max_months",
        "valid_from",
    }
)
PLACES_MAX = 500
ITEMS_MAX = 500
CITIES_MAX = 100


def levels_in_force(
    database: Database, city_code: str | None, today: dt.date
) -> list[tuple[str, str, n.Norm]]:
    """(level, its 中文 name, the norm in force today there) for each level, city first: in
    the city `city_code` (None: every city's level norms alone)."""
    return [
        (level, norms.LEVEL_NAMES[LocationLevel(level)], norm)
        for level, norm in norms.levels_in_force(database, city_code, today)
    ]


def _viewed_city(request: Request, cities: dict[str, str]) -> str | None:
    """The city whose levels the page shows: an admin's own; a global admin's ?city= (one of
    the cities), else None (every city's level norms)."""
    user: User = request.user
    if not user.is_global:
        return root_code(user)
    wanted = request.query_params.get("city", "")
    return wanted if wanted in cities else None


def _page(
    request: Request,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    notice: str = "",
) -> Template:
    user: User = request.user
    services = services_of(request.app.state)
    database = services.database
    today = services.clock()
    found = norms.norms_set(database, root_code(user))
    places = lookups.locations(database, scope_path(user), None, False, PLACES_MAX, 0)
    items = lookups.items(database, ITEMS_MAX, 0)
    cities = {
        city.code: city.name
        for city in lookups.locations(database, scope_path(user), "city", False, CITIES_MAX, 0)
    }
    viewed = _viewed_city(request, cities)
    names = {place.code: place.name for place in places} | cities
    item_names = {item.code: item.name for item in items}
    form = form or {
        "scope": "level" if user.is_global else "location",
        "city_code": viewed or "",
        "valid_from": today.isoformat(),
        "once": new_once_key(),
    }
    answer = page(
        request,
        "norms.html",
        "库存定额",
        today=today,
        levels=levels_in_force(database, viewed, today),
        viewed_city=viewed,
        own_city=None if user.is_global else viewed,
        city_names=cities,
        city_options=[("", "全部城市")]
        + [(code, f"{name}（{code}）") for code, name in cities.items()],
        settings=list(reversed(found)),
        place_names=names,
        item_names=item_names,
        level_names={str(k): v for k, v in norms.LEVEL_NAMES.items()},
        source_names=n.NORM_SOURCE_NAMES,
        place_options=[(place.code, f"{place.name}（{place.code}）") for place in places],
        item_options=[("", "全部物资")]
        + [(item.code, f"{item.name}（{item.code}）") for item in items],
        level_options=[("", "请选择")] + [(str(k), v) for k, v in norms.LEVEL_NAMES.items()],
        form=form,
        errors=errors or {},
        notice=notice,
        local_time=local_time,
    )
    answer.status_code = status_code
    return answer


@get("/norms", sync_to_thread=True, guards=[roles()])
def norms_page(request: Request) -> Template:
    saved = request.query_params.get("saved", "")
    return _page(request, notice="已保存库存定额。" if saved else "")


def _months(text: str, field: str) -> int:
    cleaned = text.strip()
    digits = cleaned.removeprefix("-")  # -1: whole, refused by the service's range check
    # isdecimal, not isdigit: '²' is a digit int() cannot read
    if not digits.isdecimal() or len(digits) > 3:
        raise LedgerError(Code.norm_months_invalid, f"月数须为整数：{text} (whole months)", field)
    return int(cleaned)


def norm_of_form(form: dict[str, str]) -> NormSet:
    """The form as the API's body: a level's norm or a location's (and maybe one item's)."""
    by_level = form["scope"] == "level"
    return NormSet(
        _months(form["min_months"], "min_months"),
        _months(form["max_months"], "max_months"),
        level=(form["level"] or None) if by_level else None,
        city_code=(form["city_code"] or None) if by_level else None,
        location_code=None if by_level else (form["location_code"] or None),
        item_code=None if by_level else (form["item_code"] or None),
        valid_from=parse_date(form["valid_from"], "valid_from"),
    )


@post("/norms", sync_to_thread=True, guards=[roles()], status_code=303)
def set_norm(request: Request, data: Form) -> Any:
    """Set a norm; refused beside the field at fault (403 outside the admin's reach)."""
    user: User = request.user
    services = services_of(request.app.state)
    form = {key: str(data.get(key, "")).strip()[:200] for key in (*FIELDS, "once")}
    try:
        wanted = norm_of_form(form)
        city_code = require_may_set_norm(user, request.app.state, wanted)
        once(
            request,
            form,
            lambda: (
                norms.set_norm(
                    services.database,
                    wanted.min_months,
                    wanted.max_months,
                    level=wanted.level,
                    city_code=city_code,
                    location_code=wanted.location_code,
                    item_code=wanted.item_code,
                    valid_from=wanted.valid_from,
                    actor=user.id,
                    today=services.clock(),
                ).id
            ),
        )
    except PermissionDeniedException as refused:
        form["once"] = new_once_key()
        field = "city_code" if form["scope"] == "level" else "location_code"
        return _page(request, form, {field: chinese(str(refused.detail))}, 403)
    except LedgerError as error:
        form["once"] = new_once_key()
        return _page(request, form, errors_of(error, FIELDS), status_of(error))
    return Redirect(path="/norms?saved=1", status_code=303)


HANDLERS: list = [norms_page, set_norm]
