"""Versions of reference data: read an item's, a location's or a batch's history; change it
(admins) by writing its next version — never a silent update. See ledger/services/reference.py.
"""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from api.auth import require_visible, roles
from api.errors import Forbidden
from api.routes import IdempotencyKey, idempotent, services_of
from ledger.reference import ReferenceKind
from ledger.services import reference
from ledger.services.reference import (
    BatchChange,
    ItemChange,
    LocationChange,
    ReferenceVersionOut,
)
from ledger.services.users import User

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
    guards=[roles("admin")],
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
    _require_global(request.user)
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
    entry = services.location(code, "code")
    require_visible(request.user, entry.path, entry.physical, entry.location.name)
    return reference.history(services.database, ReferenceKind.location, code)


@post(
    "/locations/{code:str}/versions",
    sync_to_thread=True,
    guards=[roles("admin")],
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
    entry = services_of(state).location(code, "code")
    require_visible(request.user, entry.path, entry.physical, entry.location.name)
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
    guards=[roles("admin")],
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
    _require_global(request.user)
    return _change(request, state, idempotency_key, data, ReferenceKind.batch, item_code, number)


def _require_global(user: User) -> None:
    """Items and batches are shared by every city: a city's admin would change the others'
    history too."""
    if not user.is_global:
        raise Forbidden(
            "物资和批次为各市共用，只有全局管理员可以修改 (items and batches are shared by every "
            "city: global admins only)"
        )


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
    ledger = services_of(state).ledger
    today = ledger.clock()
    return idempotent(
        request,
        state,
        key,
        data,
        lambda _: reference.change(ledger.database, kind, code, data, user.id, today, number),
    )


ROUTES = [
    item_versions,
    change_item,
    location_versions,
    change_location,
    batch_versions,
    change_batch,
]
