"""The same file imported several times at once, without an Idempotency-Key (a double-click, a
retried upload): one import writes, the others plan on what it committed and change nothing —
never a refusal telling the clerk to reverse a correct opening. On SQLite the writers queue on
BEGIN IMMEDIATE; on PostgreSQL on the imports' advisory lock (ledger.db.import_lock)."""

from __future__ import annotations

import datetime as dt

from ledger.services.imports import import_upload
from tests.builder import CITY_TEXT, ledger_from_text
from tests.conftest import TODAY
from tests.integration.test_concurrency import race, racing_ledger  # noqa: F401  (the fixture)

OPENING = (
    "库点编码,物资编码,批号,有效期至,数量,单位\n"
    "510100,NH2014,2014-01,,4,捆\n"
    "510121,NH2014,2014-01,,1500,\n"
    "510121,BYT,B1,2027-06-30,12,盒\n"
).encode()
LOCATIONS = "编码,名称,上级编码,级别\n510121-ZJ-HH,红花村,510121-ZJ,村\n".encode()
COPIES = 8


def test_the_same_file_sent_at_once_is_imported_once(racing_ledger):  # noqa: F811
    ledger_from_text(racing_ledger, CITY_TEXT)
    database = racing_ledger.database

    def send(kind: str, name: str, data: bytes):
        as_of = dt.date(2026, 1, 1) if kind == "opening-balances" else None
        return lambda: import_upload(database, kind, name, data, None, None, lambda: TODAY, as_of)

    openings = race([send("opening-balances", "期初.csv", OPENING) for _ in range(COPIES)])
    assert not [r for r in openings if isinstance(r, Exception)], openings
    assert sorted(len(r.posted) for r in openings) == [0] * (COPIES - 1) + [2]
    assert sorted(r.skipped for r in openings) == [[]] + [["510100", "510121"]] * (COPIES - 1)

    places = race([send("locations", "库点.csv", LOCATIONS) for _ in range(COPIES)])
    assert not [r for r in places if isinstance(r, Exception)], places
    assert sorted(r.added for r in places) == [[]] * (COPIES - 1) + [["510121-ZJ-HH"]]
