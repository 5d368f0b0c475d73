"""An in-memory unit of work for the movement use cases, in the manner of cosmicpython's
FakeRepository and FakeUnitOfWork: `FakeDatabase` and `FakeStore` implement the port
(`ledger.services.ports.Database` and `Store`) with dictionaries, so `ledger.services.ledger.
execute` runs the real use cases without a database.

The fake stores and reads; it decides nothing the core decides. Posting runs the legs through
`ledger.posting.apply_legs` (sum to zero, no negative physical stock, nothing reserved taken,
no account moved back in time), refuses a closed period with `ledger.posting.check_period_open`
and hashes with `ledger.chain`; FEFO picking and every other check happen in the use cases
before they reach the store. What is left here is what a repository does: numbering per prefix
and year, uniqueness of codes and idempotency keys, lookups that refuse an unknown code.

`FakeDatabase.write` runs the work on a copy of the committed state and keeps the copy only if
the work returns (commit); if it raises, the copy is dropped (rollback), as the real unit of
work rolls back its transaction. A write inside a write joins it.

tests/integration/test_fake_store_contract.py runs the same commands on this fake and on a real
database and compares what they answer and hold, so the fake cannot drift from the real store.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ledger.chain import CHAIN_VERSION_CURRENT, GENESIS_HASH, canonical_encoding, chain_hash
from ledger.db.store import NO_USER
from ledger.entries import BatchEntry, ItemEntry, LocationEntry
from ledger.model import (
    VOUCHER_PREFIX,
    AccountKey,
    Batch,
    Item,
    Location,
    LocationLevel,
    Posting,
    Transaction,
    TransactionKind,
    VirtualLocation,
    voucher_number,
)
from ledger.posting import AccountState, Leg, apply_legs, check_period_open
from ledger.rules import Code, LedgerError, check_same_request, require

T = TypeVar("T")

VIRTUAL_NAMES = {
    VirtualLocation.supplier: "供货方",
    VirtualLocation.in_transit: "在途",
    VirtualLocation.distributed: "已发放",
    VirtualLocation.scrapped: "报损",
    VirtualLocation.adjustment: "盘点调整",
    VirtualLocation.opening: "期初",
}


@dataclass
class FakeState:
    """Everything a fake ledger holds; a unit of work changes a copy of it."""

    items: dict[str, ItemEntry] = field(default_factory=dict)
    locations: dict[str, LocationEntry] = field(default_factory=dict)
    batches: dict[tuple[int, str], BatchEntry] = field(default_factory=dict)
    balances: dict[AccountKey, AccountState] = field(default_factory=dict)
    transactions: list[Transaction] = field(default_factory=list)  # by sequence − 1
    counters: dict[tuple[str, int], int] = field(default_factory=dict)  # (prefix, year) → last
    head: tuple[int, str] = (0, GENESIS_HASH)
    closes: list[tuple[str | None, dt.date]] = field(default_factory=list)  # (root code, end)
    reservations: list[dict[str, Any]] = field(default_factory=list)  # id = position + 1
    idempotency: dict[str, dict[str, Any]] = field(default_factory=dict)
    operations: list[dict[str, Any]] = field(default_factory=list)
    user_labels: dict[int, str] = field(default_factory=dict)
    last_id: int = 0  # ids of items, locations and batches, from one series

    @classmethod
    def new(cls) -> FakeState:
        """An empty ledger with its virtual locations, as `ledger init` leaves one."""
        state = cls()
        for virtual, name in VIRTUAL_NAMES.items():
            state.last_id += 1
            location = Location(virtual.value, name, LocationLevel.virtual)
            state.locations[virtual.value] = LocationEntry(
                state.last_id, location, False, f"/{virtual.value}/"
            )
        return state


class FakeStore:
    """`ledger.services.ports.Store` over a `FakeState`."""

    def __init__(self, state: FakeState) -> None:
        self.state = state
        self._maker_id: int | None = None
        self.today: dt.date | None = None

    # ---- who acts ---------------------------------------------------------------------------

    @property
    def maker_id(self) -> int | None:
        return self._maker_id

    def acting(self, user_id: int | None, today: dt.date | None = None) -> FakeStore:
        if user_id is not None:
            self._maker_id = user_id
        if today is not None:
            self.today = today
        return self

    def user_label(self, user_id: int | None) -> str:
        if user_id is None:
            return NO_USER
        return self.state.user_labels.get(user_id, f"#{user_id}")

    # ---- reference data ---------------------------------------------------------------------

    def item(self, code: str, field: str = "item_code") -> ItemEntry:
        entry = self.state.items.get(code)
        if entry is None:
            raise LedgerError(
                Code.unknown_item, f"没有编码为 {code!r} 的物资 (unknown item)", field
            )
        return entry

    def location(self, code: str, field: str = "location_code") -> LocationEntry:
        entry = self.state.locations.get(code)
        if entry is None:
            raise LedgerError(
                Code.unknown_location, f"没有编码为 {code!r} 的库点 (unknown location)", field
            )
        return entry

    def batch(self, item: ItemEntry, number: str, field: str = "batch_number") -> BatchEntry:
        entry = self.state.batches.get((item.id, number))
        if entry is None:
            raise LedgerError(
                Code.unknown_batch, f"{item.item.name} 没有批次 {number!r} (unknown batch)", field
            )
        return entry

    def batch_by_id(self, batch_id: int) -> BatchEntry:
        return self._by_id(self.state.batches.values(), batch_id)

    def find_batch(self, item: ItemEntry, number: str) -> BatchEntry | None:
        return self.state.batches.get((item.id, number))

    def add_item(self, item: Item) -> ItemEntry:
        if item.code in self.state.items:
            raise LedgerError(Code.item_exists, f"物资编码 {item.code} 已存在", "code")
        entry = self.state.items[item.code] = ItemEntry(self._next_id(), item)
        return entry

    def add_location(self, location: Location) -> LocationEntry:
        if location.code in self.state.locations:
            raise LedgerError(Code.location_exists, f"库点编码 {location.code} 已存在", "code")
        path = f"/{location.code}/"
        if location.parent_code is not None:
            path = self.location(location.parent_code, "parent_code").path + f"{location.code}/"
        physical = location.level is not LocationLevel.virtual
        entry = LocationEntry(self._next_id(), location, physical, path)
        self.state.locations[location.code] = entry
        return entry

    def add_batch(self, item: ItemEntry, batch: Batch) -> BatchEntry:
        entry = BatchEntry(self._next_id(), item.id, batch)
        self.state.batches[(item.id, batch.number)] = entry
        return entry

    def describe(self, key: AccountKey) -> str:
        location, item, batch = self._codes(key)
        return f"{location}·{item}·批次{batch}"

    def _next_id(self) -> int:
        self.state.last_id += 1
        return self.state.last_id

    @staticmethod
    def _by_id(entries: Iterable[Any], entry_id: int) -> Any:
        found = next((entry for entry in entries if entry.id == entry_id), None)
        require(found is not None, f"id {entry_id} referenced but missing")
        return found

    def _codes(self, key: AccountKey) -> tuple[str, str, str]:
        """(location code, item code, batch number) of an account."""
        state = self.state
        return (
            self._by_id(state.locations.values(), key.location_id).location.code,
            self._by_id(state.items.values(), key.item_id).item.code,
            self._by_id(state.batches.values(), key.batch_id).batch.number,
        )

    # ---- accounts ---------------------------------------------------------------------------

    def lock_states(self, keys: Iterable[AccountKey]) -> dict[AccountKey, AccountState]:
        balances = self.state.balances
        for key in keys:
            balances.setdefault(key, AccountState(is_new=True))
        return balances

    def stocked_batches(self, location_id: int, item_id: int) -> list[tuple[int, int, int]]:
        return [
            (key.batch_id, state.on_hand, state.reserved)
            for key, state in sorted(self.state.balances.items())
            if (key.location_id, key.item_id) == (location_id, item_id) and state.on_hand > 0
        ]

    def change_reserved(self, key: AccountKey, change: int) -> None:
        state = self.lock_states([key])[key]
        require(0 <= state.reserved + change <= state.on_hand, f"reserve out of range on {key}")
        state.reserved += change

    # ---- the journal ------------------------------------------------------------------------

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
        """The steps of `ledger.db.journal.Journal.append`, in its order, on dictionaries."""
        state = self.state
        balances_after = apply_legs(legs, state.balances, occurred_on, self.describe)
        number = self._next_number(kind, occurred_on.year)
        check_period_open(occurred_on, self._closed_through(location))
        sequence, previous_hash = state.head[0] + 1, state.head[1]
        lines = [(*self._codes(leg.key), leg.quantity) for leg in legs]
        maker_id = self.maker_id
        receiver_id = maker_id if kind is TransactionKind.confirmation else None
        counterparty_code = counterparty.location.code if counterparty else None
        reverses_sequence = reverses.sequence if reverses else None
        shipment_sequence = shipment.sequence if shipment else None
        encoding = canonical_encoding(
            sequence,
            number,
            kind.value,
            occurred_on,
            location.location.code,
            counterparty_code,
            reverses_sequence,
            shipment_sequence,
            reason,
            memo,
            lines,
            CHAIN_VERSION_CURRENT,
            (maker_id, None, receiver_id),
        )
        transaction = Transaction(
            sequence=sequence,
            number=number,
            kind=kind,
            occurred_on=occurred_on,
            location_code=location.location.code,
            postings=tuple(
                Posting(*line, balance) for line, balance in zip(lines, balances_after, strict=True)
            ),
            counterparty_code=counterparty_code,
            reverses_sequence=reverses_sequence,
            shipment_sequence=shipment_sequence,
            reason=reason,
            memo=memo,
            previous_hash=previous_hash,
            hash=chain_hash(previous_hash, encoding),
            chain_version=CHAIN_VERSION_CURRENT,
            maker_id=maker_id,
            receiver_id=receiver_id,
            maker=self.user_label(maker_id),
            receiver=self.user_label(receiver_id) if receiver_id is not None else None,
        )
        state.transactions.append(transaction)
        state.head = (sequence, transaction.hash)
        return transaction

    def _next_number(self, kind: TransactionKind, year: int) -> str:
        prefix = VOUCHER_PREFIX[kind]
        last = self.state.counters[(prefix, year)] = self.state.counters.get((prefix, year), 0) + 1
        return voucher_number(prefix, year, last)

    def _closed_through(self, location: LocationEntry) -> dt.date | None:
        root = location.path.split("/")[1]
        ends = [end for closed_root, end in self.state.closes if closed_root in (None, root)]
        return max(ends, default=None)

    def transaction_by_number(self, number: str, lock: bool = False) -> Transaction:
        found = next((tx for tx in self.state.transactions if tx.number == number), None)
        if found is None:
            raise LedgerError(
                Code.unknown_transaction, f"没有单据 {number!r} (unknown transaction)", "number"
            )
        return found

    def transaction(self, sequence: int, lock: bool = False) -> Transaction:
        if not 1 <= sequence <= len(self.state.transactions):
            raise LedgerError(Code.unknown_transaction, f"没有序号 {sequence} 的单据", "sequence")
        return self.state.transactions[sequence - 1]

    def reversal_of(self, sequence: int) -> str | None:
        return next(
            (tx.number for tx in self.state.transactions if tx.reverses_sequence == sequence),
            None,
        )

    def opening_of(self, location_id: int) -> str | None:
        code = self._by_id(self.state.locations.values(), location_id).location.code
        return next(
            (
                tx.number
                for tx in self.state.transactions
                if tx.kind is TransactionKind.opening
                and tx.location_code == code
                and self.reversal_of(tx.sequence) is None
            ),
            None,
        )

    def active_confirmation(self, shipment_sequence: int) -> str | None:
        return next(
            (
                tx.number
                for tx in self.state.transactions
                if tx.kind is TransactionKind.confirmation
                and tx.shipment_sequence == shipment_sequence
                and self.reversal_of(tx.sequence) is None
            ),
            None,
        )

    # ---- reservations -----------------------------------------------------------------------

    def open_reservations(
        self, reference: str, location_id: int | None = None
    ) -> list[dict[str, Any]]:
        return [
            {key: row[key] for key in ("id", "location_id", "item_id", "batch_id", "remaining")}
            for row in self.state.reservations
            if row["reference"] == reference
            and row["status"] == "open"
            and location_id in (None, row["location_id"])
        ]

    def add_reservation(self, reference: str, key: AccountKey, quantity: int) -> None:
        self.change_reserved(key, quantity)
        self.state.reservations.append(
            {
                "id": len(self.state.reservations) + 1,
                "reference": reference,
                **key._asdict(),
                "quantity": quantity,
                "remaining": quantity,
                "status": "open",
            }
        )

    def reduce_reservation(self, reservation_id: int, remaining: int, released: bool) -> None:
        row = self.state.reservations[reservation_id - 1]
        row["remaining"] = remaining
        row["status"] = "open" if remaining else ("released" if released else "consumed")

    # ---- idempotency keys and the operations log --------------------------------------------

    def idempotent(self, key: str, operation: str, digest: str) -> Any:
        found = self.state.idempotency.get(key)
        if found is not None:
            check_same_request((found["operation"], found["request_digest"]), (operation, digest))
        return found

    def remember(
        self, key: str, operation: str, digest: str, transaction_id: int | None, result: str
    ) -> None:
        self.state.idempotency[key] = {
            "operation": operation,
            "request_digest": digest,
            "transaction_id": transaction_id,
            "result": result,
        }

    def record_operation(
        self,
        action: str,
        object_type: str,
        object_key: str,
        *,
        user_id: int | None,
        after: Any = None,
        location_path: str | None = None,
    ) -> None:
        self.state.operations.append(
            {
                "action": action,
                "object_type": object_type,
                "object_key": object_key,
                "user_id": user_id,
                "after": after,
                "root_code": location_path.split("/")[1] if location_path else None,
            }
        )


class FakeDatabase:
    """`ledger.services.ports.Database` in memory (see the module's docstring)."""

    def __init__(self, state: FakeState | None = None) -> None:
        self.state = state or FakeState.new()
        self.commits = 0
        self._open: FakeStore | None = None

    def write(self, work: Callable[[FakeStore], T]) -> T:
        if self._open is not None:
            return work(self._open)
        store = FakeStore(copy.deepcopy(self.state))
        self._open = store
        try:
            result = work(store)
        finally:
            self._open = None
        self.state = store.state
        self.commits += 1
        return result

    def lookup(self, work: Callable[[FakeStore], T]) -> T:
        if self._open is not None:
            return work(self._open)
        return work(FakeStore(copy.deepcopy(self.state)))

    # ---- for the tests: what the fake holds, by code ----------------------------------------

    def close_period(self, period_end: dt.date, root_code: str | None = None) -> None:
        """A period close (月结) through `period_end` at `root_code` (None: every root)."""
        self.state.closes.append((root_code, period_end))

    def balances(self) -> dict[tuple[str, str, str], tuple[int, int]]:
        """(on hand, reserved) of every account that holds or reserves something, by (location
        code, item code, batch number)."""
        store = FakeStore(self.state)
        return {
            store._codes(key): (state.on_hand, state.reserved)
            for key, state in self.state.balances.items()
            if state.on_hand or state.reserved
        }

    def on_hand(self, location: str, item: str, batch: str) -> int:
        return self.balances().get((location, item, batch), (0, 0))[0]

    def transactions(self) -> list[Transaction]:
        return list(self.state.transactions)

    def reservations(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self.state.reservations)
