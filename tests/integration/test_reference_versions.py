"""Reference data changes only by dated versions: version 1 at creation, each change the next
version with an operations-log entry, the process's cache updated after commit, other
processes within `catalog_check_seconds`; what would make history wrong is refused."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest
from sqlalchemy import text

from ledger import commands as c
from ledger.db import balance_queries, oplog
from ledger.db import catalog as store_module
from ledger.db.bulk import BulkLoader
from ledger.db.unit_of_work import Database
from ledger.model import Item, ItemKind, Location, LocationLevel, Pack
from ledger.reference import ReferenceKind
from ledger.rules import Code
from ledger.services import reference
from ledger.services.audit import verify_ledger
from ledger.services.reference_models import BatchChange, ItemChange, LocationChange
from tests.bound import Ledger
from tests.builder import CITY_TEXT, ledger_from_text
from tests.conftest import TODAY
from tests.support import refused


@pytest.fixture
def city(ledger):
    ledger_from_text(
        ledger,
        CITY_TEXT
        + """
location 510121-BL 白果镇 township 510121
location 510181-QCS 青城山镇 township 510181
location 510181-QCS-1 青城村 village 510181-QCS
receipt 510100 BYT B1 3000 expires 2027-01-31 on 2026-05-02
receipt 510100 NH2014 2014-01 10000 on 2026-05-02
""",
    )
    shipment = ledger.issue(
        c.Issue(
            "510100",
            "510121",
            (c.LineSpec("BYT", 300, "B1"), c.LineSpec("NH2014", 1000)),
            dt.date(2026, 6, 10),
        )
    )
    ledger.confirm(c.Confirm(shipment.number, occurred_on=dt.date(2026, 6, 11)))
    down = ledger.issue(
        c.Issue("510121", "510121-ZJ", (c.LineSpec("NH2014", 100),), dt.date(2026, 6, 12))
    )
    ledger.confirm(c.Confirm(down.number, occurred_on=dt.date(2026, 6, 12)))
    return ledger


def change(ledger, kind, code, what, number=None, user_id=None):
    return reference.change(ledger.database, kind, code, what, user_id, TODAY, number)


def history(ledger, kind, code, number=None):
    return reference.history(ledger.database, kind, code, number)


def log(ledger, object_type):
    with ledger.database.read() as connection:
        return oplog.read(
            connection,
            root_id=None,
            everything=True,
            wanted=oplog.LogFilter(object_type=object_type),
        )


def test_every_created_item_location_and_batch_has_its_first_version(city):
    (item,) = history(city, ReferenceKind.item, "BYT")
    assert item.version == 1 and item.content["packs"] == [["盒", 3], ["箱", 720]]
    (location,) = history(city, ReferenceKind.location, "510121-ZJ")
    assert location.content == {"level": "township", "name": "赵家镇", "parent": "510121"}
    (batch,) = history(city, ReferenceKind.batch, "BYT", "B1")
    assert batch.content == {"expires_on": "2027-01-31", "produced_on": None}
    assert verify_ledger(city.database).ok


def test_the_bulk_loader_versions_the_batches_it_creates(database):
    ledger_from_text(Ledger(database, lambda: TODAY), CITY_TEXT)
    loader = BulkLoader(database)
    loader.add(
        [
            c.Receive(
                "510100",
                (c.ReceiptLine("BYT", "BULK-1", 60, expires_on=dt.date(2027, 3, 1)),),
                dt.date(2026, 5, 3),
            )
        ]
    )
    loader.finish()
    assert history_of(database, "BYT", "BULK-1")[0].content["expires_on"] == "2027-03-01"
    assert verify_ledger(database).ok


def history_of(database, code, number):
    return reference.history(database, ReferenceKind.batch, code, number)


def test_an_expiry_correction_is_a_new_version_logged_and_seen_at_once(city):
    version = change(
        city,
        ReferenceKind.batch,
        "BYT",
        BatchChange("厂家更正批号有效期", expires_on=dt.date(2026, 12, 31)),
        "B1",
    )
    assert (version.version, version.valid_from) == (2, TODAY)
    assert version.content == {"expires_on": "2026-12-31", "produced_on": None}
    assert [v.version for v in history(city, ReferenceKind.batch, "BYT", "B1")] == [1, 2]
    # the process's cache has the new value at once (the read below is served from it)
    seen = city.database.lookup(lambda store: store.batch(store.item("BYT"), "B1").batch)
    assert seen.expires_on == dt.date(2026, 12, 31)
    (entry,) = log(city, "batch")
    assert (entry.action, entry.object_key) == ("batch.change", "BYT/B1")
    assert entry.before == {"version": 1, "expires_on": "2027-01-31", "produced_on": None}
    assert (
        entry.after["expires_on"] == "2026-12-31" and entry.after["reason"] == "厂家更正批号有效期"
    )
    report = verify_ledger(city.database)
    assert report.ok, report.findings


def test_an_expiry_cannot_move_before_an_issue_already_recorded(city):
    error = refused(
        Code.expiry_before_movements,
        change,
        city,
        ReferenceKind.batch,
        "BYT",
        BatchChange("更正", expires_on=dt.date(2026, 6, 1)),
        "B1",
    )
    assert "CK-2026-000001" in error.message and "2026-06-10" in error.message
    assert len(history(city, ReferenceKind.batch, "BYT", "B1")) == 1
    assert not log(city, "batch")


def test_what_a_change_may_not_do(city):
    refused(
        Code.reference_unchanged,
        change,
        city,
        ReferenceKind.batch,
        "BYT",
        BatchChange("无", expires_on=dt.date(2027, 1, 31)),
        "B1",
    )
    refused(
        Code.batch_expiry_required,
        change,
        city,
        ReferenceKind.batch,
        "BYT",
        BatchChange("清空", expires_on=None),
        "B1",
    )
    refused(
        Code.date_in_future,
        change,
        city,
        ReferenceKind.location,
        "510121",
        LocationChange("改名", name="金堂县（新）", valid_from=TODAY + dt.timedelta(days=1)),
    )
    refused(
        Code.invalid_field,
        change,
        city,
        ReferenceKind.location,
        "510121",
        LocationChange("", name="金堂"),
    )
    refused(
        Code.date_range_invalid,
        change,
        city,
        ReferenceKind.batch,
        "BYT",
        BatchChange("日期颠倒", produced_on=dt.date(2027, 6, 1)),
        "B1",
    )
    assert verify_ledger(city.database).ok


def test_renaming_a_location(city):
    version = change(
        city, ReferenceKind.location, "510121-ZJ", LocationChange("撤乡并镇更名", name="赵家街道")
    )
    assert version.content["name"] == "赵家街道"
    named = city.database.lookup(lambda store: store.location("510121-ZJ").location.name)
    assert named == "赵家街道"
    (entry,) = log(city, "location")[:1]
    assert entry.action == "location.change" and entry.root_code == "510100"
    assert verify_ledger(city.database).ok


def test_moving_a_township_moves_its_subtree_and_its_stock_rolls_up_under_the_new_county(city):
    before = city.database.lookup(lambda store: store.location("510121-ZJ-PS").path)
    assert before == "/510100/510121/510121-ZJ/510121-ZJ-PS/"
    change(
        city,
        ReferenceKind.location,
        "510121-ZJ",
        LocationChange("行政区划调整", parent_code="510181"),
    )
    moved = city.database.lookup(
        lambda store: (store.location("510121-ZJ"), store.location("510121-ZJ-PS"))
    )
    assert moved[0].location.parent_code == "510181"
    assert moved[0].path == "/510100/510181/510121-ZJ/"
    assert moved[1].path == "/510100/510181/510121-ZJ/510121-ZJ-PS/"
    with city.database.read() as connection:
        stored = dict(connection.execute(text("SELECT code, path FROM locations")).all())
        under = {
            line.location_code
            for line in balance_queries.balances(
                connection, item_code="NH2014", under_path="/510100/510181/"
            )
            if line.on_hand
        }
    assert stored["510121-ZJ-PS"] == "/510100/510181/510121-ZJ/510121-ZJ-PS/"
    assert stored["510121-BL"] == "/510100/510121/510121-BL/"  # a sibling stays
    assert "510121-ZJ" in under
    report = verify_ledger(city.database)
    assert report.ok, report.findings


def test_a_move_keeps_the_level_and_the_city(city):
    refused(
        Code.location_level,
        change,
        city,
        ReferenceKind.location,
        "510121-ZJ",
        LocationChange("错级", parent_code="510181-QCS"),
    )
    refused(
        Code.location_level,
        change,
        city,
        ReferenceKind.location,
        "510100",
        LocationChange("市不能有上级", parent_code="510121"),
    )
    city.add_location(Location("510200", "样例邻市", LocationLevel.city))
    city.add_location(Location("510201", "样例邻县", LocationLevel.county, "510200"))
    for parent in ("510201", "510200"):  # of the right level or not, nothing of it is named
        error = refused(
            Code.location_move_across_roots,
            change,
            city,
            ReferenceKind.location,
            "510121-ZJ",
            LocationChange("跨市", parent_code=parent),
        )
        assert "样例邻" not in error.message
        assert "510201" not in error.message


def test_an_items_name_and_packs_change_but_not_its_base_unit_once_used(city):
    version = change(
        city,
        ReferenceKind.item,
        "BYT",
        ItemChange(
            "包装规格变更", name="避孕套（新包装）", packs=(Pack("盒", 10), Pack("箱", 1000))
        ),
    )
    assert version.content["packs"] == [["盒", 10], ["箱", 1000]]
    item = city.database.lookup(lambda store: store.item("BYT").item)
    assert item.name == "避孕套（新包装）" and item.pack("盒").base_units == 10
    refused(
        Code.base_unit_in_use,
        change,
        city,
        ReferenceKind.item,
        "BYT",
        ItemChange("改单位", base_unit="个"),
    )
    city.add_item(Item("NEW1", "新品", ItemKind.printed, "叠页", "张"))
    fresh = change(city, ReferenceKind.item, "NEW1", ItemChange("录错单位", base_unit="份"))
    assert fresh.content["base_unit"] == "份" and fresh.version == 2
    report = verify_ledger(city.database)
    assert report.ok, report.findings


def test_a_row_changed_outside_the_ledger_is_found_and_blocks_further_versions(city):
    with city.database.engine.begin() as connection:
        connection.execute(
            text("UPDATE batches SET expires_on = :day WHERE number = 'B1'"),
            {"day": dt.date(2030, 1, 1)},
        )
    city.database.catalog.clear()
    (finding,) = verify_ledger(city.database).findings
    assert (finding.code, finding.subject) == ("reference_changed_in_place", "batch BYT/B1")
    assert "2027-01-31" in finding.expected and "2030-01-01" in finding.found
    refused(
        Code.reference_not_as_versioned,
        change,
        city,
        ReferenceKind.batch,
        "BYT",
        BatchChange("掩盖", expires_on=dt.date(2031, 1, 1)),
        "B1",
    )


def test_another_process_sees_a_change_within_the_check_interval(city, monkeypatch):
    other = Database(city.database.engine)  # a second worker's cache of the same database

    def expiry(database):
        return database.lookup(lambda store: store.batch(store.item("BYT"), "B1").batch.expires_on)

    assert expiry(other) == dt.date(2027, 1, 31)
    change(
        city,
        ReferenceKind.batch,
        "BYT",
        BatchChange("更正", expires_on=dt.date(2026, 12, 31)),
        "B1",
    )
    assert expiry(other) == dt.date(2027, 1, 31)  # still cached: within the interval
    monkeypatch.setattr(store_module, "catalog_check_seconds", 0.0)
    other.catalog.next_check = 0.0
    assert expiry(other) == dt.date(2026, 12, 31)


def test_changes_are_json_for_the_api(city):
    version = change(
        city, ReferenceKind.location, "510121", LocationChange("更名", name="金堂县人口计生局仓库")
    )
    decoded = msgspec.json.decode(msgspec.json.encode(version))
    assert decoded["object_type"] == "location" and decoded["user"] == "命令行"
