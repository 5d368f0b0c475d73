"""The 收发存汇总表 is the same whether the periods are closed or not, and equals the old
computation (tests/reference_summary.py) that read period closes and postings.

The same demo ledger is loaded twice on each engine; one copy is closed at several month ends.
Every report over closed periods, across them, between them and before them must come out the
same on both copies, by location × item and by batch, rolled up or not, for one item or all,
and equal what the old computation made of each copy (from the closes on the closed one)."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger.db import closes, report_queries
from ledger.db.unit_of_work import Database
from ledger.services import reports
from ledger.services.audit import close_period
from ledger.services.demo import load_demo
from tests import reference_summary
from tests.bound import Ledger
from tests.conftest import TODAY, PostgresSchema, migrated_sqlite_engine

DAY = dt.timedelta(days=1)
OUT = 100
COLUMNS = {  # incoming and outgoing, transaction kind -> a number (its column)
    True: {kind: index for index, (_, _, kind) in enumerate(reports.SUMMARY_IN)},
    False: {
        kind: OUT + index
        for index, (_, _, kinds) in enumerate(reports.SUMMARY_OUT)
        for kind in kinds.split()
    },
}
CLOSES = [dt.date(2026, 3, 31), dt.date(2026, 4, 30), dt.date(2026, 5, 31)]
FIRST = TODAY - 120 * DAY  # the demo's first day
RANGES = [
    (FIRST, TODAY),  # everything
    (CLOSES[0] + DAY, CLOSES[1]),  # exactly one closed month
    (CLOSES[0] + DAY, CLOSES[2]),  # two closed months
    (FIRST - 30 * DAY, CLOSES[0]),  # from before the first posting to a close
    (dt.date(2026, 4, 10), dt.date(2026, 5, 20)),  # inside closed periods, off the closes
    (dt.date(2026, 3, 5), dt.date(2026, 4, 28)),  # nearer the next close than the last
    (dt.date(2026, 5, 15), TODAY),  # past the last close
    (dt.date(2026, 6, 1), dt.date(2026, 6, 1)),  # one day after the last close
    (FIRST - 60 * DAY, FIRST - 10 * DAY),  # before anything was posted
]


def _ledger(engine) -> Ledger:
    ledger = Ledger(Database(engine), clock=lambda: TODAY)
    load_demo(ledger.database, ledger.clock())
    return ledger


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def twins(request, tmp_path_factory):
    """(the demo without closes, the demo closed at CLOSES)."""
    if request.param == "sqlite":
        engines = [
            migrated_sqlite_engine(tmp_path_factory.mktemp(name)) for name in ("plain", "closed")
        ]
        schemas = []
    else:
        schemas = [PostgresSchema(migrated=True), PostgresSchema(migrated=True)]
        engines = [schema.engine() for schema in schemas]
    try:
        plain, closed = (_ledger(engine) for engine in engines)
        for end in CLOSES:
            closed.database.write(lambda store, end=end: close_period(store, end, None, TODAY))
        yield plain, closed
    finally:
        for engine in engines:
            engine.dispose()
        for schema in schemas:
            schema.drop()


def _both(twins, work):
    return [ledger.database.lookup(work) for ledger in twins]


@pytest.mark.parametrize("date_from, date_to", RANGES, ids=lambda d: str(d))
@pytest.mark.parametrize(
    "under, options",
    [
        ("510100", {}),
        ("510100", {"by_batch": True}),
        ("510121", {"rollup": False}),
        ("510100", {"item_code": "NH2014", "by_batch": True}),
    ],
    ids=["city", "city-by-batch", "county-flat", "one-item"],
)
def test_the_summary_is_the_same_closed_or_not_and_equals_the_old_computation(
    twins, under, options, date_from, date_to
):
    """The report reads the movement totals, closed or not; the old computation read the
    nearest close's kept movements and the postings between (closed copy), or as-of balances
    and the postings (plain copy)."""
    plain, closed = _both(
        twins, lambda s: reports.period_summary(s, under, date_from, date_to, **options)
    )
    assert closed.rows == plain.rows
    if date_to >= FIRST:
        assert plain.rows  # the range holds something to compare
    rows_options = {key: value for key, value in options.items() if key != "rollup"}
    for ledger in twins:
        new, old = ledger.database.lookup(
            lambda s: (
                reports.period_summary_rows(s, under, date_from, date_to, **rows_options),
                reference_summary.summary_rows(s, under, date_from, date_to, **rows_options),
            )
        )
        assert new == old


def test_the_write_off_rate_agrees_too(twins):
    plain, closed = _both(
        twins, lambda s: reports.write_off_rate(s, "510100", CLOSES[0] + DAY, CLOSES[2])
    )
    assert closed.rows == plain.rows and plain.rows


def test_a_close_keeps_each_kind_in_and_out_up_to_its_last_day(twins):
    """The kept totals are the postings dated up to the close, whatever was posted later."""
    _, closed = twins
    plain_summary = twins[0].database.lookup(
        lambda s: reports.period_summary_rows(s, "510100", FIRST - DAY, CLOSES[1], by_batch=True)
    )
    with closed.database.read() as connection:
        close = next(c for c in closes.closes(connection) if c.period_end == CLOSES[1])
        kept = report_queries.close_movements(connection, close.id, "/510100/", COLUMNS)
    net: dict = {}
    for *account, column, quantity in kept:
        assert column != report_queries.UNMAPPED
        incoming = column < OUT
        net[tuple(account)] = net.get(tuple(account), 0) + (quantity if incoming else -quantity)
    assert net == {
        key: figures["closing"]
        for key, figures in plain_summary.items()
        if figures["total_in"] or figures["total_out"]
    }
