"""Reference data: items (with their packs), locations (the tree) and batches; their versions
— read an item's, a location's or a batch's history, change it (admins) by writing its next
version, never a silent update (ledger/services/reference.py).
"""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.types import ControllerRouterHandler

from api.common import IdempotencyKey, Limit, Offset, idempotent, services_of
from api.policy import (
    at_top,
    require_global_for_shared,
    require_may_add_location,
    roles,
    scope_path,
)
from api.schemas import Page, page
from ledger import commands as c
from ledger.model import Batch, Item, Location, Role
from ledger.reference import ReferenceKind
from ledger.services import lookups, reference
from ledger.services.ledger import execute
from ledger.services.lookups import LocationRecord
from ledger.services.reference_models import (
    BatchChange,
    ItemChange,
    LocationChange,
    ReferenceVersionOut,
)
from ledger.services.users import User


class ItemController(Controller):
    path = "/items"
    tags = ("reference",)

    @get("/", sync_to_thread=True, summary="Items with their packs")
    def list_items(self, state: State, limit: Limit = 50, offset: Offset = 0) -> Page[Item]:
        return page(lookups.items(services_of(state).database, limit + 1, offset), limit, offset)

    @get("/{code:str}", sync_to_thread=True, summary="One item")
    def get_item(self, state: State, code: FromPath[str]) -> Item:
        return lookups.item(services_of(state).database, code)

    @post("/", sync_to_thread=True, guards=[roles(Role.admin)], summary="Add an item (admin)")
    def add_item(
        self,
        request: Request,
        state: State,
        data: JSONBody[Item],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Item]:
        services = services_of(state)
        return idempotent(
            request,
            state,
            idempotency_key,
            data,
            lambda key: execute(
                services.database, c.AddItem(data, key), request.user.id, services.clock()
            ),
        )


class LocationController(Controller):
    path = "/locations"
    tags = ("reference",)

    @get("/", sync_to_thread=True, summary="Locations in tree order, within your subtree")
    def list_locations(
        self,
        request: Request,
        state: State,
        under: FromQuery[str | None] = None,
        level: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[LocationRecord]:
        user: User = request.user
        services = services_of(state)
        path = scope_path(user)
        if under is not None:
            path = services.visible_location(user, under, "under").path
        found = lookups.locations(services.database, path, level, at_top(user), limit + 1, offset)
        return page(found, limit, offset)

    @get("/{code:str}", sync_to_thread=True, summary="One location")
    def get_location(self, request: Request, state: State, code: FromPath[str]) -> LocationRecord:
        services = services_of(state)
        entry = services.visible_location(request.user, code, "code")
        return lookups.location_record(services.database, entry)

    @post("/", sync_to_thread=True, guards=[roles(Role.admin)], summary="Add a location (admin)")
    def add_location(
        self,
        request: Request,
        state: State,
        data: JSONBody[Location],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Location]:
        services = services_of(state)
        parent = None
        if data.parent_code is not None:
            parent = services.location(data.parent_code, "parent_code")
        require_may_add_location(request.user, parent)
        return idempotent(
            request,
            state,
            idempotency_key,
            data,
            lambda key: execute(
                services.database, c.AddLocation(data, key), request.user.id, services.clock()
            ),
        )


class BatchController(Controller):
    path = "/batches"
    tags = ("reference",)

    @get("/", sync_to_thread=True, summary="Batches (print runs, 批号) with expiry")
    def list_batches(
        self,
        state: State,
        item: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[Batch]:
        found = lookups.batches(services_of(state).database, item, limit + 1, offset)
        return page(found, limit, offset)

    @get("/{item_code:str}/{number:str}", sync_to_thread=True, summary="One batch")
    def get_batch(self, state: State, item_code: FromPath[str], number: FromPath[str]) -> Batch:
        return lookups.batch(services_of(state).database, item_code, number)


CHANGE = (
    "Writes the next version (in force from `valid_from`, default today) and an operations-log "
    "entry in the same database transaction; `reason` is required. Refused: a change that "
    "changes nothing (`reference_unchanged`), a row changed outside the ledger "
    "(`reference_not_as_versioned`), a day before the last version's (`version_before_last`)."
)


@get(
    "/items/{code:str}/versions",
    sync_to_thread=True,
    tags=["reference"],
    summary="An item's versions, oldest first",
)
def item_versions(state: State, code: FromPath[str]) -> list[ReferenceVersionOut]:
    return reference.history(services_of(state).database, ReferenceKind.item, code)


@post(
    "/items/{code:str}/versions",
    sync_to_thread=True,
    guards=[roles(Role.admin)],
    tags=["reference"],
    summary="Change an item's name, category, packs or base unit (global admin)",
    description=CHANGE + " The base unit cannot change once the item has batches, requests or "
    "counts (`base_unit_in_use`): quantities are stored in base units.",
)
def change_item(
    request: Request,
    state: State,
    code: FromPath[str],
    data: JSONBody[ItemChange],
    idempotency_key: IdempotencyKey = None,
) -> Response[ReferenceVersionOut]:
    require_global_for_shared(request.user)
    return _change(request, state, idempotency_key, data, ReferenceKind.item, code)


@get(
    "/locations/{code:str}/versions",
    sync_to_thread=True,
    tags=["reference"],
    summary="A location's versions, oldest first (within your subtree)",
)
def location_versions(
    request: Request, state: State, code: FromPath[str]
) -> list[ReferenceVersionOut]:
    services = services_of(state)
    services.visible_location(request.user, code, "code")
    return reference.history(services.database, ReferenceKind.location, code)


@post(
    "/locations/{code:str}/versions",
    sync_to_thread=True,
    guards=[roles(Role.admin)],
    tags=["reference"],
    summary="Rename a location or move it under another parent (admin of its city)",
    description=CHANGE + " A move keeps the level (a 村 under a 乡镇 …) and the city "
    "(`location_move_across_roots`); the whole subtree moves with it.",
)
def change_location(
    request: Request,
    state: State,
    code: FromPath[str],
    data: JSONBody[LocationChange],
    idempotency_key: IdempotencyKey = None,
) -> Response[ReferenceVersionOut]:
    services_of(state).visible_location(request.user, code, "code")
    return _change(request, state, idempotency_key, data, ReferenceKind.location, code)


@get(
    "/batches/{item_code:str}/{number:str}/versions",
    sync_to_thread=True,
    tags=["reference"],
    summary="A batch's versions, oldest first",
)
def batch_versions(
    state: State, item_code: FromPath[str], number: FromPath[str]
) -> list[ReferenceVersionOut]:
    return reference.history(services_of(state).database, ReferenceKind.batch, item_code, number)


@post(
    "/batches/{item_code:str}/{number:str}/versions",
    sync_to_thread=True,
    guards=[roles(Role.admin)],
    tags=["reference"],
    summary="Correct a batch's production or expiry date (global admin)",
    description=CHANGE + " An expiry cannot move before an issue, transfer or distribution of "
    "the batch already recorded (`expiry_before_movements`). Labels printed before carry the "
    "old expiry: print them again.",
)
def change_batch(
    request: Request,
    state: State,
    item_code: FromPath[str],
    number: FromPath[str],
    data: JSONBody[BatchChange],
    idempotency_key: IdempotencyKey = None,
) -> Response[ReferenceVersionOut]:
    require_global_for_shared(request.user)
    return _change(request, state, idempotency_key, data, ReferenceKind.batch, item_code, number)


def _change(
    request: Request,
    state: State,
    key: str | None,
    data: BatchChange | LocationChange | ItemChange,
    kind: ReferenceKind,
    code: str,
    number: str | None = None,
) -> Response[ReferenceVersionOut]:
    user: User = request.user
    services = services_of(state)
    today = services.clock()
    return idempotent(
        request,
        state,
        key,
        data,
        lambda _: reference.change(services.database, kind, code, data, user.id, today, number),
    )


ROUTES: list[ControllerRouterHandler] = [
    ItemController,
    LocationController,
    BatchController,
    item_versions,
    change_item,
    location_versions,
    change_location,
    batch_versions,
    change_batch,
]
