"""The 收发存汇总表 read from the movement totals equals the old computation from the postings
and period closes (tests/reference_summary.py) over random ledgers on both engines — for random
ranges of days (within a month, across months, across the end of the year, before anything was
posted, after the last posting), by location × item and by batch, for a subtree or one item,
with the periods closed or not."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from ledger.db.unit_of_work import Database
from ledger.services import reports
from ledger.services.audit import close_period
from tests import reference_summary
from tests.bound import Ledger
from tests.conftest import ENGINE_KINDS, migrated_engine
from tests.random_ledger import START, RandomLedger

OPTIONS = [
    ("510100", {}),
    ("510100", {"by_batch": True}),
    ("510121", {}),
    ("510121-ZJ", {"by_batch": True}),
    ("510100", {"item_code": "NH2014"}),
    ("510100", {"item_code": "BYT", "by_batch": True}),
]


@pytest.fixture(scope="module", params=ENGINE_KINDS)
def walked(request, tmp_path_factory):
    with migrated_engine(request.param, tmp_path_factory.mktemp("walked")) as engine:
        yield RandomLedger(Ledger(Database(engine)), seed=31).walk(220)


def _ranges(walked: RandomLedger, count: int, seed: int) -> list[tuple[dt.date, dt.date]]:
    rng = random.Random(seed)
    span = (walked.today - START).days + 60
    ranges = [
        (START - dt.timedelta(days=60), walked.today),  # everything
        (dt.date(2025, 12, 1), dt.date(2025, 12, 31)),  # one month
        (dt.date(2025, 1, 1), dt.date(2025, 12, 31)),  # one year
        (START - dt.timedelta(days=90), START - dt.timedelta(days=45)),  # before anything
        (walked.today + dt.timedelta(days=1), walked.today + dt.timedelta(days=40)),  # after
    ]
    for _ in range(count):
        first = START - dt.timedelta(days=40) + dt.timedelta(days=rng.randrange(span))
        ranges.append((first, first + dt.timedelta(days=rng.choice((0, 2, 9, 27, 45, 80)))))
    return ranges


def _compare(database: Database, ranges) -> int:
    """Both computations over every range and option; how many lines they agreed on."""
    lines = 0
    for first, last in ranges:
        for under, options in OPTIONS:
            new, old = database.lookup(
                lambda s, under=under, options=options, first=first, last=last: (
                    reports.period_summary_rows(s, under, first, last, **options),
                    reference_summary.summary_rows(s, under, first, last, **options),
                )
            )
            assert new == old, (under, options, first, last)
            lines += len(new)
    return lines


def test_the_summary_equals_the_old_computation_from_the_postings(walked):
    assert walked.posted > 80
    assert _compare(walked.ledger.database, _ranges(walked, 25, seed=1)) > 500


def test_the_summary_equals_the_old_computation_from_the_closes(walked):
    """Closed at two month ends: the old computation reads the closes, the report does not
    need to, and both agree (and with the figures before the closes)."""
    database = walked.ledger.database
    ranges = _ranges(walked, 15, seed=2)
    before = {
        (first, last): database.lookup(
            lambda s, first=first, last=last: reports.period_summary_rows(s, "510100", first, last)
        )
        for first, last in ranges
    }
    for end in (dt.date(2025, 11, 30), dt.date(2025, 12, 31)):
        database.write(lambda store, end=end: close_period(store, end, None, walked.today))
    assert _compare(database, ranges) > 300
    for first, last in ranges:
        after = database.lookup(
            lambda s, first=first, last=last: reports.period_summary_rows(s, "510100", first, last)
        )
        assert after == before[(first, last)]


def test_every_line_adds_up_and_the_columns_make_the_totals(walked):
    report = walked.ledger.database.lookup(
        lambda s: reports.period_summary(s, "510100", START, walked.today, by_batch=True)
    )
    assert report.rows
    for record in report.records():
        assert record["opening"] + record["total_in"] - record["total_out"] == record["closing"]
        assert record["total_in"] == sum(record[key] for key, _, _ in reports.SUMMARY_IN)
        assert record["total_out"] == sum(record[key] for key, _, _ in reports.SUMMARY_OUT)
