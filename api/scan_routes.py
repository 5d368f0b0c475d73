"""Labels and scanning over HTTP: packs, label sheets, announced deliveries, scan documents.

Clerks scan at their own location; a township's requester may also scan arrivals (签收) there.
Reading packs and documents follows the usual subtree rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter
from litestar.types import ControllerRouterHandler

from api.common import IdempotencyKey, Limit, Offset, idempotent, services_of
from api.media_types import LabelOperation
from api.policy import SCAN_ROLES, require_at, require_scanner, roles, scope_path
from api.schemas import Page, page
from ledger.commands import Shortage
from ledger.limits import (
    integer_magnitude_max,
    label_columns_max,
    label_margin_mm_max,
    label_rows_max,
    pack_serial_max,
)
from ledger.model import Role, ScanDocumentStatus
from ledger.services import lookups, scanning
from ledger.services.label_sheets import Grid, label_png, label_svg
from ledger.services.lookups import DocumentRow
from ledger.services.scan_models import (
    AnnounceDelivery,
    OpenDocument,
    OpenPack,
    PackInfo,
    Scan,
    ScanDocument,
    ScanResult,
)
from ledger.services.scan_packs import label_views
from ledger.services.users import User

DocumentId = Annotated[int, Parameter(ge=1, le=integer_magnitude_max, description="scan document")]
Serial = Annotated[int, Parameter(ge=1, le=pack_serial_max, description="pack serial")]
Columns = Annotated[int, QueryParameter(ge=1, le=label_columns_max, description="labels across")]
Rows = Annotated[int, QueryParameter(ge=1, le=label_rows_max, description="labels down")]
Margin = Annotated[
    float, QueryParameter(ge=0, le=label_margin_mm_max, description="page margin in mm")
]
DocumentStatus = Annotated[
    str | None, QueryParameter(pattern=f"^({'|'.join(ScanDocumentStatus)})$")
]


class PostDocumentBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """occurred_on: the business date of the movement (today if omitted). shortage: on an
    arrival (confirm) with packs not scanned, the explicit acknowledgement of what is missing
    and why; without it such a post is refused with `shortage_unconfirmed`, whose problem
    details list the missing lines (`missing`) and packs (`missing_packs`)."""

    occurred_on: dt.date | None = None
    shortage: Shortage | None = None


def _document_guard(state: State, user: User):
    services = services_of(state)

    def check(row: DocumentRow) -> None:
        location = lookups.location_by_id(services.database, row.location_id)
        require_scanner(user, row.purpose, location.location.code, lambda _: location)

    return check


def _visible_location(state: State, user: User, code: str) -> None:
    services_of(state).visible_location(user, code)


class PackController(Controller):
    path = "/batches/{item_code:str}/{number:str}"
    tags = ("labels",)

    @get("/packs", sync_to_thread=True, summary="A batch's labelled packs at a location")
    def packs(
        self,
        request: Request,
        state: State,
        item_code: FromPath[str],
        number: FromPath[str],
        location: FromQuery[str],
        sealed: FromQuery[bool] = True,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[PackInfo]:
        _visible_location(state, request.user, location)
        services = services_of(state)
        found = scanning.packs(
            services.database,
            services.label_keys,
            item_code,
            number,
            location,
            sealed,
            limit + 1,
            offset,
        )
        return page(found, limit, offset)

    @get(
        "/labels",
        sync_to_thread=True,
        guards=[roles(Role.clerk)],
        summary="Label sheet (PDF, A4) of the sealed packs at or announced for a location",
        media_type="application/pdf",
    )
    def labels(
        self,
        request: Request,
        state: State,
        item_code: FromPath[str],
        number: FromPath[str],
        location: FromQuery[str],
        columns: Columns = 3,
        rows: Rows = 8,
        margin_mm: Margin = 8.0,
    ) -> Response[bytes]:
        _visible_location(state, request.user, location)
        services = services_of(state)
        sheet = scanning.sheet(
            services.database,
            services.label_keys,
            item_code,
            number,
            location,
            Grid(columns, rows, margin_mm),
        )
        filename = f"labels-{item_code}-{number}.pdf"
        return Response(
            sheet,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{filename}"'},
        )

    @get(
        "/packs/{serial:int}/label",
        sync_to_thread=True,
        summary="One pack's label as PNG or SVG",
        media_type="image/png",
        operation_class=LabelOperation,
    )
    def label(
        self,
        request: Request,
        state: State,
        item_code: FromPath[str],
        number: FromPath[str],
        serial: Serial,
        format: Annotated[str, QueryParameter(pattern="^(png|svg)$")] = "png",
    ) -> Response[bytes]:
        services = services_of(state)
        pack = scanning.pack(services.database, services.label_keys, item_code, number, serial)
        _visible_location(state, request.user, pack.location_code)
        (view,) = label_views([pack])
        if format == "svg":
            return Response(label_svg(view), media_type="image/svg+xml")
        return Response(label_png(view), media_type="image/png")


@post(
    "/deliveries",
    sync_to_thread=True,
    guards=[roles(Role.clerk)],
    tags=["labels"],
    summary="到货通知: register a delivery and cut it into labelled packs to scan in",
)
def announce_delivery(
    request: Request,
    state: State,
    data: JSONBody[AnnounceDelivery],
    idempotency_key: IdempotencyKey = None,
) -> Response[list[PackInfo]]:
    require_at(
        request.user, data.location_code, Role.clerk, "登记到货", services_of(state).location
    )
    services = services_of(state)
    return idempotent(
        request,
        state,
        idempotency_key,
        data,
        lambda k: scanning.announce(
            services.database, services.label_keys, data, None, services.clock()
        ),
    )


@post(
    "/packs/open",
    sync_to_thread=True,
    guards=[roles(Role.clerk)],
    tags=["labels"],
    status_code=200,
    summary="拆包: open a pack; its units become loose stock where it is",
)
def open_pack(
    request: Request,
    state: State,
    data: JSONBody[OpenPack],
    idempotency_key: IdempotencyKey = None,
) -> Response[PackInfo]:
    require_at(request.user, data.location_code, Role.clerk, "拆包", services_of(state).location)
    services = services_of(state)
    return idempotent(
        request,
        state,
        idempotency_key,
        data,
        lambda k: scanning.open_pack(
            services.database, services.label_keys, data, None, services.clock()
        ),
        200,
    )


class ScanDocumentController(Controller):
    path = "/scan-documents"
    tags = ("scanning",)

    @post(
        "/",
        sync_to_thread=True,
        guards=[roles(Role.clerk, Role.requester)],
        summary="Open a scan document (receive, issue, confirm, count)",
    )
    def create(
        self,
        request: Request,
        state: State,
        data: JSONBody[OpenDocument],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ScanDocument]:
        user: User = request.user
        if data.purpose in SCAN_ROLES:
            require_scanner(user, data.purpose, data.location_code, services_of(state).location)
        services = services_of(state)
        return idempotent(
            request,
            state,
            idempotency_key,
            data,
            lambda k: scanning.open_document(services.database, data, user.id, services.clock()),
        )

    @get(
        "/",
        sync_to_thread=True,
        summary="Scan documents in your subtree, newest first, with totals (no scan lines)",
    )
    def list(
        self,
        request: Request,
        state: State,
        status: DocumentStatus = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[ScanDocument]:
        user: User = request.user
        database = services_of(state).database
        found = scanning.documents(database, scope_path(user), status, limit + 1, offset)
        return page(found, limit, offset)

    @get("/{document_id:int}", sync_to_thread=True, summary="One scan document with its scans")
    def one(self, request: Request, state: State, document_id: DocumentId) -> ScanDocument:
        document = scanning.document(services_of(state).database, document_id)
        _visible_location(state, request.user, document.location_code)
        return document

    def _act(self, request, state, key, document_id: int, action: str, data=None) -> Response:
        services = services_of(state)
        database = services.database
        check = _document_guard(state, request.user)
        user: User = request.user

        def work(_: str | None) -> ScanDocument:
            today = services.clock()
            if action == "undo":
                return scanning.undo(database, document_id, check, None, today)
            if action == "cancel":
                return scanning.cancel(database, document_id, check, user.id, today)
            return scanning.post(
                database, document_id, user.id, data.occurred_on, check, data.shortage, today
            )

        return idempotent(request, state, key, data, work, 200)

    @post(
        "/{document_id:int}/undo",
        sync_to_thread=True,
        guards=[roles(Role.clerk, Role.requester)],
        status_code=200,
        summary="Take back the last scan",
    )
    def undo(
        self,
        request: Request,
        state: State,
        document_id: DocumentId,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ScanDocument]:
        return self._act(request, state, idempotency_key, document_id, "undo")

    @post(
        "/{document_id:int}/cancel",
        sync_to_thread=True,
        guards=[roles(Role.clerk, Role.requester)],
        status_code=200,
        summary="Cancel an open document; nothing is posted",
    )
    def cancel(
        self,
        request: Request,
        state: State,
        document_id: DocumentId,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ScanDocument]:
        return self._act(request, state, idempotency_key, document_id, "cancel")

    @post(
        "/{document_id:int}/post",
        sync_to_thread=True,
        guards=[roles(Role.clerk, Role.requester)],
        status_code=200,
        summary="Post what was scanned as one transaction (a count closes with its totals)",
        description=(
            "An arrival with packs not scanned is refused with 409 `shortage_unconfirmed` "
            "listing `missing` lines and `missing_packs`; post again with `shortage` "
            "(reason, the missing lines, note) to record the shortage."
        ),
    )
    def post_document(
        self,
        request: Request,
        state: State,
        document_id: DocumentId,
        data: JSONBody[PostDocumentBody],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ScanDocument]:
        return self._act(request, state, idempotency_key, document_id, "post", data)


@post(
    "/scans",
    sync_to_thread=True,
    guards=[roles(Role.clerk, Role.requester)],
    tags=["scanning"],
    status_code=200,
    summary="Scan one label into an open document",
)
def scan(
    request: Request,
    state: State,
    data: JSONBody[Scan],
    idempotency_key: IdempotencyKey = None,
) -> Response[ScanResult]:
    user: User = request.user
    services = services_of(state)
    check = _document_guard(state, user)
    return idempotent(
        request,
        state,
        idempotency_key,
        data,
        lambda k: scanning.scan(
            services.database, services.label_keys, data, user.id, check, services.clock()
        ),
        200,
    )


ROUTES: list[ControllerRouterHandler] = [
    PackController,
    announce_delivery,
    open_pack,
    ScanDocumentController,
    scan,
]
