"""The port of the movement use cases: what they need of the unit of work's store, and of the
database it comes from. Nothing here knows SQL.

`Store` is made of small protocols, one per repository of the unit of work (reference data,
accounts, the journal, reservations, idempotency keys, the operations log) plus who acts. The
real one is `ledger.db.store.LedgerStore`; tests/unit/fake_store.py keeps the same in
dictionaries, and its contract test runs both alike. The rules stay in the core (`ledger.posting`
checks the legs, `ledger.picking` picks FEFO, `ledger.chain` hashes): a store applies what the
core decided, numbers and chains the voucher, and keeps it.

`Database` is what a use case runs its steps in: `write` (one unit of work, committed once; a
LedgerError rolls back everything the work did) and `lookup` (a read). The real one is
`ledger.db.unit_of_work.Database`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from ledger.entries import BatchEntry, ItemEntry, LocationEntry
from ledger.model import AccountKey, Batch, Item, Location, Transaction, TransactionKind
from ledger.posting import AccountState, Leg

T = TypeVar("T")


class ReferenceData(Protocol):
    """Items, locations and batches; an unknown code is refused (`unknown_item`,
    `unknown_location`, `unknown_batch`) naming `field`."""

    def item(self, code: str, field: str = ...) -> ItemEntry: ...

    def location(self, code: str, field: str = ...) -> LocationEntry: ...

    def batch(self, item: ItemEntry, number: str, field: str = ...) -> BatchEntry: ...

    def batch_by_id(self, batch_id: int) -> BatchEntry: ...

    def find_batch(self, item: ItemEntry, number: str) -> BatchEntry | None: ...

    def add_item(self, item: Item) -> ItemEntry:
        """Refuses a code in use (`item_exists`)."""
        ...

    def add_location(self, location: Location) -> LocationEntry:
        """Refuses a code in use (`location_exists`); the path is the parent's and the code."""
        ...

    def add_batch(self, item: ItemEntry, batch: Batch) -> BatchEntry: ...

    def describe(self, key: AccountKey) -> str:
        """An account in words, for a refusal (成都市·年画·批次2014-01)."""
        ...


class Accounts(Protocol):
    """Balances (on hand, reserved) by account, loaded and locked before they change."""

    def lock_states(self, keys: Iterable[AccountKey]) -> dict[AccountKey, AccountState]:
        """The states of `keys` (a new account: empty), locked until the unit of work ends."""
        ...

    def stocked_batches(self, location_id: int, item_id: int) -> list[tuple[int, int, int]]:
        """(batch id, on hand, reserved) of every batch of an item in stock at a location."""
        ...

    def change_reserved(self, key: AccountKey, change: int) -> None: ...


class Journal(Protocol):
    """Vouchers: posted (numbered per kind and year, hash-chained) and read back."""

    def post(
        self,
        kind: TransactionKind,
        occurred_on: dt.date,
        location: LocationEntry,
        legs: Sequence[Leg],
        counterparty: LocationEntry | None = None,
        reverses: Transaction | None = None,
        shipment: Transaction | None = None,
        reason: str | None = None,
        memo: str = "",
    ) -> Transaction:
        """Apply `legs` to the accounts (`ledger.posting.apply_legs` refuses what breaks a
        rule), refuse a day in a closed period (`ledger.posting.check_period_open`), number and
        chain the voucher (`ledger.chain`) and keep it."""
        ...

    def transaction_by_number(self, number: str, lock: bool = False) -> Transaction: ...

    def transaction(self, sequence: int, lock: bool = False) -> Transaction: ...

    def reversal_of(self, sequence: int) -> str | None:
        """The number of the voucher that reversed `sequence`, if any."""
        ...

    def opening_of(self, location_id: int) -> str | None:
        """The number of the location's opening voucher (期初) not reversed, if any."""
        ...

    def active_confirmation(self, shipment_sequence: int) -> str | None:
        """The number of the shipment's confirmation (签收) not reversed, if any."""
        ...


class Reservations(Protocol):
    """Stock set aside for a reference (预留); reserving changes the account's `reserved`."""

    def open_reservations(
        self, reference: str, location_id: int | None = None
    ) -> list[dict[str, Any]]:
        """The open reservations of `reference` (at `location_id`), oldest first: dicts of id,
        location_id, item_id, batch_id, remaining."""
        ...

    def add_reservation(self, reference: str, key: AccountKey, quantity: int) -> None: ...

    def reduce_reservation(self, reservation_id: int, remaining: int, released: bool) -> None: ...


class IdempotencyKeys(Protocol):
    """The answer to a command sent again with the same key."""

    def idempotent(self, key: str, operation: str, digest: str) -> Any:
        """The stored answer (with `transaction_id` and `result`, as attributes or keys), None
        if the key is new; refuses a key used for other content (`idempotency_key_reused`)."""
        ...

    def remember(
        self, key: str, operation: str, digest: str, transaction_id: int | None, result: str
    ) -> None: ...


class OperationsLog(Protocol):
    """The append-only record of what is not a movement (reference data added …)."""

    def record_operation(
        self,
        action: str,
        object_type: str,
        object_key: str,
        *,
        user_id: int | None,
        after: Any = None,
        location_path: str | None = None,
    ) -> None: ...


class Store(
    ReferenceData, Accounts, Journal, Reservations, IdempotencyKeys, OperationsLog, Protocol
):
    """What the movement use cases need of one unit of work: its repositories, and who acts."""

    @property
    def maker_id(self) -> int | None:
        """The user the vouchers of this unit of work name as their maker (None: the CLI)."""
        ...

    def acting(self, user_id: int | None, today: dt.date | None = None) -> Store:
        """This store, making its vouchers as `user_id` on the ledger's `today`."""
        ...


class Database(Protocol):
    """Where the units of work come from (`ledger.db.unit_of_work.Database`)."""

    def write(self, work: Callable[[Store], T]) -> T:
        """Run `work` in one unit of work and commit it; anything `work` raises rolls back all
        it did."""
        ...

    def lookup(self, work: Callable[[Store], T]) -> T:
        """Run read-only `work` on a store (inside a `write`: that write's)."""
        ...
