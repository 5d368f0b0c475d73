"""What every resource's handlers share: the services they call, paging parameters, and
exactly-once POSTs (`Idempotency-Key`)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.datastructures import State
from litestar.params import HeaderParameter, QueryParameter

from api.errors import PROBLEM_JSON, on_ledger_error, status_of
from api.policy import require_sees
from ledger.labels import LabelKeys
from ledger.limits import idempotency_key_length_max, offset_max, page_size_max
from ledger.rules import LedgerError
from ledger.services import lookups
from ledger.services.database import Database, reads_for
from ledger.services.exactly_once import (
    Answer,
    Keyed,
    exactly_once,
    post_command,
    post_command_async,
)
from ledger.services.lookups import LocationEntry
from ledger.services.users import User

Limit = Annotated[int, QueryParameter(ge=1, le=page_size_max, description="page size")]
Offset = Annotated[int, QueryParameter(ge=0, le=offset_max, description="rows to skip")]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=idempotency_key_length_max,
        description="retry-safe POST",
    ),
]

SHORTAGE_STEP = (
    "A confirmation with less than was shipped is refused with 409 `shortage_unconfirmed`; its "
    "problem details list `missing` (item_code, item_name, batch_number, shipped, received, "
    "missing, unit). Post again with `shortage`: {reason: lost_in_transit | damaged | "
    "short_shipped | other, lines: [{item_code, batch_number, quantity}] equal to the missing "
    "lines, note (required for other)} to record the shortage."
)


class Services:
    """What the controllers hand the use cases (`ledger.services`): the database, the clock
    that gives today's date (the office's; tests fix it) and the label keys. A handler calls
    `verb(services.database, …, user.id, services.clock())`. replica: a read-only copy of the
    database (LEDGER_READ_DATABASE_URL) for reports, balances and verification: `reads_of`."""

    def __init__(
        self,
        database: Database,
        clock: Callable[[], dt.date],
        label_keys: LabelKeys,
        replica: Database | None = None,
    ) -> None:
        self.database = database
        self.clock = clock
        self.label_keys = label_keys
        self.replica = replica

    def location(self, code: str, field: str = "location_code") -> LocationEntry:
        """A location by code (`field` names the input when it is unknown)."""
        return lookups.location(self.database, code, field)

    def visible_location(self, user: User, code: str, field: str = "location_code"):
        """The location, if the user may see it (403 otherwise)."""
        entry = self.location(code, field)
        require_sees(user, entry)
        return entry


def services_of(state: State) -> Services:
    return state.services


# A read that must see a write answers this header's sequence or later (the write's
# X-Ledger-Sequence): the replica is waited for a moment, else the primary answers.
MIN_SEQUENCE_HEADER = "x-ledger-min-sequence"
READ_STATE = "ledger_read"  # (where the read went, the sequence it holds at least)


def reads_of(request: Request, state: State) -> Database:
    """The database a report, balance or verification reads: the replica when there is one
    (and it holds the sequence the request asks for), else the primary. What was chosen goes
    back in the answer's X-Ledger-Read-From and X-Ledger-Sequence (api/read_headers.py)."""
    services = services_of(state)
    if services.replica is None:
        return services.database
    asked = request.headers.get(MIN_SEQUENCE_HEADER, "")
    at_least = int(asked) if asked.isdecimal() and len(asked) <= 18 else 0
    database, held, source = reads_for(services.database, services.replica, at_least)
    request.scope.setdefault("state", {})[READ_STATE] = (source, held)
    return database


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
    answer = exactly_once(
        services_of(state).database,
        user.id,
        key,
        _digest(request, body),
        lambda: work(f"http:{user.id}:{key}"),
        status_code,
        _refusal,
        kept,
    )
    return _response(answer)


def idempotent_command(
    request: Request,
    state: State,
    key: str | None,
    body: Any,
    command: Callable[[str | None], Any],
    status_code: int = 201,
) -> Response:
    """`idempotent` for a ledger command (`command(its idempotency key)`): carried out in the
    database's group commit with the commands of other requests, answered once that commits
    (ledger/db/group_commit.py). With a key, its answer is stored in the same transaction."""
    services = services_of(state)
    user: User = request.user
    keyed = None if key is None else Keyed(user.id, key, _digest(request, body), _refusal)
    answer = post_command(
        services.database,
        command(None if key is None else f"http:{user.id}:{key}"),
        user.id,
        services.clock(),
        status_code,
        keyed,
    )
    return _response(answer)


async def idempotent_command_async(
    request: Request,
    state: State,
    key: str | None,
    body: Any,
    command: Callable[[str | None], Any],
    status_code: int = 201,
) -> Response:
    """`idempotent_command` for an async route: no thread waits for the batch's commit."""
    services = services_of(state)
    user: User = request.user
    keyed = None if key is None else Keyed(user.id, key, _digest(request, body), _refusal)
    answer = await post_command_async(
        services.database,
        command(None if key is None else f"http:{user.id}:{key}"),
        user.id,
        services.clock(),
        status_code,
        keyed,
    )
    return _response(answer)


def _digest(request: Request, body: Any) -> str:
    content = msgspec.json.encode(body) if body is not None else b""
    return hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + content).hexdigest()


def _response(answer: Answer) -> Response:
    if answer.status_code == 204:  # no content, first time and again
        return Response(None, status_code=204)
    media_type = PROBLEM_JSON if answer.status_code >= 400 else "application/json"
    return Response(answer.body, status_code=answer.status_code, media_type=media_type)


def _refusal(error: LedgerError) -> Answer:
    """A ledger refusal as the problem detail the API answers with."""
    response = on_ledger_error(None, error)
    return Answer(status_of(error), msgspec.json.encode(response.content))
