"""Controllers: decode the body, check who may do it, call the use case, encode the answer.

Everything under /api/v1. Every POST honours an `Idempotency-Key` header. Lists are paged
(`limit` ≤ 200, `offset`) in a stable order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Annotated, Any, ClassVar

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from api.auth import (
    at_top,
    can_see,
    in_subtree,
    require_at,
    require_visible,
    roles,
    root_code,
    root_path,
    scope_path,
)
from api.errors import PROBLEM_JSON, Forbidden, on_ledger_error
from api.schemas import (
    AdjustmentCreate,
    AppliedPlan,
    BalanceRow,
    ConfirmationCreate,
    Digest,
    DistributionCreate,
    IssueCreate,
    Me,
    Page,
    PlanApply,
    PlanCompute,
    PlanLineOut,
    PlanOut,
    ReceiptCreate,
    ReturnCreate,
    ReversalCreate,
    WriteOffCreate,
    page,
)
from ledger import commands as c
from ledger.allocation import Plan, Share
from ledger.db import http_idempotency, queries, roots
from ledger.db.store import LocationEntry
from ledger.history import format_checkpoint, parse_checkpoint
from ledger.labels import LabelKeys
from ledger.model import Batch, Item, Location, Transaction, TransactionKind
from ledger.rules import Code, LedgerError
from ledger.services.allocation import apply_plan, plan_allocation
from ledger.services.audit import (
    PeriodClose,
    VerificationReport,
    close_period,
    period_closes,
    verify_ledger,
)
from ledger.services.ledger import Ledger
from ledger.services.requests import (
    AllocationRequest,
    Approve,
    ConfirmShipment,
    CreateRequest,
    EditRequest,
    Reject,
    RequestEvent,
    Requests,
    Ship,
    Suggestion,
    request_numbers,
)
from ledger.services.scanning import Scanning
from ledger.services.stocktakes import Stocktakes
from ledger.services.users import ROLES, User

page_size_max = 200

Limit = Annotated[int, QueryParameter(ge=1, le=page_size_max, description="page size")]
offset_max = 10_000_000
Offset = Annotated[int, QueryParameter(ge=0, le=offset_max, description="rows to skip")]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key", required=False, max_length=200, description="retry-safe POST"
    ),
]


class Services:
    """What the controllers call: the ledger's use cases over one database."""

    def __init__(self, ledger: Ledger, label_keys: LabelKeys) -> None:
        self.ledger = ledger
        self.database = ledger.database
        self.requests = Requests(ledger)
        self.scanning = Scanning(ledger, label_keys)
        self.stocktakes = Stocktakes(ledger)

    def location(self, code: str, field: str = "location_code") -> LocationEntry:
        cached = self.database.catalog.locations.get(code)  # committed rows only, never change
        return cached or self.database.lookup(lambda store: store.location(code, field))


def services_of(state: State) -> Services:
    return state.services


SHORTAGE_STEP = (
    "A confirmation with less than was shipped is refused with 409 `shortage_unconfirmed`; its "
    "problem details list `missing` (item_code, item_name, batch_number, shipped, received, "
    "missing, unit). Post again with `shortage`: {reason: lost_in_transit | damaged | "
    "short_shipped | other, lines: [{item_code, batch_number, quantity}] equal to the missing "
    "lines, note (required for other)} to record the shortage."
)


# ---- idempotent POSTs ---------------------------------------------------------------------------


def idempotent(
    request: Request,
    state: State,
    key: str | None,
    body: Any,
    work: Callable[[str | None], Any],
    status_code: int = 201,
    kept: Callable[[Any], Any] | None = None,
) -> Response:
    """Run `work` once per key; replay its answer (success or refusal) for a retry.

    The answer is stored in the database transaction that commits the work (every write the
    work makes joins it), so a crash between the two cannot happen: a retry finds the answer,
    or finds nothing done and does the work. kept(answer): what is stored instead, for an
    answer holding a secret shown once (a token): a retry is answered without the secret."""
    if key is None:
        return Response(work(None), status_code=status_code)
    user: User = request.user
    database = services_of(state).database
    content = msgspec.json.encode(body) if body is not None else b""
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + content).hexdigest()
    while True:
        claim = http_idempotency.claim(database, user.id, key, digest)
        if isinstance(claim, http_idempotency.StoredAnswer):
            media_type = PROBLEM_JSON if claim.status_code >= 400 else "application/json"
            return Response(
                claim.body.encode(), status_code=claim.status_code, media_type=media_type
            )
        try:
            encoded = http_idempotency.run_once(
                database, claim, lambda: work(f"http:{user.id}:{key}"), status_code, kept
            )
        except http_idempotency.ClaimLost:
            continue  # taken over while we worked (ours rolled back): answer with theirs
        except LedgerError as error:
            response = problem_for(error)
            refusal = msgspec.json.encode(response.content).decode()
            try:
                http_idempotency.answer(database, claim, response.status_code, refusal)
            except http_idempotency.ClaimLost:
                continue
            return response
        except BaseException:
            http_idempotency.release(database, claim)
            raise
        return Response(encoded, status_code=status_code, media_type="application/json")


def problem_for(error: LedgerError) -> Response:
    return on_ledger_error(None, error)  # type: ignore[arg-type]


# ---- who am I, reference data ---------------------------------------------------------------------


@get("/me", sync_to_thread=False, summary="The authenticated user")
def me(request: Request) -> Me:
    user: User = request.user
    return Me(
        user.id,
        user.label,
        user.role,
        user.location_code,
        user.location_name,
        tuple(role for role in ROLES if user.has(role)),
        user.is_global,
    )


class ItemController(Controller):
    path = "/items"
    tags: ClassVar[list[str]] = ["reference"]

    @get("/", sync_to_thread=True, summary="Items with their packs")
    def list_items(self, state: State, limit: Limit = 50, offset: Offset = 0) -> Page[Item]:
        database = services_of(state).database

        def work(store):
            codes = queries.item_codes(store.connection, limit + 1, offset)
            return [store.item(code).item for code in codes]

        return page(database.lookup(work), limit, offset)

    @get("/{code:str}", sync_to_thread=True, summary="One item")
    def get_item(self, state: State, code: FromPath[str]) -> Item:
        return services_of(state).database.lookup(lambda store: store.item(code, "code").item)

    @post("/", sync_to_thread=True, guards=[roles("admin")], summary="Add an item (admin)")
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
            lambda key: services.ledger.execute(c.AddItem(data, key), request.user.id),
        )


def _location_out(entry: LocationEntry) -> queries.LocationRecord:
    location = entry.location
    return queries.LocationRecord(
        location.code,
        location.name,
        location.level.value,
        location.parent_code,
        entry.physical,
        entry.path,
    )


class LocationController(Controller):
    path = "/locations"
    tags: ClassVar[list[str]] = ["reference"]

    @get("/", sync_to_thread=True, summary="Locations in tree order, within your subtree")
    def list_locations(
        self,
        request: Request,
        state: State,
        under: FromQuery[str | None] = None,
        level: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[queries.LocationRecord]:
        user: User = request.user
        services = services_of(state)
        path = scope_path(user)
        if under is not None:
            entry = services.location(under, "under")
            require_visible(user, entry.path, entry.physical, entry.location.name)
            path = entry.path
        with services.database.read() as connection:
            rows = queries.locations(connection, path, level, at_top(user), limit + 1, offset)
        return page(rows, limit, offset)

    @get("/{code:str}", sync_to_thread=True, summary="One location")
    def get_location(
        self, request: Request, state: State, code: FromPath[str]
    ) -> queries.LocationRecord:
        services = services_of(state)
        entry = services.location(code, "code")
        require_visible(request.user, entry.path, entry.physical, entry.location.name)
        with services.database.read() as connection:  # the location first in its subtree
            found = queries.locations(connection, entry.path, None, True, 1)
        return found[0] if found else _location_out(entry)

    @post("/", sync_to_thread=True, guards=[roles("admin")], summary="Add a location (admin)")
    def add_location(
        self,
        request: Request,
        state: State,
        data: JSONBody[Location],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Location]:
        services = services_of(state)
        user: User = request.user
        if data.parent_code is None:  # a new city, or a virtual place every city shares
            if not user.is_global:
                raise Forbidden(
                    "新建没有上级的库点（新的市或虚拟库点）仅限全局管理员 "
                    "(a location without parent is for a global admin)"
                )
        else:
            parent = services.location(data.parent_code, "parent_code")
            require_visible(user, parent.path, parent.physical, parent.location.name)
        return idempotent(
            request,
            state,
            idempotency_key,
            data,
            lambda key: services.ledger.execute(c.AddLocation(data, key), request.user.id),
        )


class BatchController(Controller):
    path = "/batches"
    tags: ClassVar[list[str]] = ["reference"]

    @get("/", sync_to_thread=True, summary="Batches (print runs, 批号) with expiry")
    def list_batches(
        self,
        state: State,
        item: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[Batch]:
        def work(store):
            if item is not None:
                store.item(item, "item")
            keys = queries.batch_keys(store.connection, item, limit + 1, offset)
            return [store.batch(store.item(code), number).batch for code, number in keys]

        return page(services_of(state).database.lookup(work), limit, offset)

    @get("/{item_code:str}/{number:str}", sync_to_thread=True, summary="One batch")
    def get_batch(self, state: State, item_code: FromPath[str], number: FromPath[str]) -> Batch:
        return services_of(state).database.lookup(
            lambda s: s.batch(s.item(item_code, "item_code"), number, "number").batch
        )


# ---- transactions -----------------------------------------------------------------------------------


def _check_transaction_visible(user: User, services: Services, transaction: Transaction) -> None:
    codes = [transaction.location_code] + (
        [transaction.counterparty_code] if transaction.counterparty_code else []
    )
    if not any(can_see(user, services.location(code).path) for code in codes):
        raise Forbidden(f"单据 {transaction.number} 不在您的管辖范围内 (outside your subtree)")


class TransactionController(Controller):
    path = "/transactions"
    tags: ClassVar[list[str]] = ["transactions"]

    @get("/", sync_to_thread=True, summary="Transactions, oldest first, with filters")
    def list_transactions(
        self,
        request: Request,
        state: State,
        kind: FromQuery[TransactionKind | None] = None,
        location: FromQuery[str | None] = None,
        item: FromQuery[str | None] = None,
        batch: FromQuery[str | None] = None,
        date_from: FromQuery[dt.date | None] = None,
        date_to: FromQuery[dt.date | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[Transaction]:
        user: User = request.user
        services = services_of(state)
        if location is not None:
            entry = services.location(location, "location")
            require_visible(user, entry.path, entry.physical, entry.location.name)
        visible = scope_path(user)

        def work(store):
            sequences = queries.transaction_sequences(
                store.connection,
                visible,
                kind.value if kind else None,
                location,
                item,
                batch,
                date_from,
                date_to,
                limit + 1,
                offset,
            )
            return store.transactions(sequences)

        return page(services.database.lookup(work), limit, offset)

    @get("/{number:str}", sync_to_thread=True, summary="One transaction with its postings")
    def get_transaction(self, request: Request, state: State, number: FromPath[str]) -> Transaction:
        services = services_of(state)
        transaction = services.database.lookup(lambda store: store.transaction_by_number(number))
        _check_transaction_visible(request.user, services, transaction)
        return transaction

    def _post(
        self,
        request: Request,
        state: State,
        key: str | None,
        body: Any,
        command: Callable[[str | None], Any],
    ) -> Response:
        services = services_of(state)
        user: User = request.user
        return idempotent(
            request, state, key, body, lambda k: services.ledger.execute(command(k), user.id)
        )

    @post(
        "/receipts",
        sync_to_thread=True,
        guards=[roles("clerk")],
        summary="入库: receive into a warehouse",
    )
    def receipt(
        self,
        request: Request,
        state: State,
        data: JSONBody[ReceiptCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        require_at(request.user, data.location_code, "clerk", "入库", services_of(state).location)
        return self._post(
            request,
            state,
            idempotency_key,
            data,
            lambda k: c.Receive(data.location_code, data.lines, data.occurred_on, data.memo, k),
        )

    @post(
        "/issues",
        sync_to_thread=True,
        guards=[roles("clerk")],
        summary="出库/调拨: issue into transit",
    )
    def issue(
        self,
        request: Request,
        state: State,
        data: JSONBody[IssueCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        require_at(request.user, data.source_code, "clerk", "出库", services_of(state).location)
        return self._post(
            request,
            state,
            idempotency_key,
            data,
            lambda k: c.Issue(
                data.source_code,
                data.destination_code,
                data.lines,
                data.occurred_on,
                data.memo,
                None,
                k,
            ),
        )

    @post(
        "/confirmations",
        sync_to_thread=True,
        guards=[roles("clerk", "requester")],
        summary="签收: confirm a shipment",
        description=SHORTAGE_STEP,
    )
    def confirmation(
        self,
        request: Request,
        state: State,
        data: JSONBody[ConfirmationCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        services = services_of(state)
        shipment = services.database.lookup(
            lambda store: store.transaction_by_number(data.shipment_number)
        )
        user: User = request.user
        _check_transaction_visible(user, services, shipment)
        receiver = shipment.counterparty_code or ""
        if user.has("admin") and receiver:
            require_at(user, receiver, "clerk", "签收", services.location)
        elif not user.has("admin") and user.location_code != receiver:
            raise Forbidden(f"只有收货方 {receiver} 可以签收 (only the receiver confirms)")
        return self._post(
            request,
            state,
            idempotency_key,
            data,
            lambda k: c.Confirm(
                data.shipment_number,
                data.received,
                data.occurred_on,
                data.memo,
                k,
                shortage=data.shortage,
            ),
        )

    @post(
        "/distributions",
        sync_to_thread=True,
        guards=[roles("clerk")],
        summary="发放: hand out to the public",
    )
    def distribution(
        self,
        request: Request,
        state: State,
        data: JSONBody[DistributionCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        require_at(request.user, data.location_code, "clerk", "发放", services_of(state).location)
        return self._post(
            request,
            state,
            idempotency_key,
            data,
            lambda k: c.Distribute(data.location_code, data.lines, data.occurred_on, data.memo, k),
        )

    @post(
        "/returns",
        sync_to_thread=True,
        guards=[roles("clerk")],
        summary="退回: return to the parent location",
    )
    def return_(
        self,
        request: Request,
        state: State,
        data: JSONBody[ReturnCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        require_at(request.user, data.location_code, "clerk", "退回", services_of(state).location)
        return self._post(
            request,
            state,
            idempotency_key,
            data,
            lambda k: c.Return(data.location_code, data.lines, data.occurred_on, data.memo, k),
        )

    @post(
        "/write-offs",
        sync_to_thread=True,
        guards=[roles("clerk")],
        summary="报损: write off with a reason",
    )
    def write_off(
        self,
        request: Request,
        state: State,
        data: JSONBody[WriteOffCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        require_at(request.user, data.location_code, "clerk", "报损", services_of(state).location)
        return self._post(
            request,
            state,
            idempotency_key,
            data,
            lambda k: c.WriteOff(
                data.location_code, data.lines, data.reason, data.occurred_on, data.memo, k
            ),
        )

    @post(
        "/adjustments",
        sync_to_thread=True,
        guards=[roles("clerk")],
        summary="盘点调整: stocktake gains and losses",
    )
    def adjustment(
        self,
        request: Request,
        state: State,
        data: JSONBody[AdjustmentCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        require_at(
            request.user, data.location_code, "clerk", "盘点调整", services_of(state).location
        )
        return self._post(
            request,
            state,
            idempotency_key,
            data,
            lambda k: c.Adjust(
                data.location_code, data.lines, data.reason, data.occurred_on, data.memo, k
            ),
        )

    @post(
        "/reversals",
        sync_to_thread=True,
        guards=[roles("clerk")],
        summary="红冲: reverse a transaction",
    )
    def reversal(
        self,
        request: Request,
        state: State,
        data: JSONBody[ReversalCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        services = services_of(state)
        original = services.database.lookup(
            lambda store: store.transaction_by_number(data.transaction_number)
        )
        _check_transaction_visible(request.user, services, original)
        require_at(
            request.user, original.location_code, "clerk", "红冲", services_of(state).location
        )
        return self._post(
            request,
            state,
            idempotency_key,
            data,
            lambda k: c.Reverse(data.transaction_number, data.occurred_on, data.memo, k),
        )


# ---- balances and the chain -------------------------------------------------------------------------

GROUPINGS = ("account", "location", "item", "batch")


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
    if group_by not in GROUPINGS:
        raise LedgerError(
            Code.invalid_field, f"group_by 必须是 {', '.join(GROUPINGS)} 之一", "group_by"
        )
    under = scope_path(user)
    exact, virtual = None, False
    if location is not None:
        entry = services.location(location, "location")
        require_visible(user, entry.path, entry.physical, entry.location.name)
        virtual = not entry.physical
        if subtree:
            under = entry.path
        else:
            exact = location
    with services.database.read() as connection:
        if (
            exact is not None
            and virtual
            and not user.is_global
            and roots.root_count(connection) > 1
        ):
            # a place every root shares: the user's root's share of it, not every root's sum
            lines = roots.virtual_share(connection, exact, root_path(user), item, batch, as_of)
        else:
            lines = queries.balances(
                connection,
                exact,
                item,
                batch,
                as_of,
                include_virtual=exact is not None and virtual,
                under_path=None if exact is not None and virtual else under,
            )
    rows = _group(lines, group_by)
    return page(rows[offset : offset + limit + 1], limit, offset)


def _group(lines: list[queries.BalanceLine], group_by: str) -> list[BalanceRow]:
    if group_by == "account":
        return [
            BalanceRow(
                line.location_code,
                line.location_name,
                line.item_code,
                line.item_name,
                line.batch_number,
                line.expires_on,
                line.unit,
                line.on_hand,
                line.reserved,
                line.available,
            )
            for line in lines
        ]
    totals: dict[tuple, list] = {}
    for line in lines:
        if group_by == "location":
            key = (
                line.location_code,
                line.location_name,
                line.item_code,
                line.item_name,
                None,
                None,
                line.unit,
            )
        elif group_by == "item":
            key = (None, None, line.item_code, line.item_name, None, None, line.unit)
        else:
            key = (
                None,
                None,
                line.item_code,
                line.item_name,
                line.batch_number,
                line.expires_on,
                line.unit,
            )
        entry = totals.setdefault(key, [0, 0])
        entry[0] += line.on_hand
        entry[1] += line.reserved
    return [
        BalanceRow(*key, on_hand, reserved, on_hand - reserved)
        for key, (on_hand, reserved) in totals.items()
    ]


@get(
    "/chain/digest",
    sync_to_thread=True,
    tags=["audit"],
    summary="The hash chain's head: sequence and hash",
)
def chain_digest(state: State) -> Digest:
    with services_of(state).database.read() as connection:
        sequence, digest = queries.checkpoint_head(connection)
    return Digest(sequence, digest, format_checkpoint(sequence, digest))


checkpoints_per_verification_max = 100
Checkpoints = Annotated[
    list[str] | None,
    QueryParameter(
        name="checkpoint",
        description="N:HASH kept outside the database (GET /chain/digest, a period close): "
        "prove the ledger still holds it (checkpoint_missing / checkpoint_mismatch otherwise); "
        f"repeatable, at most {checkpoints_per_verification_max}",
    ),
]


RootCode = Annotated[
    str | None,
    QueryParameter(max_length=40, description="a city (root location); for a global admin"),
]


@get(
    "/audit/verification",
    sync_to_thread=True,
    guards=[roles("auditor")],
    tags=["audit"],
    summary="Verify all six invariants over your city's ledger (auditors at the top of the tree)",
    description=(
        "An auditor (or admin) of a city verifies that city: the hash chain, which every city "
        "in the database shares, through every transaction, and the city's own transactions, "
        "accounts and period closes; findings on other cities' transactions are only counted "
        "(one `other_roots` finding), and the counts checked are the city's. A global admin "
        "verifies the whole ledger, or one city with `root`. `since_close` starts at the "
        "city's last period close."
    ),
)
def verification(
    request: Request,
    state: State,
    since_close: FromQuery[bool] = False,
    root: RootCode = None,
    checkpoint: Checkpoints = None,
) -> VerificationReport:
    user: User = request.user
    _top_auditor(user)
    given = checkpoint or []
    if len(given) > checkpoints_per_verification_max:
        raise LedgerError(
            Code.invalid_checkpoint,
            f"一次最多核验 {checkpoints_per_verification_max} 个核验点 "
            f"(at most {checkpoints_per_verification_max} checkpoints)",
            "checkpoint",
        )
    return verify_ledger(
        services_of(state).database,
        since_close=since_close,
        root_code=_audit_root(user, root),
        checkpoints=[parse_checkpoint(text) for text in given],
    )


def _top_auditor(user: User) -> None:
    if not user.has("admin") and not user.is_root:
        raise Forbidden(
            "全账核验与月结覆盖全市，仅限市级审计 (whole-ledger audit is for auditors at the top)"
        )


def _audit_root(user: User, named: str | None) -> str | None:
    """The root (city) an audit read or close covers: a global admin's choice (None: the whole
    ledger); everybody else's own city — naming another is refused."""
    if user.is_global:
        return named
    own = root_code(user)
    if named is not None and named != own:
        raise Forbidden(f"{named} 不是您所在的市，不能查看或月结 (another root)")
    return own


@get(
    "/audit/period-closes",
    sync_to_thread=True,
    tags=["audit"],
    summary="月结: your city's period closes, oldest first",
    description=(
        "The closes of the caller's city (and any made for every city before cities were "
        "separate); a global admin reads every close, or one city's with `root`."
    ),
)
def list_period_closes(request: Request, state: State, root: RootCode = None) -> list[PeriodClose]:
    root_code = _audit_root(request.user, root)
    return period_closes(services_of(state).database, root_code)


class PeriodCloseCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """root_code: the city to close; only a global admin names it (anybody else closes their
    own city), and must when the ledger holds several."""

    period_end: dt.date
    root_code: str | None = None


@post(
    "/audit/period-closes",
    sync_to_thread=True,
    guards=[roles("auditor")],
    tags=["audit"],
    summary="月结: close your city's books through a day (auditors at the top)",
    description=(
        "Closes the caller's city only: nothing at its locations may be posted on or before "
        "that day afterwards; other cities are not touched."
    ),
)
def create_period_close(
    request: Request,
    state: State,
    data: JSONBody[PeriodCloseCreate],
    idempotency_key: IdempotencyKey = None,
) -> Response[PeriodClose]:
    user: User = request.user
    _top_auditor(user)
    root = _audit_root(user, data.root_code)
    ledger = services_of(state).ledger
    today = ledger.clock()

    def work(_: str | None) -> PeriodClose:
        return ledger.database.write(
            lambda store: close_period(store, data.period_end, user.id, today, root)
        )

    return idempotent(request, state, idempotency_key, data, work)


# ---- allocation requests ---------------------------------------------------------------------------


def _request_visible(user: User, services: Services, request: AllocationRequest) -> None:
    paths = [
        services.location(request.requester_code).path,
        services.location(request.supplier_code).path,
    ]
    if not any(in_subtree(user, path) for path in paths):
        raise Forbidden(f"申领单 {request.number} 不在您的管辖范围内 (outside your subtree)")


class RequestController(Controller):
    path = "/requests"
    tags: ClassVar[list[str]] = ["requests"]

    def _get(self, state: State, number: str, user: User) -> AllocationRequest:
        """The request, if the user may see it (so no refusal after this names another city's
        places)."""
        found = services_of(state).requests.get(number)
        _request_visible(user, services_of(state), found)
        return found

    def _answer(
        self,
        request: Request,
        state: State,
        key: str | None,
        body: Any,
        work: Callable[[], Any],
        status_code: int = 200,
    ) -> Response:
        return idempotent(request, state, key, body, lambda _: work(), status_code)

    def _as_requester(
        self, user: User, request: AllocationRequest, what: str, state: State
    ) -> None:
        require_at(user, request.requester_code, "requester", what, services_of(state).location)

    def _as_approver(self, user: User, services: Services, request: AllocationRequest) -> None:
        requester = services.location(request.requester_code)
        if user.has("admin") and in_subtree(user, requester.path):
            return
        if (
            not user.has("approver")
            or user.location_code == request.requester_code
            or not in_subtree(user, requester.path)
        ):
            raise Forbidden("只有上级审批人可以审批本申领单 (only an approver above the requester)")

    @post(
        "/",
        sync_to_thread=True,
        guards=[roles("requester")],
        summary="申领: create a draft request",
    )
    def create(
        self,
        request: Request,
        state: State,
        data: JSONBody[CreateRequest],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[AllocationRequest]:
        user: User = request.user
        services = services_of(state)
        require_at(user, data.requester_code, "requester", "申领", services.location)
        return idempotent(
            request, state, idempotency_key, data, lambda _: services.requests.create(data, user.id)
        )

    @get("/", sync_to_thread=True, summary="Requests from or to your subtree")
    def list_requests(
        self,
        request: Request,
        state: State,
        status: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[AllocationRequest]:
        user: User = request.user
        services = services_of(state)
        path = scope_path(user)

        def work(store):
            from ledger.services.requests import load_request

            return [
                load_request(store, number)
                for number in request_numbers(store, path, status, limit + 1, offset)
            ]

        return page(services.database.lookup(work), limit, offset)

    @get("/{number:str}", sync_to_thread=True, summary="One request with its lines and shipments")
    def get_request(
        self, request: Request, state: State, number: FromPath[str]
    ) -> AllocationRequest:
        found = self._get(state, number, request.user)
        _request_visible(request.user, services_of(state), found)
        return found

    @get("/{number:str}/events", sync_to_thread=True, summary="Every state change: who and when")
    def events(self, request: Request, state: State, number: FromPath[str]) -> list[RequestEvent]:
        found = self._get(state, number, request.user)
        _request_visible(request.user, services_of(state), found)
        return services_of(state).requests.events(number)

    @get(
        "/{number:str}/suggestion",
        sync_to_thread=True,
        summary="FEFO batches to ship the outstanding quantities",
    )
    def suggestion(self, request: Request, state: State, number: FromPath[str]) -> list[Suggestion]:
        found = self._get(state, number, request.user)
        _request_visible(request.user, services_of(state), found)
        return services_of(state).requests.suggestion(number)

    @put(
        "/{number:str}",
        sync_to_thread=True,
        guards=[roles("requester")],
        summary="Edit a draft request",
    )
    def edit(
        self, request: Request, state: State, number: FromPath[str], data: JSONBody[EditRequest]
    ) -> AllocationRequest:
        user: User = request.user
        self._as_requester(user, self._get(state, number, request.user), "修改申领单", state)
        return services_of(state).requests.edit(number, data, user.id)

    @post(
        "/{number:str}/submit",
        sync_to_thread=True,
        guards=[roles("requester")],
        summary="Submit a draft",
    )
    def submit(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[AllocationRequest]:
        user: User = request.user
        self._as_requester(user, self._get(state, number, request.user), "提交申领单", state)
        return self._answer(
            request,
            state,
            idempotency_key,
            None,
            lambda: services_of(state).requests.submit(number, user.id),
        )

    @post(
        "/{number:str}/cancel",
        sync_to_thread=True,
        guards=[roles("requester")],
        summary="Cancel (nothing shipped yet)",
    )
    def cancel(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[AllocationRequest]:
        user: User = request.user
        self._as_requester(user, self._get(state, number, request.user), "撤销申领单", state)
        return self._answer(
            request,
            state,
            idempotency_key,
            None,
            lambda: services_of(state).requests.cancel(number, user.id),
        )

    @post(
        "/{number:str}/approve",
        sync_to_thread=True,
        guards=[roles("approver")],
        summary="Approve all or part; reserves stock",
    )
    def approve(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        data: JSONBody[Approve],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[AllocationRequest]:
        user: User = request.user
        services = services_of(state)
        self._as_approver(user, services, self._get(state, number, request.user))
        return self._answer(
            request,
            state,
            idempotency_key,
            data,
            lambda: services.requests.approve(number, data, user.id),
        )

    @post(
        "/{number:str}/reject",
        sync_to_thread=True,
        guards=[roles("approver")],
        summary="Reject with a reason",
    )
    def reject(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        data: JSONBody[Reject],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[AllocationRequest]:
        user: User = request.user
        services = services_of(state)
        self._as_approver(user, services, self._get(state, number, request.user))
        return self._answer(
            request,
            state,
            idempotency_key,
            data,
            lambda: services.requests.reject(number, data, user.id),
        )

    @post(
        "/{number:str}/shipments",
        sync_to_thread=True,
        guards=[roles("clerk")],
        summary="Ship against the request",
    )
    def ship(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        data: JSONBody[Ship],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        user: User = request.user
        found = self._get(state, number, request.user)
        require_at(user, found.supplier_code, "clerk", "发货", services_of(state).location)
        return self._answer(
            request,
            state,
            idempotency_key,
            data,
            lambda: services_of(state).requests.ship(number, data, user.id),
            201,
        )

    @post(
        "/{number:str}/shipments/{shipment:str}/confirm",
        sync_to_thread=True,
        guards=[roles("requester", "clerk")],
        summary="The requester confirms a shipment's arrival",
        description=SHORTAGE_STEP,
    )
    def confirm(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        shipment: FromPath[str],
        data: JSONBody[ConfirmShipment | None] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Transaction]:
        user: User = request.user
        found = self._get(state, number, request.user)
        if user.has("admin"):
            require_at(user, found.requester_code, "requester", "签收", services_of(state).location)
        elif user.location_code != found.requester_code:
            raise Forbidden(
                f"只有申领方 {found.requester_code} 可以签收 (only the requester confirms)"
            )
        body = data or ConfirmShipment(shipment)
        if body.shipment_number != shipment:
            raise LedgerError(
                Code.invalid_field,
                "请求体中的发货单号与路径不一致 (shipment number differs from the path)",
                "shipment_number",
            )
        return self._answer(
            request,
            state,
            idempotency_key,
            body,
            lambda: services_of(state).requests.confirm(number, body, user.id),
            201,
        )

    @post(
        "/{number:str}/close",
        sync_to_thread=True,
        guards=[roles("approver", "clerk")],
        summary="Close; the unshipped rest is cancelled",
    )
    def close(
        self,
        request: Request,
        state: State,
        number: FromPath[str],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[AllocationRequest]:
        user: User = request.user
        services = services_of(state)
        found = self._get(state, number, request.user)
        supplying_clerk = user.has("clerk") and user.location_code == found.supplier_code
        if not supplying_clerk:
            if user.has("approver") or user.has("admin"):
                self._as_approver(user, services, found)
            else:
                require_at(user, found.supplier_code, "clerk", "关闭申领单")
        return self._answer(
            request, state, idempotency_key, None, lambda: services.requests.close(number, user.id)
        )


# ---- allocation plans ------------------------------------------------------------------------------


def _plan_out(item_code: str, plan: Plan) -> PlanOut:
    return PlanOut(
        item_code,
        plan.pack_base_units,
        tuple(PlanLineOut(line.location_code, line.packs, line.quantity) for line in plan.lines),
        plan.allocated,
        plan.unallocated,
    )


def _compute(services: Services, user: User, data: PlanCompute | PlanApply) -> Plan:
    source = services.location(data.source_code, "source_code")
    require_visible(user, source.path, source.physical, source.location.name)
    shares = [Share(share.location_code, share.weight) for share in data.shares]
    return plan_allocation(
        services.ledger, data.source_code, data.item_code, data.quantity, shares, data.pack
    )


@post(
    "/allocation-plans",
    sync_to_thread=True,
    guards=[roles("clerk", "approver")],
    tags=["plans"],
    status_code=200,
    summary="分配计划: compute a split by weights",
)
def compute_plan(
    request: Request,
    state: State,
    data: JSONBody[PlanCompute],
    idempotency_key: IdempotencyKey = None,
) -> Response[PlanOut]:
    def work(_: str | None) -> PlanOut:
        return _plan_out(data.item_code, _compute(services_of(state), request.user, data))

    return idempotent(request, state, idempotency_key, data, work, 200)


@post(
    "/allocation-plans/apply",
    sync_to_thread=True,
    guards=[roles("clerk")],
    tags=["plans"],
    summary="Push a plan down as issues",
)
def apply_allocation_plan(
    request: Request,
    state: State,
    data: JSONBody[PlanApply],
    idempotency_key: IdempotencyKey = None,
) -> Response[AppliedPlan]:
    user: User = request.user
    services = services_of(state)
    require_at(user, data.source_code, "clerk", "下发分配计划", services.location)

    def work(key: str | None) -> AppliedPlan:
        plan = _compute(services, user, data)
        shipments = apply_plan(
            services.ledger,
            plan,
            data.source_code,
            data.item_code,
            data.occurred_on,
            data.memo,
            key,
            user.id,
        )
        return AppliedPlan(_plan_out(data.item_code, plan), tuple(shipments))

    return idempotent(request, state, idempotency_key, data, work)


ROUTES = [
    me,
    ItemController,
    LocationController,
    BatchController,
    TransactionController,
    balances,
    chain_digest,
    verification,
    list_period_closes,
    create_period_close,
    RequestController,
    compute_plan,
    apply_allocation_plan,
]
