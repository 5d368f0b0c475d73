"""Managing users as an office does: several roles at one location, changes of roles, place and
label as new versions, token resets, revocation, and a city never left without an admin — on
SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import msgspec
import pytest
from sqlalchemy import text

from ledger.db import oplog, versions
from ledger.db.oplog import LogFilter
from ledger.reference import ReferenceKind, user_content
from ledger.rules import Code, LedgerError
from ledger.services import report_stock
from ledger.services.audit import verify_ledger
from ledger.services.audit_log import read_log
from ledger.services.user_changes import UserChange, change_user, reset_token
from ledger.services.users import add_user, authenticate, get_user, revoke_user
from tests.builder import CITY_TEXT, ledger_from_text
from tests.support import refused

OTHER_CITY = """
location 440100 广州市 city
location 440103 荔湾区 county 440100
"""


@pytest.fixture
def office(ledger):
    """成都市 with its admin and a county clerk, 广州市 with its admin, and a global admin."""
    ledger_from_text(ledger, CITY_TEXT + OTHER_CITY)
    database = ledger.database
    root = add_user(database, "省级系统管理员", "admin", None, global_admin=True)[0]
    admin, admin_token = add_user(database, "市系统管理员", "admin", "510100", actor=root.id)
    clerk, clerk_token = add_user(database, "金堂县仓库保管员", "clerk", "510121", actor=admin.id)
    other = add_user(database, "广州市系统管理员", "admin", "440100", actor=root.id)[0]
    users = {"global": root, "admin": admin, "clerk": clerk, "other": other}
    return ledger, users, {"admin": admin_token, "clerk": clerk_token}


def history(ledger, user_id: int) -> list:
    with ledger.database.read() as connection:
        return versions.history(connection, ReferenceKind.user, user_id)


def log(ledger, action: str) -> list:
    return read_log(ledger.database, None, LogFilter(action=action), limit=100)


def codes(report) -> set[tuple[str, str]]:
    return {(finding.code, finding.subject) for finding in report.findings}


def test_a_county_clerk_who_also_approves_holds_both_roles_in_its_first_version(office):
    ledger, users, _ = office
    both, token = add_user(
        ledger.database,
        "金堂县保管员兼审批",
        ("clerk", "approver"),
        "510121",
        actor=users["admin"].id,
    )
    assert (both.role, both.roles) == ("clerk", frozenset({"clerk", "approver"}))
    assert both.has("approver") and both.has("clerk") and not both.has("admin")
    assert authenticate(ledger.database, token) == both
    (first,) = history(ledger, both.id)
    assert msgspec.json.decode(first.content) == {
        "label": "金堂县保管员兼审批",
        "role": "clerk",
        "location": "510121",
        "roles": ["approver", "clerk"],
    }
    # a user with one role is encoded as before several roles existed
    (single,) = history(ledger, users["clerk"].id)
    assert single.content == user_content("金堂县仓库保管员", "clerk", "510121")
    assert '"roles"' not in single.content
    assert verify_ledger(ledger.database).ok
    (entry,) = [e for e in log(ledger, "user.add") if e.object_key == str(both.id)]
    assert entry.after["roles"] == ["approver", "clerk"] and entry.root_code == "510100"


def test_every_role_must_be_allowed_at_the_level(office):
    ledger, users, _ = office
    error = refused(
        Code.role_not_allowed_at_level,
        add_user,
        ledger.database,
        "平水村兼审批",
        ("clerk", "approver"),  # no approver at a village
        "510121-ZJ-PS",
    )
    assert "审批人" in error.message and "平水村" in error.message
    refused(Code.unknown_role, add_user, ledger.database, "x", ("clerk", "boss"), "510121")
    refused(Code.invalid_field, add_user, ledger.database, "x", (), "510121")
    with pytest.raises(LedgerError) as error:
        add_user(ledger.database, "全局兼保管", ("admin", "clerk"), None, global_admin=True)
    assert error.value.code is Code.global_admin_only
    refused(
        Code.role_not_allowed_at_level,
        change_user,
        ledger.database,
        users["clerk"].id,
        UserChange(location_code="510121-ZJ-PS", roles=("clerk", "approver")),
    )


def test_a_change_of_roles_place_or_label_is_a_new_version_logged_with_before_and_after(office):
    ledger, users, _ = office
    clerk, admin = users["clerk"], users["admin"]
    both = change_user(
        ledger.database, clerk.id, UserChange(roles=("approver", "clerk")), actor=admin.id
    )
    assert both.role == "clerk"  # its first role stays first while it keeps it
    assert both.roles == {"clerk", "approver"}
    moved = change_user(
        ledger.database,
        clerk.id,
        UserChange(location_code="510181", label="都江堰市保管员兼审批"),
        actor=admin.id,
    )
    assert (moved.location_code, moved.label, moved.roles) == (
        "510181",
        "都江堰市保管员兼审批",
        frozenset({"clerk", "approver"}),
    )
    only = change_user(ledger.database, clerk.id, UserChange(roles=("approver",)))
    assert (only.role, only.roles) == ("approver", frozenset({"approver"}))
    kept = history(ledger, clerk.id)
    assert [record.version for record in kept] == [1, 2, 3, 4]
    assert kept[1].user_id == admin.id and kept[3].user_id is None  # 命令行
    assert msgspec.json.decode(kept[3].content) == {
        "label": "都江堰市保管员兼审批",
        "role": "approver",
        "location": "510181",
    }
    entries = [e for e in log(ledger, "user.change") if e.object_key == str(clerk.id)]
    assert len(entries) == 3
    newest = entries[0]  # newest first
    assert newest.before["roles"] == ["approver", "clerk"] and newest.before["version"] == 3
    assert "roles" not in newest.after and newest.after["role"] == "approver"
    assert newest.actor == oplog.CLI_ACTOR and newest.root_code == "510100"
    assert verify_ledger(ledger.database).ok
    assert verify_ledger(ledger.database, root_code="510100").ok


def test_a_change_that_changes_nothing_writes_nothing(office):
    ledger, users, _ = office
    clerk = users["clerk"]
    same = change_user(ledger.database, clerk.id, UserChange(roles=("clerk",), label=clerk.label))
    assert same == get_user(ledger.database, clerk.id)
    assert len(history(ledger, clerk.id)) == 1
    assert not log(ledger, "user.change")


def test_user_roles_edited_behind_the_ledgers_back_is_found_and_blocks_a_change(office):
    ledger, users, _ = office
    clerk = users["clerk"]
    with ledger.database.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO user_roles (user_id, role) VALUES (:id, 'approver')"),
            {"id": clerk.id},
        )
    for report in (
        verify_ledger(ledger.database),
        verify_ledger(ledger.database, root_code="510100"),
    ):
        (finding,) = report.findings
        assert (finding.code, finding.subject) == (
            "reference_changed_in_place",
            f"user #{clerk.id}",
        )
        assert finding.expected == user_content("金堂县仓库保管员", "clerk", "510121")
        assert '"roles":["approver","clerk"]' in finding.found
    # a new version would hide it: refused until verify's finding is dealt with
    refused(
        Code.reference_not_as_versioned,
        change_user,
        ledger.database,
        clerk.id,
        UserChange(label="改名"),
    )
    # the other city's verification does not look at 成都市's users
    assert verify_ledger(ledger.database, root_code="440100").ok


def test_a_reset_token_replaces_the_old_one_and_is_logged_without_a_version(office):
    ledger, users, tokens = office
    clerk = users["clerk"]
    user, token = reset_token(ledger.database, clerk.id, actor=users["admin"].id)
    assert token != tokens["clerk"] and token.startswith("lgr_")
    assert authenticate(ledger.database, tokens["clerk"]) is None
    assert authenticate(ledger.database, token) == user == get_user(ledger.database, clerk.id)
    assert len(history(ledger, clerk.id)) == 1
    (entry,) = log(ledger, "user.reset_token")
    assert entry.after == {"token_reset": True} and token not in str(entry)
    with ledger.database.read() as connection:
        stored = repr(connection.execute(text("SELECT * FROM users")).all())
    assert token not in stored
    assert verify_ledger(ledger.database).ok


def test_a_revoked_user_is_not_changed_reset_or_revoked_again(office):
    ledger, users, tokens = office
    clerk = users["clerk"]
    revoked = revoke_user(ledger.database, clerk.id, actor=users["admin"].id)
    assert revoked.revoked and authenticate(ledger.database, tokens["clerk"]) is None
    refused(Code.user_revoked, change_user, ledger.database, clerk.id, UserChange(label="x"))
    refused(Code.user_revoked, reset_token, ledger.database, clerk.id)
    refused(Code.user_revoked, revoke_user, ledger.database, clerk.id)
    refused(Code.unknown_user, revoke_user, ledger.database, 987_654)
    refused(Code.unknown_user, change_user, ledger.database, 987_654, UserChange(label="x"))
    refused(Code.unknown_user, reset_token, ledger.database, 987_654)


def test_a_city_is_never_left_without_an_active_admin(office):
    ledger, users, _ = office
    admin = users["admin"]
    database = ledger.database
    refused(Code.last_admin, revoke_user, database, admin.id, admin.id)
    error = refused(
        Code.last_admin, change_user, database, admin.id, UserChange(roles=("clerk",)), admin.id
    )
    assert "成都市" in error.message
    refused(Code.last_admin, change_user, database, admin.id, UserChange(location_code="440103"))
    # admin at a county of its city is still the city's admin: allowed
    change_user(database, admin.id, UserChange(location_code="510121", roles=("admin", "clerk")))
    # a revoked admin does not count
    second = add_user(database, "副管理员", "admin", "510100")[0]
    revoke_user(database, second.id)
    refused(Code.last_admin, revoke_user, database, admin.id)
    # with a second active admin either may go, and then the other is the last
    third = add_user(database, "市系统管理员二", ("clerk", "admin"), "510181")[0]
    change_user(database, admin.id, UserChange(roles=("clerk",)))
    refused(Code.last_admin, revoke_user, database, third.id)
    refused(Code.last_admin, change_user, database, third.id, UserChange(roles=("clerk",)))
    # each city keeps its own last admin; a global admin belongs to no city
    refused(Code.last_admin, revoke_user, database, users["other"].id)
    assert revoke_user(database, users["global"].id).revoked
    assert verify_ledger(database).ok


def test_two_admins_revoking_each_other_at_once_leave_one(office):
    ledger, users, _ = office
    database = ledger.database
    first = users["admin"]
    second = add_user(database, "市系统管理员二", "admin", "510100")[0]
    barrier = threading.Barrier(2, timeout=30)
    outcomes: dict[int, str] = {}

    def revoke(target: int, actor: int) -> None:
        barrier.wait()
        try:
            revoke_user(database, target, actor=actor)
            outcomes[target] = "revoked"
        except LedgerError as error:
            outcomes[target] = error.code.value

    threads = [
        threading.Thread(target=revoke, args=(first.id, second.id)),
        threading.Thread(target=revoke, args=(second.id, first.id)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["last_admin", "revoked"]
    active = [u for u in (first, second) if not get_user(database, u.id).revoked]
    assert len(active) == 1


def test_a_global_admin_stays_a_global_admin(office):
    ledger, users, _ = office
    root = users["global"]
    refused(
        Code.global_admin_only,
        change_user,
        ledger.database,
        root.id,
        UserChange(roles=("admin", "clerk")),
    )
    refused(
        Code.global_admin_only,
        change_user,
        ledger.database,
        root.id,
        UserChange(location_code="510100"),
    )
    renamed = change_user(ledger.database, root.id, UserChange(label="省级系统管理员（新）"))
    assert renamed.is_global and renamed.label == "省级系统管理员（新）"
    (entry,) = log(ledger, "user.change")
    assert entry.root_code is None and entry.after["global"] is True
    assert verify_ledger(ledger.database).ok


def test_a_refusal_by_the_callers_check_comes_before_anything_is_said_about_the_user(office):
    """The API's check (a city's admin manages its own city) runs first: a revoked user of
    another city is refused by it, not with user_revoked."""
    ledger, users, _ = office
    other = add_user(ledger.database, "荔湾区保管员", "clerk", "440103")[0]
    revoke_user(ledger.database, other.id)

    class NotYours(Exception):
        pass

    def only_chengdu(user, moves_to=None):
        if not user.location_path.startswith("/510100/") or (
            moves_to is not None and not moves_to.startswith("/510100/")
        ):
            raise NotYours

    for call in (
        lambda: revoke_user(ledger.database, other.id, authorize=only_chengdu),
        lambda: reset_token(ledger.database, other.id, authorize=only_chengdu),
        lambda: change_user(ledger.database, other.id, UserChange(label="x"), None, only_chengdu),
        lambda: change_user(
            ledger.database,
            users["clerk"].id,
            UserChange(location_code="440103"),
            None,
            only_chengdu,
        ),
    ):
        with pytest.raises(NotYours):
            call()
    assert get_user(ledger.database, users["clerk"].id).location_code == "510121"


def test_a_relabelled_user_keeps_its_old_name_on_the_vouchers_it_made_before(office):
    """A voucher names its maker by the label in force on the voucher's day: relabelling a
    post later (its version valid from the office's today) does not rename old vouchers."""
    from ledger import commands as c

    ledger, users, _ = office
    clerk = users["clerk"]
    made = ledger.execute(
        c.Receive("510121", (c.ReceiptLine("NH2014", "2014-01", 10),), ledger.clock()),
        clerk.id,
    )
    change_user(ledger.database, clerk.id, UserChange(label="金堂县仓库保管员（新岗）"))
    with ledger.database.read() as connection:
        valid_from = versions.history(connection, ReferenceKind.user, clerk.id)[-1].valid_from
    assert valid_from > made.occurred_on  # the new label is in force from today

    again = ledger.database.lookup(lambda store: store.transaction_by_number(made.number))
    assert again.maker == "金堂县仓库保管员"
    card = ledger.database.lookup(
        lambda store: report_stock.stock_card(
            store, "510121", "NH2014", "2014-01", made.occurred_on, made.occurred_on
        )
    )
    assert [r["maker"] for r in card.records() if r.get("number") == made.number] == [
        "金堂县仓库保管员"
    ]
    # a voucher dated on or after the new version's day names the new label
    later = ledger.database.lookup(lambda store: store.user_label(clerk.id, on=valid_from))
    assert later == "金堂县仓库保管员（新岗）"
