"""Property test: random sequences of every movement kind — valid and invalid, with reversals —
applied both to the ledger and to a tiny reference model. After every step the balances equal the
model's, a refused step left nothing behind, and `verify` is clean."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ledger import commands as c
from ledger.db import balance_queries, journal_queries
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.rules import Code, LedgerError
from ledger.services.audit import verify_ledger
from tests.bound import Ledger
from tests.builder import ledger_from_text
from tests.clones import copy_sqlite

PHYSICAL = ("510100", "510121", "510121-ZJ", "510181")
PARENT = {"510121": "510100", "510121-ZJ": "510121", "510181": "510100"}
BATCHES = (("NH2014", "2014-01"), ("NH2014", "2014-02"), ("BYT", "B-EARLY"), ("BYT", "B-LATE"))
EXPIRES = {"B-EARLY": dt.date(2026, 8, 10), "B-LATE": dt.date(2028, 1, 31)}
START = dt.date(2026, 6, 30)

SETUP = """
location 510100 成都市 city
location 510121 金堂县 county 510100
location 510121-ZJ 赵家镇 township 510121
location 510181 都江堰市 county 510100
item NH2014 年画 printed 张 捆=500
item BYT 避孕套 contraceptive 只 盒=3 expiry
"""

locations = st.sampled_from(PHYSICAL[:3]) | st.sampled_from(PHYSICAL)
batches = st.sampled_from(BATCHES[1:]) | st.sampled_from(BATCHES)
quantities = st.integers(1, 60) | st.integers(1, 400)


class Model:
    """The reference: plain dictionaries and the rules spelled out once more, naively."""

    def __init__(self) -> None:
        self.balance: dict[tuple[str, str, str], int] = {}
        self.reserved: dict[tuple[str, str, str], int] = {}
        self.transactions: list[dict] = []  # number, kind, deltas, reversed, shipment info

    def get(self, location, item, batch) -> int:
        return self.balance.get((location, item, batch), 0)

    def available(self, location, item, batch) -> int:
        return self.get(location, item, batch) - self.reserved.get((location, item, batch), 0)

    def outflow_problem(self, location, item, batch, quantity) -> Code | None:
        if quantity > self.get(location, item, batch):
            return Code.exceeds_on_hand
        if quantity > self.available(location, item, batch):
            return Code.exceeds_available
        return None

    def apply(self, deltas) -> None:
        for key, delta in deltas:
            self.balance[key] = self.balance.get(key, 0) + delta

    def nonzero(self) -> dict:
        return {key: value for key, value in self.balance.items() if value}


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.TemporaryDirectory()
        engine = make_engine(copy_sqlite(Path(self.directory.name) / "ledger.db"))
        self.today = START
        self.ledger = Ledger(Database(engine), clock=lambda: self.today)
        ledger_from_text(self.ledger, SETUP)
        self.model = Model()
        self.reservations: list[tuple] = []
        self.references_made = 0

    def teardown(self) -> None:
        self.ledger.database.dispose()
        self.directory.cleanup()

    # ---- running a step against both ---------------------------------------------------------

    def snapshot(self):
        with self.ledger.database.read() as connection:
            lines = balance_queries.balances(connection, include_virtual=True, include_zero=True)
            return journal_queries.counts(connection), sorted(
                (line.location_code, line.item_code, line.batch_number, line.on_hand, line.reserved)
                for line in lines
            )

    def step(self, command, expected: Code | None, on_success=None):
        event(f"{type(command).__name__}: {expected or 'ok'}")
        before = self.snapshot() if expected is not None else None
        try:
            result = self.ledger.execute(command)
        except LedgerError as error:
            assert expected is not None, f"refused unexpectedly: {error.code} {error.message}"
            assert error.code is expected, (error.code, expected, error.message)
            assert self.snapshot() == before, "a refused command left something behind"
            return None
        assert expected is None, f"expected {expected}, but {command} went through"
        if on_success:
            on_success(result)
        return result

    def record(self, kind, deltas, **extra):
        def done(transaction):
            self.model.apply(deltas)
            self.model.transactions.append(
                {
                    "number": transaction.number,
                    "kind": kind,
                    "deltas": deltas,
                    "reversed": False,
                    **extra,
                }
            )

        return done

    def expired(self, batch) -> bool:
        return batch in EXPIRES and self.today > EXPIRES[batch]

    # ---- rules --------------------------------------------------------------------------------

    @initialize(quantity=st.integers(50, 400))
    def stock_up(self, quantity):
        """Most steps should find stock to move: every batch starts at three locations."""
        for location in PHYSICAL[:3]:
            for item, batch in BATCHES:
                self.receive(location, (item, batch), quantity)

    @rule(location=locations, item_batch=batches, quantity=quantities)
    def receive(self, location, item_batch, quantity):
        item, batch = item_batch
        expires = EXPIRES.get(batch)
        expected = Code.batch_expired if self.expired(batch) else None
        deltas = [(("supplier", item, batch), -quantity), ((location, item, batch), quantity)]
        self.step(
            c.Receive(location, (c.ReceiptLine(item, batch, quantity, expires_on=expires),)),
            expected,
            self.record("receipt", deltas),
        )

    @rule(source=locations, destination=locations, item_batch=batches, quantity=quantities)
    def issue(self, source, destination, item_batch, quantity):
        item, batch = item_batch
        if source == destination:
            expected = Code.locations_must_be_different
        elif not self.batch_known(item, batch):
            expected = Code.unknown_batch
        elif self.expired(batch):
            expected = Code.batch_expired
        else:
            expected = self.model.outflow_problem(source, item, batch, quantity)
        deltas = [((source, item, batch), -quantity), (("in-transit", item, batch), quantity)]
        self.step(
            c.Issue(source, destination, (c.LineSpec(item, quantity, batch),)),
            expected,
            self.record(
                "issue",
                deltas,
                destination=destination,
                line=(item, batch, quantity),
                confirmed=None,
            ),
        )

    def batch_known(self, item, batch) -> bool:
        return any(key[1:] == (item, batch) for key in self.model.balance)

    def shipments(self):
        return [tx for tx in self.model.transactions if tx["kind"] == "issue"]

    @precondition(lambda self: self.shipments())
    @rule(data=st.data(), short=st.integers(0, 50), acknowledged=st.booleans())
    def confirm(self, data, short, acknowledged):
        shipment = data.draw(st.sampled_from(self.shipments()))
        item, batch, quantity = shipment["line"]
        received = max(0, quantity - short)
        if shipment["reversed"]:
            expected = Code.not_a_shipment
        elif shipment["confirmed"] is not None:
            expected = Code.shipment_already_confirmed
        elif received < quantity and not acknowledged:
            expected = Code.shortage_unconfirmed  # one step never writes stock off
        else:
            expected = None
        deltas = [
            (("in-transit", item, batch), -quantity),
            ((shipment["destination"], item, batch), received),
        ]
        if quantity - received:
            deltas.append((("adjustment", item, batch), quantity - received))
        record = self.record("confirmation", deltas, shipment=shipment)

        def done(transaction):
            record(transaction)
            shipment["confirmed"] = transaction.number

        shortage = None
        if received < quantity and acknowledged:
            missing = (c.ShortageLine(item, batch, quantity - received),)
            shortage = c.Shortage("lost_in_transit", missing)
        self.step(
            c.Confirm(
                shipment["number"], (c.ReceivedLine(item, batch, received),), shortage=shortage
            ),
            expected,
            done,
        )

    def outflow(self, kind, command, location, item, batch, quantity, to, refuse_expired=True):
        if not self.batch_known(item, batch):
            expected = Code.unknown_batch
        elif refuse_expired and self.expired(batch):
            expected = Code.batch_expired
        else:
            expected = self.model.outflow_problem(location, item, batch, quantity)
        deltas = [((location, item, batch), -quantity), ((to, item, batch), quantity)]
        self.step(command, expected, self.record(kind, deltas))

    @rule(location=locations, item_batch=batches, quantity=quantities)
    def distribute(self, location, item_batch, quantity):
        item, batch = item_batch
        command = c.Distribute(location, (c.LineSpec(item, quantity, batch),))
        self.outflow("distribution", command, location, item, batch, quantity, "distributed")

    @rule(location=locations, item_batch=batches, quantity=quantities)
    def return_to_parent(self, location, item_batch, quantity):
        item, batch = item_batch
        command = c.Return(location, (c.LineSpec(item, quantity, batch),))
        if location not in PARENT:
            self.step(command, Code.location_has_no_parent)
            return
        self.outflow("return", command, location, item, batch, quantity, PARENT[location], False)

    @rule(location=locations, item_batch=batches, quantity=quantities)
    def write_off(self, location, item_batch, quantity):
        item, batch = item_batch
        command = c.WriteOff(location, (c.LineSpec(item, quantity, batch),), "damaged")
        self.outflow("write_off", command, location, item, batch, quantity, "scrapped", False)

    @rule(location=locations, item_batch=batches, difference=st.integers(-200, 200).filter(bool))
    def adjust(self, location, item_batch, difference):
        item, batch = item_batch
        command = c.Adjust(location, (c.AdjustLine(item, batch, difference),))
        if difference > 0:
            if not self.batch_known(item, batch):
                self.step(command, Code.unknown_batch)
                return
            deltas = [
                (("adjustment", item, batch), -difference),
                ((location, item, batch), difference),
            ]
            self.step(command, None, self.record("stocktake", deltas))
        else:
            self.outflow(
                "stocktake", command, location, item, batch, -difference, "adjustment", False
            )

    @precondition(lambda self: self.model.transactions)
    @rule(data=st.data())
    def reverse(self, data):
        original = data.draw(st.sampled_from(self.model.transactions))
        deltas = [(key, -delta) for key, delta in original["deltas"]]
        if original["kind"] == "reversal":
            expected = Code.reversal_of_reversal
        elif original["reversed"]:
            expected = Code.reversal_already_exists
        elif original["kind"] == "issue" and original["confirmed"] is not None:
            expected = Code.shipment_already_confirmed
        else:
            expected = None
            for (location, item, batch), delta in deltas:
                if delta < 0 and location in PHYSICAL:
                    expected = expected or self.model.outflow_problem(location, item, batch, -delta)
        record = self.record("reversal", deltas)

        def done(transaction):
            record(transaction)
            original["reversed"] = True
            if original["kind"] == "confirmation":
                original["shipment"]["confirmed"] = None

        self.step(c.Reverse(original["number"]), expected, done)

    @rule(location=locations, item_batch=batches, quantity=quantities)
    def reserve(self, location, item_batch, quantity):
        item, batch = item_batch
        self.references_made += 1
        reference = f"SQ-{self.references_made}"
        if not self.batch_known(item, batch):
            expected = Code.unknown_batch
        elif self.expired(batch):
            expected = Code.batch_expired
        elif quantity > self.model.available(location, item, batch):
            expected = Code.exceeds_available
        else:
            expected = None

        def done(_):
            key = (location, item, batch)
            self.model.reserved[key] = self.model.reserved.get(key, 0) + quantity
            self.reservations.append((reference, key, quantity))

        self.step(
            c.Reserve(reference, location, item, quantity, batch_number=batch), expected, done
        )

    @precondition(lambda self: self.reservations)
    @rule(data=st.data())
    def release(self, data):
        entry = data.draw(st.sampled_from(self.reservations))
        reference, key, quantity = entry

        def done(_):
            self.model.reserved[key] -= quantity
            self.reservations.remove(entry)

        self.step(c.Release(reference), None, done)

    @rule(days=st.integers(1, 4))
    def time_passes(self, days):
        self.today += dt.timedelta(days=days)

    # ---- after every step ---------------------------------------------------------------------

    @invariant()
    def balances_equal_the_model(self):
        with self.ledger.database.read() as connection:
            lines = balance_queries.balances(connection, include_virtual=True)
        stored = {
            (line.location_code, line.item_code, line.batch_number): line.on_hand for line in lines
        }
        assert stored == self.model.nonzero()
        reserved = {
            (line.location_code, line.item_code, line.batch_number): line.reserved
            for line in lines
            if line.reserved
        }
        assert reserved == {key: value for key, value in self.model.reserved.items() if value}

    @invariant()
    def verify_is_clean(self):
        report = verify_ledger(self.ledger.database)
        assert report.ok, report.findings


LedgerMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_ledger_matches_the_reference_model = LedgerMachine.TestCase
