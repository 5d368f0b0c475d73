"""The bulk loader: many movements computed with the pure core and written in large batches.

For building big ledgers fast (benchmarks, the synthetic city). It applies the same posting
engine as the use cases (`apply_legs`: balanced, never negative, dates in order), the same
voucher numbering and the same hash chain, so the ledger it writes is the one the use cases
would have written for the same commands — but without their per-command reads, locks and
pack labels. It only starts on an empty ledger (no transactions yet) and holds its database
transaction until `finish`. Reservations made and consumed by the same commands leave nothing
behind and are not written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from ledger import commands as c
from ledger.chain import CHAIN_VERSION_CURRENT, GENESIS_HASH, canonical_encoding, chain_hash
from ledger.db.accounts import BALANCES_INSERT
from ledger.db.journal import POSTINGS_INSERT, TRANSACTIONS_INSERT
from ledger.db.unit_of_work import Database
from ledger.model import VOUCHER_PREFIX, AccountKey, Batch, TransactionKind, VirtualLocation
from ledger.posting import AccountState, Leg, apply_legs
from ledger.reference import batch_content
from ledger.rules import Code, LedgerError
from ledger.settings import office_today

ROWS_PER_WRITE = 100_000


class BulkLoader:
    def __init__(self, database: Database) -> None:
        self.connection = database.engine.connect()
        self.connection.begin()
        self.as_text = self.connection.dialect.name == "sqlite"
        self.qmark = self.connection.dialect.paramstyle == "qmark"
        head = self._run("SELECT sequence, hash FROM chain_head WHERE id = 1").one()
        if head[0] != 0:
            self.connection.rollback()
            self.connection.close()
            raise LedgerError(Code.invalid_field, "bulk loading needs an empty ledger", "database")
        self.head = [0, GENESIS_HASH]
        self.locations = {
            row[1]: (row[0], bool(row[2]), row[3])
            for row in self._run("SELECT id, code, physical, path FROM locations")
        }
        self.items = {row[1]: row[0] for row in self._run("SELECT id, code FROM items")}
        self.batches: dict[tuple[str, str], int] = {}
        for row in self._run(
            "SELECT b.id, i.code, b.number FROM batches b JOIN items i ON i.id = b.item_id"
        ):
            self.batches[(row[1], row[2])] = row[0]
        self.next_batch = 1 + max(self.batches.values(), default=0)
        self.states: dict[AccountKey, AccountState] = {}
        self.counters: dict[tuple[str, int], int] = {}
        self.shipments: dict[str, tuple[int, str, str, list[tuple[str, str, int]]]] = {}
        self.transaction_rows: list[tuple] = []
        self.posting_rows: list[tuple] = []
        now = dt.datetime.now(dt.UTC)
        self.recorded_at = now.strftime("%Y-%m-%d %H:%M:%S.%f") if self.as_text else now
        self.today = self._date(office_today())
        self.written = 0
        self.virtual = {v: v.value for v in VirtualLocation}

    # ---- SQL ---------------------------------------------------------------------------------

    def _statement(self, statement: str) -> str:
        return statement if self.qmark else statement.replace("?", "%s")

    def _run(self, statement: str, parameters: tuple = ()):
        return self.connection.exec_driver_sql(self._statement(statement), parameters)

    def _many(self, statement: str, rows: list[tuple]) -> None:
        if rows:
            self.connection.exec_driver_sql(self._statement(statement), rows)

    def _date(self, value: dt.date | None):
        return value.isoformat() if self.as_text and value is not None else value

    # ---- commands ----------------------------------------------------------------------------

    def add(self, commands: Iterable) -> None:
        for command in commands:
            handler = getattr(self, f"_{type(command).__name__.lower()}", None)
            if handler is None:
                raise TypeError(f"the bulk loader does not take {type(command).__name__}")
            handler(command)
        if len(self.posting_rows) >= ROWS_PER_WRITE:
            self._write()

    def _receive(self, command: c.Receive) -> None:
        legs = []
        for line in command.lines:
            key = (line.item_code, line.batch_number)
            if key not in self.batches:
                self.batches[key] = self.next_batch
                self._run(
                    "INSERT INTO batches (id, item_id, number, produced_on, expires_on) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        self.next_batch,
                        self.items[line.item_code],
                        line.batch_number,
                        self._date(line.produced_on),
                        self._date(line.expires_on),
                    ),
                )
                batch = Batch(line.item_code, line.batch_number, line.produced_on, line.expires_on)
                self._run(  # its version 1, as the store writes for a batch it creates
                    "INSERT INTO reference_versions (object_type, object_id, version, valid_from, "
                    "recorded_at, user_id, content) VALUES ('batch', ?, 1, ?, ?, NULL, ?)",
                    (self.next_batch, self.today, self.recorded_at, batch_content(batch)),
                )
                self.next_batch += 1
            legs += self._move(
                self.virtual[VirtualLocation.supplier],
                command.location_code,
                line.item_code,
                line.batch_number,
                line.quantity,
            )
        self._post(
            TransactionKind.receipt,
            command.occurred_on,
            command.location_code,
            legs,
            memo=command.memo,
        )

    def _issue(self, command: c.Issue) -> None:
        transit = self.virtual[VirtualLocation.in_transit]
        legs = []
        for line in command.lines:
            legs += self._move(
                command.source_code, transit, line.item_code, line.batch_number, line.quantity
            )
        source_path = self.locations[command.source_code][2]
        kind = (
            TransactionKind.issue
            if self.locations[command.destination_code][2].startswith(source_path)
            else TransactionKind.transfer
        )
        sequence, number = self._post(
            kind,
            command.occurred_on,
            command.source_code,
            legs,
            counterparty=command.destination_code,
            memo=command.memo,
        )
        shipped = [(line.item_code, line.batch_number, line.quantity) for line in command.lines]
        self.shipments[number] = (sequence, command.source_code, command.destination_code, shipped)

    def _confirm(self, command: c.Confirm) -> None:
        sequence, issuer, receiver, shipped = self.shipments.pop(command.shipment_number)
        received = {
            (line.item_code, line.batch_number): line.quantity_received for line in command.received
        }
        transit = self.virtual[VirtualLocation.in_transit]
        adjustment = self.virtual[VirtualLocation.adjustment]
        arrived, short = [], []
        for item, batch, quantity in shipped:
            got = received.get((item, batch), quantity)
            if got:
                arrived += self._move(transit, receiver, item, batch, got)
            if quantity - got:
                short += self._move(transit, adjustment, item, batch, quantity - got)
        self._post(
            TransactionKind.confirmation,
            command.occurred_on,
            receiver,
            arrived + short,
            counterparty=issuer,
            shipment=sequence,
            reason=command.shortage.reason if short and command.shortage else None,
            memo=c.confirmation_memo(command.memo, command.shortage if short else None),
        )

    def _out(self, kind: TransactionKind, sink: str, command, reason: str | None = None) -> None:
        legs = []
        for line in command.lines:
            legs += self._move(
                command.location_code,
                self.virtual[sink],
                line.item_code,
                line.batch_number,
                line.quantity,
            )
        self._post(
            kind, command.occurred_on, command.location_code, legs, reason=reason, memo=command.memo
        )

    def _distribute(self, command: c.Distribute) -> None:
        self._out(TransactionKind.distribution, VirtualLocation.distributed, command)

    def _writeoff(self, command: c.WriteOff) -> None:
        self._out(TransactionKind.write_off, VirtualLocation.scrapped, command, command.reason)

    def _adjust(self, command: c.Adjust) -> None:
        adjustment = self.virtual[VirtualLocation.adjustment]
        gains, losses = [], []
        for line in command.lines:
            if line.difference > 0:
                gains += self._move(
                    adjustment,
                    command.location_code,
                    line.item_code,
                    line.batch_number,
                    line.difference,
                )
            else:
                losses += self._move(
                    command.location_code,
                    adjustment,
                    line.item_code,
                    line.batch_number,
                    -line.difference,
                )
        self._post(
            TransactionKind.stocktake,
            command.occurred_on,
            command.location_code,
            gains + losses,
            reason=command.reason,
            memo=command.memo,
        )

    def _reserve(self, command: c.Reserve) -> None:
        """Reserved and consumed by the issue that follows: nothing stays to be written."""

    # ---- posting -----------------------------------------------------------------------------

    def _move(self, source: str, destination: str, item: str, batch: str, quantity: int) -> list:
        item_id, batch_id = self.items[item], self.batches[(item, batch)]
        from_id, from_physical, _ = self.locations[source]
        to_id, to_physical, _ = self.locations[destination]
        return [
            (
                Leg(AccountKey(from_id, item_id, batch_id), -quantity, from_physical),
                source,
                item,
                batch,
            ),
            (
                Leg(AccountKey(to_id, item_id, batch_id), quantity, to_physical),
                destination,
                item,
                batch,
            ),
        ]

    def _post(
        self,
        kind: TransactionKind,
        occurred_on: dt.date | None,
        location: str,
        legs: list,
        counterparty: str | None = None,
        shipment: int | None = None,
        reason: str | None = None,
        memo: str = "",
    ) -> tuple[int, str]:
        if occurred_on is None:
            raise LedgerError(Code.invalid_field, "bulk commands carry their dates", "occurred_on")
        balances = apply_legs([leg for leg, *_ in legs], self.states, occurred_on)
        prefix, year = VOUCHER_PREFIX[kind], occurred_on.year
        self.counters[(prefix, year)] = last = self.counters.get((prefix, year), 0) + 1
        number = f"{prefix}-{year}-{last:06d}"
        sequence = self.head[0] + 1
        encoding = canonical_encoding(
            sequence,
            number,
            kind.value,
            occurred_on,
            location,
            counterparty,
            None,
            shipment,
            reason,
            memo,
            ((code, item, batch, leg.quantity) for leg, code, item, batch in legs),
            CHAIN_VERSION_CURRENT,
        )
        digest = chain_hash(self.head[1], encoding)
        day = self._date(occurred_on)
        self.transaction_rows.append(
            (
                sequence,
                number,
                kind.value,
                day,
                self.recorded_at,
                self.locations[location][0],
                self.locations[counterparty][0] if counterparty else None,
                None,
                shipment,
                reason,
                memo,
                self.head[1],
                digest,
                CHAIN_VERSION_CURRENT,
                None,  # the bulk loader posts as no user (the command line)
                None,
                None,
            )
        )
        for (leg, *_), balance in zip(legs, balances, strict=True):
            self.posting_rows.append((sequence, *leg.key, leg.quantity, balance, day))
        self.head = [sequence, digest]
        return sequence, number

    # ---- writing -----------------------------------------------------------------------------

    def _write(self) -> None:
        self._many(TRANSACTIONS_INSERT, self.transaction_rows)
        self._many(POSTINGS_INSERT, self.posting_rows)
        self.written += len(self.transaction_rows)
        self.transaction_rows, self.posting_rows = [], []

    def finish(self) -> int:
        """Write the rest, the balances, the counters and the chain head; commit."""
        try:
            self._write()
            self._many(
                BALANCES_INSERT,
                [
                    (state.on_hand, state.reserved, self._date(state.last_on), *key)
                    for key, state in sorted(self.states.items())
                ],
            )
            self._many(
                "INSERT INTO voucher_counters (prefix, year, last) VALUES (?, ?, ?)",
                [(prefix, year, last) for (prefix, year), last in sorted(self.counters.items())],
            )
            self._run("UPDATE chain_head SET sequence = ?, hash = ? WHERE id = 1", tuple(self.head))
            if not self.as_text:  # PostgreSQL: plan the next queries on what was just loaded
                self._run("ANALYZE", ())
            self.connection.commit()
        finally:
            self.connection.close()
        return self.written
