"""库点 pickers: the places a form offers, so that nobody types a location's code.

The physical locations of the user's subtree (an admin's city; everything for a global admin)
in tree order, each indented by its depth with its code beside ("　赵家镇（510121-ZJ）"). A
subtree of up to SELECT_MAX places is a <select>; a larger one a typed code with the places as
suggestions (<input list> and a <datalist> of code and name; any code may still be typed); one
beyond LIST_MAX a typed code alone. `_places.html` draws either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from litestar import Request

from api.common import services_of
from api.policy import scope_path
from ledger.services import lookups
from ledger.services.database import Database
from ledger.services.users import User

SELECT_MAX = 2_000  # places a select lists; beyond, the code is typed with suggestions
LIST_MAX = 20_000  # places suggested to a typed code; beyond, the code is typed alone


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    depth: int = 0  # below the top of the places listed

    @property
    def label(self) -> str:
        return "\u3000" * self.depth + f"{self.name}（{self.code}）"


@dataclass(frozen=True)
class Places:
    """places: in tree order. typed: too many for a select (the code is typed, `places`
    suggested; none when there are more than a page should carry)."""

    places: tuple[Place, ...]
    typed: bool = False

    def without(self, codes: Iterable[str]) -> Places:
        left = set(codes)
        return Places(tuple(p for p in self.places if p.code not in left), self.typed)

    def name_of(self, code: str) -> str | None:
        return next((p.name for p in self.places if p.code == code), None)

    def options(self) -> list[tuple[str, str]]:
        """(code, indented label) for a select."""
        return [(place.code, place.label) for place in self.places]


def places_under(database: Database, under: str | None, limit: int | None = None) -> Places:
    """The physical locations of the subtree `under` (None: every one), as a picker offers
    them: a select's up to SELECT_MAX, suggestions up to `limit` (LIST_MAX), none beyond."""
    limit = LIST_MAX if limit is None else limit
    found = lookups.locations(database, under, None, False, limit + 1, 0)
    top = min((record.path.count("/") for record in found), default=0)
    places = tuple(
        Place(record.code, record.name, record.path.count("/") - top) for record in found[:limit]
    )
    if len(found) > limit:
        return Places((), typed=True)
    return Places(places, typed=len(places) > SELECT_MAX)


def user_places(request: Request) -> Places:
    """The places of the signed-in user's subtree."""
    user: User = request.user
    return places_under(services_of(request.app.state).database, scope_path(user))


def own_place(request: Request) -> Places:
    """The user's own location alone (where a clerk works)."""
    user: User = request.user
    return Places((Place(user.location_code, user.location_name),))


def location_options(request: Request) -> list[tuple[str, str]] | None:
    """The physical locations of the user's subtree in tree order, indented by depth, or
    None when there are too many for a select (the code is typed instead)."""
    user: User = request.user
    database = services_of(request.app.state).database
    found = places_under(database, scope_path(user), SELECT_MAX)
    return None if found.typed else found.options()
