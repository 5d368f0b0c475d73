"""The fake unit of work (tests/unit/fake_store.py) answers as the real one does.

The same commands — refused ones among them — run through `ledger.services.ledger.execute` on the
fake and on a migrated database must give the same answers (whole vouchers: numbers, postings,
balances after, hashes; or the same rejection code and field), leave the same balances (on hand
and reserved) after every step, and end with the same journal and reservations. A scripted
sequence runs on both engines; a Hypothesis-drawn one on SQLite.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from ledger import commands as c
from ledger.db import balance_queries, journal_queries
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.rules import Code, LedgerError
from ledger.services.ledger import execute
from tests.clones import copy_sqlite
from tests.unit import small_office as office
from tests.unit.fake_store import FakeDatabase
from tests.unit.small_office import CITY, COUNTY, EARLY, LATE, OTHER_CITY, OTHER_COUNTY, TOWN

Step = tuple[Any, dt.date]  # a command and the day it is sent on


def outcome(database: Any, command: Any, today: dt.date) -> Any:
    """What `execute` answers: the result, or the refusal's code and field."""
    try:
        return execute(database, command, None, today)
    except LedgerError as error:
        return ("refused", error.code, error.field)


def real_balances(database: Database) -> dict[tuple[str, str, str], tuple[int, int]]:
    with database.read() as connection:
        lines = balance_queries.balances(connection, include_virtual=True, include_zero=True)
    return {
        (line.location_code, line.item_code, line.batch_number): (line.on_hand, line.reserved)
        for line in lines
        if line.on_hand or line.reserved
    }


def real_journal(database: Database) -> list[Any]:
    with database.read() as connection:
        count = journal_queries.counts(connection)[0]
    return database.lookup(lambda store: store.transactions(list(range(1, count + 1))))


def real_reservations(database: Database) -> list[tuple]:
    with database.read() as connection:
        rows = connection.exec_driver_sql(
            "SELECT reference, quantity, remaining, status FROM reservations ORDER BY id"
        ).all()
    return [tuple(row) for row in rows]


def fake_reservations(fake: FakeDatabase) -> list[tuple]:
    return [
        (row["reference"], row["quantity"], row["remaining"], row["status"])
        for row in fake.reservations()
    ]


def run_both(real: Database, steps: Iterable[Step]) -> list[Any]:
    """Run `steps` on a fresh fake and on `real` (set up alike), comparing as they go; the
    outcomes."""
    fake = FakeDatabase()
    for database in (fake, real):
        office.set_up(database)
        office.stock_up(database)
    outcomes = []
    for number, (command, today) in enumerate(steps, 1):
        got_fake, got_real = outcome(fake, command, today), outcome(real, command, today)
        assert got_fake == got_real, (number, command, got_fake, got_real)
        assert fake.balances() == real_balances(real), (number, command)
        if currently_in_test_context():  # (a drawn sequence: what it exercised)
            answer = got_real[1] if isinstance(got_real, tuple) else "ok"
            event(f"{type(command).__name__}: {answer}")
        outcomes.append(got_real)
    assert fake.transactions() == real_journal(real)
    assert fake_reservations(fake) == real_reservations(real)
    return outcomes


def receipt_line(item: str, batch: str, quantity: int, expires: dt.date | None = None):
    return (c.ReceiptLine(item, batch, quantity, expires_on=expires),)


day = office.TODAY
later = EARLY + dt.timedelta(days=1)  # B-EARLY has expired
SHORT = c.Shortage("lost_in_transit", (c.ShortageLine("NH2014", "2014-01", 20),))
SCRIPT: list[Step] = [
    (c.Issue(CITY, COUNTY, office.line("BYT", 400)), day),  # FEFO over two batches
    (c.Issue(CITY, COUNTY, office.line("BYT", 10_000)), day),  # exceeds_available
    (c.Issue(CITY, OTHER_CITY, office.line("NH2014", 5)), day),  # location_in_other_city
    (c.Confirm("CK-2026-000001"), day),
    (c.Confirm("CK-2026-000001"), day),  # shipment_already_confirmed
    (c.Issue(CITY, TOWN, office.line("NH2014", 100, "2014-01")), day),
    (c.Confirm("CK-2026-000002", (c.ReceivedLine("NH2014", "2014-01", 80),)), day),  # unconfirmed
    (c.Confirm("CK-2026-000002", (c.ReceivedLine("NH2014", "2014-01", 80),), shortage=SHORT), day),
    (c.Reverse("CK-2026-000002"), day),  # shipment_already_confirmed: reverse the 签收 first
    (c.Reverse("QS-2026-000002"), day),
    (c.Reverse("CK-2026-000002"), day),
    (c.Reverse("HC-2026-000002"), day),  # reversal_of_reversal
    (c.Reverse("CK-2026-000002"), day),  # reversal_already_exists
    (c.Issue(COUNTY, OTHER_COUNTY, office.line("BYT", 50)), day),  # a transfer (DB)
    (c.Reserve("SQ-1", CITY, "NH2014", 700), day),
    (c.Distribute(CITY, office.line("NH2014", 1000)), day),  # exceeds_available (reserved)
    (c.Issue(CITY, COUNTY, office.line("NH2014", 300), reservation="SQ-1"), day),
    (c.Release("SQ-1"), day),
    (c.Release("SQ-1"), day),  # unknown_reservation
    (c.Distribute(CITY, office.line("BYT", 10, "B-EARLY")), later),  # batch_expired
    (c.Distribute(CITY, office.line("BYT", 10)), later),  # FEFO skips the expired batch
    (c.WriteOff(COUNTY, office.line("BYT", 10, "B-EARLY"), "expired"), later),
    (c.Return(COUNTY, office.line("BYT", 5)), later),
    (c.Return(CITY, office.line("BYT", 5)), later),  # location_has_no_parent
    (c.Adjust(TOWN, (c.AdjustLine("NH2014", "2014-01", 7),)), later),
    (c.Adjust(TOWN, (c.AdjustLine("NH2014", "2014-01", -1000),)), later),  # exceeds_on_hand
    (c.OpenBalances(OTHER_COUNTY, receipt_line("GT2014", "2013-09", 40)), later),
    (c.OpenBalances(OTHER_COUNTY, receipt_line("GT2014", "2013-09", 40)), later),  # exists
    (c.Receive(COUNTY, receipt_line("BYT", "B-NEW", 30)), later),  # batch_expiry_required
    (c.Receive(COUNTY, receipt_line("BYT", "B-LATE", 30, EARLY)), later),  # batch_conflict
    (c.Receive(TOWN, receipt_line("NH2014", "2014-01", 1), day), later),  # moved since
    (c.Receive(COUNTY, receipt_line("GT2014", "2014-01", 8), idempotency_key="k1"), later),
    (c.Receive(COUNTY, receipt_line("GT2014", "2014-01", 8), idempotency_key="k1"), later),
    (c.Receive(COUNTY, receipt_line("GT2014", "2014-01", 9), idempotency_key="k1"), later),
    (c.Reserve("SQ-2", COUNTY, "BYT", 20, idempotency_key="k2"), later),
    (c.Reserve("SQ-2", COUNTY, "BYT", 20, idempotency_key="k2"), later),  # answered again
    (c.Reverse("XX-2026-000001"), later),  # unknown_transaction
]


def test_the_fake_answers_a_scripted_day_as_the_database_does(database):
    outcomes = run_both(database, SCRIPT)
    refused = [result[1] for result in outcomes if isinstance(result, tuple)]
    assert refused == [  # the script's refusals all happened, alike
        Code.exceeds_available,
        Code.location_in_other_city,
        Code.shipment_already_confirmed,
        Code.shortage_unconfirmed,
        Code.shipment_already_confirmed,
        Code.reversal_of_reversal,
        Code.reversal_already_exists,
        Code.exceeds_available,
        Code.unknown_reservation,
        Code.batch_expired,
        Code.location_has_no_parent,
        Code.exceeds_on_hand,
        Code.opening_exists,
        Code.batch_expiry_required,
        Code.batch_conflict,
        Code.date_before_last_movement,
        Code.idempotency_key_reused,
        Code.unknown_transaction,
    ]


# ---- drawn sequences (SQLite) ----------------------------------------------------------------

PHYSICAL = (CITY, COUNTY, TOWN, OTHER_COUNTY, OTHER_CITY)
BATCHES = (("NH2014", "2014-01"), ("NH2014", "2014-02"), ("BYT", "B-EARLY"), ("BYT", "B-LATE"))
EXPIRES = {"B-EARLY": EARLY, "B-LATE": LATE}
NUMBERS = ["CK-2026-000001", "CK-2026-000002", "DB-2026-000001", "QS-2026-000001"]
NUMBERS += ["HC-2026-000001", "RK-2026-000001", "RK-2026-000005", "FF-2026-000001"]

places = st.just(CITY) | st.sampled_from(PHYSICAL[:3]) | st.sampled_from(PHYSICAL)
quantities = st.integers(1, 80) | st.integers(1, 700)
keys = st.none() | st.none() | st.sampled_from(["a", "b"])


@st.composite
def lines(draw) -> tuple[c.LineSpec, ...]:
    item, batch = draw(st.sampled_from(BATCHES))
    return (c.LineSpec(item, draw(quantities), draw(st.none() | st.just(batch))),)


@st.composite
def receipts(draw) -> c.Receive:
    item, batch = draw(st.sampled_from(BATCHES))
    line = c.ReceiptLine(item, batch, draw(quantities), expires_on=EXPIRES.get(batch))
    return c.Receive(draw(places), (line,), idempotency_key=draw(keys))


@st.composite
def confirmations(draw) -> c.Confirm:
    number = draw(st.sampled_from(NUMBERS))
    short = draw(st.integers(0, 3))
    if not short:
        return c.Confirm(number)
    item, batch = draw(st.sampled_from(BATCHES))
    shortage = draw(
        st.none() | st.just(c.Shortage("damaged", (c.ShortageLine(item, batch, short),)))
    )
    received = (c.ReceivedLine(item, batch, draw(st.integers(0, 100))),)
    return c.Confirm(number, received, shortage=shortage)


issues = st.builds(c.Issue, places, places, lines(), idempotency_key=keys)
commands = st.one_of(
    receipts(),
    issues,
    issues,
    confirmations(),
    st.builds(c.Distribute, places, lines()),
    st.builds(c.Return, places, lines()),
    st.builds(c.WriteOff, places, lines(), st.sampled_from(["damaged", "expired"])),
    st.builds(
        lambda place, pair, change: c.Adjust(place, (c.AdjustLine(pair[0], pair[1], change),)),
        places,
        st.sampled_from(BATCHES),
        st.integers(1, 300) | st.integers(-300, -1),
    ),
    st.builds(c.Reverse, st.sampled_from(NUMBERS)),
    st.builds(
        lambda reference, place, pair, quantity, named: c.Reserve(
            reference, place, pair[0], quantity, batch_number=pair[1] if named else None
        ),
        st.sampled_from(["SQ-1", "SQ-2"]),
        places,
        st.sampled_from(BATCHES),
        quantities,
        st.booleans(),
    ),
    st.builds(c.Release, st.sampled_from(["SQ-1", "SQ-2"])),
)
steps = st.lists(st.tuples(commands, st.integers(0, 2)), min_size=1, max_size=25)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(drawn=steps)
def test_the_fake_answers_drawn_commands_as_sqlite_does(drawn):
    today = EARLY - dt.timedelta(days=4)  # B-EARLY expires within the sequence, some days
    dated: list[Step] = []
    for command, days in drawn:
        today += dt.timedelta(days=days)
        dated.append((command, today))
    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(copy_sqlite(Path(directory) / "ledger.db"))
        try:
            run_both(Database(engine), dated)
        finally:
            engine.dispose()
