"""The movement commands' dispatcher: every movement kind, reservations and reference data
additions, run by the type of the command (`HANDLERS`), each honouring its idempotency key.

`execute(database, command, actor, today)` is the use case the HTTP API, the CLI, the demo loader
and the benchmarks call: one command in its own unit of work (or, with `execute_many`, many
commands in one), retried on write conflicts. The handlers live by area: `movements`,
`confirmations` (shortages), `reversals`, `reservations`, `additions`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from ledger import commands as c
from ledger.limits import (
    idempotency_key_derived_length_max,
    idempotency_key_length_max,
    transactions_per_batch_max,
)
from ledger.model import Item, Location, Transaction
from ledger.rules import Code, LedgerError, check_text
from ledger.services import ports
from ledger.services.additions import (
    add_item,
    add_location,
)
from ledger.services.confirmations import (
    confirm,
)
from ledger.services.movements import (
    adjust,
    distribute,
    issue,
    open_balances,
    receive,
    return_to_parent,
    write_off,
)
from ledger.services.ports import Store
from ledger.services.reservations import Released, Reservation, release, reserve
from ledger.services.reversals import reverse
from ledger.services.work import day

HANDLERS: dict[type, Callable[[Store, Any, dt.date], Any]] = {
    c.AddItem: add_item,
    c.AddLocation: add_location,
    c.Receive: receive,
    c.OpenBalances: open_balances,
    c.Issue: issue,
    c.Confirm: confirm,
    c.Distribute: distribute,
    c.Return: return_to_parent,
    c.WriteOff: write_off,
    c.Adjust: adjust,
    c.Reverse: reverse,
    c.Reserve: reserve,
    c.Release: release,
}

RESULT_TYPES: dict[type, type] = {
    c.AddItem: Item,
    c.AddLocation: Location,
    c.Reserve: Reservation,
    c.Release: Released,
}


def request_digest(command: Any) -> str:
    content = msgspec.json.encode(msgspec.structs.replace(command, idempotency_key=None))
    return hashlib.sha256(type(command).__name__.encode() + b"\0" + content).hexdigest()


def storable_key(key: str) -> str:
    """The key as stored (a column of `idempotency_key_length_max` characters). A key derived
    from a client's (the API prefixes the user, a plan suffixes each location) can be longer
    than the client's maximum: it is stored as its SHA-256 digest."""
    if len(key) <= idempotency_key_length_max:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def run_command(store: Store, command: Any, today: dt.date) -> Any:
    """Carry out one command on `store`, honouring its idempotency key."""
    handler = HANDLERS.get(type(command))
    if handler is None:
        raise TypeError(f"not a ledger command: {type(command).__name__}")
    key = command.idempotency_key
    if key is None:
        return handler(store, command, today)
    check_text(key, "idempotency_key", idempotency_key_derived_length_max)
    key = storable_key(key)
    operation = type(command).__name__
    digest = request_digest(command)
    stored = store.idempotent(key, operation, digest)
    if stored is not None:
        transaction_id = (
            stored["transaction_id"] if isinstance(stored, dict) else stored.transaction_id
        )
        if transaction_id is not None:
            return store.transaction(transaction_id)
        result = stored["result"] if isinstance(stored, dict) else stored.result
        return msgspec.json.decode(result, type=RESULT_TYPES[type(command)])
    result = handler(store, command, today)
    if isinstance(result, Transaction):
        store.remember(key, operation, digest, result.sequence, "")
    else:
        store.remember(key, operation, digest, None, msgspec.json.encode(result).decode())
    return result


def execute(
    database: ports.Database, command: Any, actor: int | None = None, today: dt.date | None = None
) -> Any:
    """Carry out one command in its own unit of work as user `actor` (the vouchers' maker; None:
    the command line) on `today` (default: the office's)."""
    today = day(today)
    return database.write(lambda store: run_command(store.acting(actor, today), command, today))


def execute_many(
    database: ports.Database,
    commands: Sequence[Any],
    actor: int | None = None,
    today: dt.date | None = None,
) -> list[Any]:
    """Carry out many commands in one unit of work: all of them, or none."""
    if len(commands) > transactions_per_batch_max:
        raise LedgerError(
            Code.too_many_lines,
            f"一批最多 {transactions_per_batch_max} 条 (at most {transactions_per_batch_max} per batch)",
            "commands",
        )
    today = day(today)
    return database.write(
        lambda store: [run_command(store.acting(actor, today), cmd, today) for cmd in commands]
    )
