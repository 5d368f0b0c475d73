"""Users are versioned reference data: the label, role and location a voucher's people are named
by get version 1 when the user is added, and `verify` names a user changed in place, a user
without a version, and a transaction naming a user that does not exist — on SQLite and
PostgreSQL, both from genesis and since a close."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest
from sqlalchemy import text

from ledger import commands as c
from ledger.chain import canonical_encoding, chain_hash
from ledger.db import journal_queries, versions
from ledger.db.guards import drop_guards
from ledger.reference import ReferenceKind, user_content
from ledger.services.audit import close_period, verify_ledger
from ledger.services.users import add_user, revoke_user
from ledger.settings import office_today
from tests.builder import CITY_TEXT, ledger_from_text
from tests.conftest import TODAY

OTHER_CITY = """
location 440100 广州市 city
location 440103 荔湾区 county 440100
"""


@pytest.fixture
def staffed(ledger):
    """A city with a global admin, a clerk who issued in May, May closed, and June's voucher
    made by a clerk of the county; a second city with its own clerk."""
    ledger_from_text(
        ledger, CITY_TEXT + OTHER_CITY + "receipt 510100 NH2014 2014-01 10000 on 2026-05-02\n"
    )
    admin = add_user(ledger.database, "省级管理员", "admin", None, global_admin=True)[0]
    clerk = add_user(ledger.database, "市仓库保管员", "clerk", "510100", actor=admin.id)[0]
    county = add_user(ledger.database, "金堂县仓库保管员", "clerk", "510121", actor=admin.id)[0]
    other = add_user(ledger.database, "荔湾区仓库保管员", "clerk", "440103", actor=admin.id)[0]
    may = ledger.execute(
        c.Issue("510100", "510121", (c.LineSpec("NH2014", 1000),), dt.date(2026, 5, 10)),
        clerk.id,
    )
    ledger.execute(c.Confirm(may.number, occurred_on=dt.date(2026, 5, 12)), county.id)
    ledger.database.write(
        lambda store: close_period(store, dt.date(2026, 5, 31), admin.id, TODAY, "510100")
    )
    ledger.execute(
        c.Distribute("510121", (c.LineSpec("NH2014", 30),), dt.date(2026, 6, 6)), county.id
    )
    users = {"admin": admin, "clerk": clerk, "county": county, "other": other}
    return ledger, users


def sql(ledger, statement, **params):
    with ledger.database.engine.begin() as connection:
        connection.execute(text(statement), params)
    ledger.database.catalog.clear()


def tamper(ledger, statement, **params):
    with ledger.database.engine.begin() as connection:
        drop_guards(connection)
    sql(ledger, statement, **params)


def both_ways(ledger):
    return (
        verify_ledger(ledger.database, root_code="510100"),
        verify_ledger(ledger.database, since_close=True, root_code="510100"),
    )


def findings(report):
    return {(f.code, f.subject) for f in report.findings}


def test_every_user_gets_version_1_when_added_and_a_clean_ledger_verifies(staffed):
    ledger, users = staffed
    with ledger.database.engine.connect() as connection:
        for name, location in (
            ("admin", "supplier"),  # a global admin is kept at a virtual location
            ("clerk", "510100"),
            ("county", "510121"),
            ("other", "440103"),
        ):
            user = users[name]
            (record,) = versions.history(connection, ReferenceKind.user, user.id)
            assert record.version == 1
            assert record.valid_from == office_today()
            assert record.user_id == (None if name == "admin" else users["admin"].id)
            assert msgspec.json.decode(record.content) == {
                "label": user.label,
                "role": user.role,
                "location": location,
            }
    assert verify_ledger(ledger.database).ok
    assert all(report.ok for report in both_ways(ledger))
    # revocation is a state (logged), not a version: a revoked user still verifies clean
    revoke_user(ledger.database, users["other"].id, actor=users["admin"].id)
    assert verify_ledger(ledger.database).ok


def test_a_user_relabelled_in_place_is_named_both_ways(staffed):
    ledger, users = staffed
    county = users["county"]
    tamper(ledger, "UPDATE users SET label = '别人' WHERE id = :id", id=county.id)
    for report in (verify_ledger(ledger.database), *both_ways(ledger)):
        (finding,) = report.findings
        assert (finding.code, finding.subject) == (
            "reference_changed_in_place",
            f"user #{county.id}",
        )
        assert finding.invariant == 5
        assert finding.expected == user_content("金堂县仓库保管员", "clerk", "510121")
        assert finding.found == user_content("别人", "clerk", "510121")


def test_a_users_role_or_location_changed_in_place_is_named(staffed):
    ledger, users = staffed
    clerk, county = users["clerk"], users["county"]
    tamper(ledger, "UPDATE users SET role = 'admin' WHERE id = :id", id=clerk.id)
    sql(
        ledger,
        "UPDATE users SET location_id = (SELECT id FROM locations WHERE code = '510181') "
        "WHERE id = :id",
        id=county.id,
    )
    report = verify_ledger(ledger.database)
    assert findings(report) == {
        ("reference_changed_in_place", f"user #{clerk.id}"),
        ("reference_changed_in_place", f"user #{county.id}"),
    }
    moved = next(f for f in report.findings if f.subject == f"user #{county.id}")
    assert '"location":"510121"' in moved.expected and '"location":"510181"' in moved.found


def test_a_user_without_a_version_is_named_and_other_cities_users_stay_theirs(staffed):
    ledger, users = staffed
    other, admin = users["other"], users["admin"]
    tamper(
        ledger,
        "DELETE FROM reference_versions WHERE object_type = 'user' AND object_id IN (:a, :b)",
        a=other.id,
        b=admin.id,
    )
    expected = {
        ("reference_unversioned", f"user #{other.id}"),
        ("reference_unversioned", f"user #{admin.id}"),
    }
    assert findings(verify_ledger(ledger.database)) == expected
    # A global admin belongs to every city's verification; a city's user to its own only.
    assert findings(verify_ledger(ledger.database, root_code="440100")) == expected
    for report in both_ways(ledger):
        assert findings(report) == {("reference_unversioned", f"user #{admin.id}")}


def test_a_user_inserted_outside_the_ledger_is_named(staffed):
    ledger, _ = staffed
    tamper(
        ledger,
        "INSERT INTO users (label, role, location_id, token_hash, created_at) "
        "SELECT '暗设用户', 'admin', id, :hash, :now FROM locations WHERE code = '510100'",
        hash="f" * 64,
        now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
    )
    with ledger.database.engine.connect() as connection:
        intruder = connection.execute(text("SELECT MAX(id) FROM users")).scalar()
    for report in both_ways(ledger):
        assert findings(report) == {("reference_unversioned", f"user #{intruder}")}


def rehash_last(ledger, **people) -> str:
    """Rewrite the last transaction's people and recompute its hash (and the chain head) as an
    intruder who knows the encoding would: only a check of the people themselves can find it."""
    with ledger.database.engine.connect() as connection:
        *_, last = journal_queries.stored_transactions(connection)
    maker = people.get("maker_id", last.maker_id)
    approver = people.get("approver_id", last.approver_id)
    receiver = people.get("receiver_id", last.receiver_id)
    encoding = canonical_encoding(
        last.sequence,
        last.number,
        last.kind,
        last.occurred_on,
        last.location_code,
        last.counterparty_code,
        last.reverses_sequence,
        last.shipment_sequence,
        last.reason,
        last.memo,
        [(p.location_code, p.item_code, p.batch_number, p.quantity) for p in last.postings],
        last.chain_version,
        (maker, approver, receiver),
    )
    forged = chain_hash(last.previous_hash, encoding)
    tamper(
        ledger,
        "UPDATE transactions SET maker_id = :maker, approver_id = :approver, "
        "receiver_id = :receiver, hash = :hash WHERE id = :id",
        maker=maker,
        approver=approver,
        receiver=receiver,
        hash=forged,
        id=last.sequence,
    )
    sql(ledger, "UPDATE chain_head SET hash = :hash", hash=forged)
    return last.number


def test_a_transaction_naming_no_user_is_named_even_with_its_hash_recomputed(staffed):
    ledger, users = staffed
    number = rehash_last(ledger, maker_id=987_654, approver_id=users["clerk"].id)
    for report in (verify_ledger(ledger.database), *both_ways(ledger)):
        (finding,) = report.findings
        assert (finding.invariant, finding.code) == (5, "unknown_user")
        assert finding.subject.startswith(f"transaction {number} ")
        assert finding.found == "maker_id 987654"


def test_a_removed_user_leaves_its_vouchers_naming_no_user(staffed):
    ledger, users = staffed
    county = users["county"]
    tamper(ledger, "DELETE FROM operations_log WHERE user_id = :id", id=county.id)
    sql(
        ledger,
        "DELETE FROM reference_versions WHERE object_type = 'user' AND object_id = :id",
        id=county.id,
    )
    sql(ledger, "DELETE FROM users WHERE id = :id", id=county.id)
    report = verify_ledger(ledger.database)
    codes = [(f.code, f.found) for f in report.findings]
    # the confirmation (receiver and maker) and the distribution (maker) name the county clerk
    assert sorted(codes) == sorted(
        [
            ("unknown_user", f"maker_id {county.id}"),
            ("unknown_user", f"receiver_id {county.id}"),
            ("unknown_user", f"maker_id {county.id}"),
        ]
    )
