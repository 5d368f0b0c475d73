"""Who did it: every voucher names its maker (and approver / receiver where the flow has them),
hashed with it from chain version 2 on; everything else a user does is in the operations log,
which the database keeps append-only."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger import commands as c
from ledger.chain import GENESIS_HASH, canonical_encoding, chain_hash
from ledger.db import journal_queries, oplog
from ledger.db.engine import alembic_config
from ledger.db.guards import drop_guards
from ledger.services import report_audit
from ledger.services.audit import verify_ledger
from ledger.services.request_models import Approve, CreateRequest, RequestLineIn, Ship, ShipLine
from ledger.services.stocktake_models import ApproveStocktake, CountLine, EnterCounts, OpenStocktake
from ledger.services.users import add_user, revoke_user
from tests.bound import Requests, Stocktakes
from tests.builder import ledger_from_text

CITY = """
location 510100 成都市 city
location 510121 金堂县 county 510100
location 510121-ZJ 赵家镇 township 510121
item NH2014 年画 printed 张 捆=500
receipt 510100 NH2014 2014-01 10000 on 2026-05-01
"""


def sql(ledger, statement, **params):
    with ledger.database.engine.begin() as connection:
        return connection.execute(text(statement), params)


def log_entries(ledger, **filters):
    with ledger.database.engine.connect() as connection:
        return oplog.read(
            connection,
            root_id=None,
            everything=True,
            wanted=oplog.LogFilter(**filters),
            limit=200,
        )


@pytest.fixture
def city(ledger):
    ledger_from_text(ledger, CITY)
    users = {
        role: add_user(ledger.database, label, role, location)[0]
        for role, label, location in (
            ("clerk", "金堂县仓库保管员", "510121"),
            ("approver", "金堂县审批岗", "510121"),
            ("requester", "赵家镇计生办", "510121-ZJ"),
            ("auditor", "市审计岗", "510100"),
        )
    }
    city_clerk = add_user(ledger.database, "市仓库保管员", "clerk", "510100")[0]
    ledger.execute(c.Issue("510100", "510121", (c.LineSpec("NH2014", 3000),)), city_clerk.id)
    return ledger, users


def test_a_voucher_names_its_maker_and_the_maker_is_hashed(city):
    ledger, users = city
    clerk = users["clerk"]
    shipment = ledger.database.lookup(lambda s: s.transaction_by_number("CK-2026-000001"))
    ledger.execute(c.Confirm(shipment.number), clerk.id)
    made = ledger.execute(
        c.Distribute("510121", (c.LineSpec("NH2014", 100),), memo="5.29 宣传日"), clerk.id
    )
    assert (made.chain_version, made.maker_id, made.maker) == (2, clerk.id, "金堂县仓库保管员")
    stored = ledger.database.lookup(lambda s: s.transaction_by_number(made.number))
    assert (stored.maker_id, stored.maker, stored.approver_id) == (clerk.id, clerk.label, None)
    assert verify_ledger(ledger.database).ok

    with ledger.database.engine.begin() as connection:
        drop_guards(connection)
    sql(
        ledger,
        "UPDATE transactions SET maker_id = :other WHERE number = :number",
        other=users["approver"].id,
        number=made.number,
    )
    report = verify_ledger(ledger.database)
    assert [f.code for f in report.findings if made.number in f.subject] == ["hash_mismatch"]


def test_a_confirmation_names_its_receiver_and_a_request_shipment_its_approver(city):
    ledger, users = city
    ledger.execute(c.Confirm("CK-2026-000001"), users["clerk"].id)
    requests = Requests(ledger)
    number = requests.create(
        CreateRequest("510121-ZJ", (RequestLineIn("NH2014", 2, "捆"),)), users["requester"].id
    ).number
    requests.submit(number, users["requester"].id)
    requests.approve(number, Approve((RequestLineIn("NH2014", 2, "捆"),)), users["approver"].id)
    shipment = requests.ship(number, Ship((ShipLine("NH2014", 1000),)), users["clerk"].id)
    assert (shipment.maker_id, shipment.approver_id) == (users["clerk"].id, users["approver"].id)
    assert (shipment.maker, shipment.approver) == ("金堂县仓库保管员", "金堂县审批岗")
    arrival = ledger.execute(c.Confirm(shipment.number), users["requester"].id)
    assert arrival.receiver_id == arrival.maker_id == users["requester"].id
    assert arrival.receiver == "赵家镇计生办"
    assert verify_ledger(ledger.database).ok

    states = [e.action for e in reversed(log_entries(ledger, object_type="request"))]
    assert states == ["request.created", "request.submitted", "request.approved", "request.shipped"]
    approved = next(e for e in log_entries(ledger, action="request.approved"))
    assert (approved.actor, approved.object_key, approved.root_code) == (
        "金堂县审批岗",
        number,
        "510100",
    )


def test_stocktake_adjustments_name_the_approver_and_each_step_is_logged(city):
    ledger, users = city
    ledger.execute(c.Confirm("CK-2026-000001"), users["clerk"].id)
    stocktakes = Stocktakes(ledger)
    opened = stocktakes.open(OpenStocktake("510121", item_codes=("NH2014",)), users["clerk"].id)
    stocktakes.count(
        opened.number,
        EnterCounts((CountLine("510121", "NH2014", "2014-01", 2990),)),
        users["clerk"].id,
    )
    stocktakes.close(opened.number, users["clerk"].id)
    digest = stocktakes.preview(opened.number).digest
    approved = stocktakes.approve(
        opened.number, ApproveStocktake("霉变 10 张", digest), users["auditor"].id
    )
    (number,) = approved.adjustments
    adjustment = ledger.database.lookup(lambda s: s.transaction_by_number(number))
    assert adjustment.maker_id == adjustment.approver_id == users["auditor"].id
    steps = [e.action for e in reversed(log_entries(ledger, object_key=opened.number))]
    assert steps == ["stocktake.open", "stocktake.close", "stocktake.approve"]
    last = log_entries(ledger, object_key=opened.number)[0]
    assert last.after["status"] == "approved" and last.after["adjustments"] == [number]


def test_users_added_and_revoked_are_logged_with_before_and_after(city):
    ledger, users = city
    revoke_user(ledger.database, users["clerk"].id, actor=None)
    added, revoked = log_entries(ledger, object_key=str(users["clerk"].id))[::-1]
    assert (added.action, added.actor, added.after["role"]) == ("user.add", "命令行", "clerk")
    assert revoked.action == "user.revoke"
    assert revoked.before == {"label": "金堂县仓库保管员", "role": "clerk", "location": "510121"}
    assert revoked.after == {"revoked": True}
    assert added.root_code == "510100"


def test_the_operations_log_refuses_edits_and_deletes(city):
    ledger, _ = city
    assert log_entries(ledger)
    for statement in (
        "UPDATE operations_log SET actor = 'someone else'",
        "DELETE FROM operations_log",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            sql(ledger, statement)


def test_transactions_recorded_before_the_switch_keep_verifying_under_version_1(engine):
    """A ledger written before migration 0008 (chain version 1, no people) upgrades and goes on:
    the old voucher verifies under the old encoding, new ones under the new, and its maker shows
    as unknown."""
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection=connection), "0007")
    encoding = canonical_encoding(
        1,
        "RK-2026-000001",
        "receipt",
        __import__("datetime").date(2026, 5, 1),
        "510100",
        None,
        None,
        None,
        None,
        "",
        [("supplier", "NH2014", "2014-01", -500), ("510100", "NH2014", "2014-01", 500)],
        version=1,
    )
    digest = chain_hash(GENESIS_HASH, encoding)
    with engine.begin() as connection:
        run = connection.exec_driver_sql
        run(
            "INSERT INTO locations (code, name, level, physical, parent_id, path) "
            "VALUES ('510100', '成都市', 'city', true, NULL, '/510100/')"
        )
        run(
            "INSERT INTO items (code, name, kind, category, base_unit, expiry_tracked) "
            "VALUES ('NH2014', '年画', 'printed', '年画', '张', false)"
        )
        run("INSERT INTO batches (item_id, number) VALUES (1, '2014-01')")
        ids = dict(connection.execute(text("SELECT code, id FROM locations")).all())
        connection.execute(
            text(
                "INSERT INTO transactions (id, number, kind, occurred_on, recorded_at, "
                "location_id, memo, previous_hash, hash) VALUES (1, 'RK-2026-000001', "
                "'receipt', '2026-05-01', '2026-05-01 08:00:00', :city, '', :genesis, :hash)"
            ),
            {"city": ids["510100"], "genesis": GENESIS_HASH, "hash": digest},
        )
        for location, quantity in (("supplier", -500), ("510100", 500)):
            connection.execute(
                text(
                    "INSERT INTO postings (transaction_id, location_id, item_id, batch_id, "
                    "quantity, balance_after, occurred_on) "
                    "VALUES (1, :location, 1, 1, :quantity, :quantity, '2026-05-01')"
                ),
                {"location": ids[location], "quantity": quantity},
            )
            connection.execute(
                text(
                    "INSERT INTO balances (location_id, item_id, batch_id, on_hand, reserved, "
                    "last_occurred_on) VALUES (:location, 1, 1, :quantity, 0, '2026-05-01')"
                ),
                {"location": ids[location], "quantity": quantity},
            )
        connection.execute(
            text("UPDATE chain_head SET sequence = 1, hash = :hash"), {"hash": digest}
        )
        run("INSERT INTO voucher_counters (prefix, year, last) VALUES ('RK', 2026, 1)")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection=connection), "head")

    from ledger.db.unit_of_work import Database
    from tests.bound import Ledger
    from tests.conftest import TODAY

    ledger = Ledger(Database(engine), clock=lambda: TODAY)
    clerk = add_user(ledger.database, "市仓库保管员", "clerk", "510100")[0]
    ledger_from_text(ledger, "location 510121 金堂县 county 510100")
    new = ledger.execute(c.Issue("510100", "510121", (c.LineSpec("NH2014", 100),)), clerk.id)
    old = ledger.database.lookup(lambda s: s.transaction_by_number("RK-2026-000001"))
    assert (old.chain_version, old.maker_id, old.maker) == (1, None, "未知")
    assert (new.chain_version, new.previous_hash) == (2, digest)
    report = verify_ledger(ledger.database)
    assert report.ok, report.findings

    with engine.begin() as connection:
        drop_guards(connection)
    # Rewriting the new voucher under the old encoding (to drop its maker) is found even when
    # its hash is made to match.
    rewritten = canonical_encoding(
        new.sequence,
        new.number,
        new.kind.value,
        new.occurred_on,
        new.location_code,
        new.counterparty_code,
        None,
        None,
        None,
        new.memo,
        [(p.location_code, p.item_code, p.batch_number, p.quantity) for p in new.postings],
        version=1,
    )
    forged = chain_hash(digest, rewritten)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE transactions SET chain_version = 1, maker_id = NULL, hash = :hash "
                "WHERE id = :id"
            ),
            {"hash": forged, "id": new.sequence},
        )
        connection.execute(text("UPDATE chain_head SET hash = :hash"), {"hash": forged})
    codes = {f.code for f in verify_ledger(ledger.database).findings}
    assert codes == {"chain_version_mismatch"}


def test_a_period_close_is_logged_with_the_chain_head_it_kept(city):
    import datetime as dt

    from ledger.services.audit import close_period

    ledger, users = city
    auditor = users["auditor"]
    close = ledger.database.write(
        lambda store: close_period(store, dt.date(2026, 5, 31), auditor.id, ledger.clock())
    )
    (entry,) = log_entries(ledger, action="period.close")
    assert (entry.actor, entry.object_key, entry.root_code) == (
        "市审计岗",
        "510100/2026-05-31",
        "510100",
    )
    assert entry.before == {"closed_through": None}
    assert entry.after == {
        "closed_through": "2026-05-31",
        "sequence": close.sequence,
        "hash": close.hash,
    }


def test_a_voucher_gives_its_reason_in_words(city):

    ledger, users = city
    written_off = ledger.execute(
        c.WriteOff("510100", (c.LineSpec("NH2014", 5),), "damaged", memo="仓库漏雨"),
        users["auditor"].id,
    )
    voucher = ledger.database.lookup(lambda s: report_audit.voucher(s, written_off.number))
    assert "原因：破损/霉变" in voucher.notes
    shortage = c.Shortage(
        c.ShortageReason.lost_in_transit, (c.ShortageLine("NH2014", "2014-01", 100),)
    )
    received = (c.ReceivedLine("NH2014", "2014-01", 2900),)
    arrival = ledger.execute(
        c.Confirm("CK-2026-000001", received, shortage=shortage), users["clerk"].id
    )
    voucher = ledger.database.lookup(lambda s: report_audit.voucher(s, arrival.number))
    assert "原因：运输丢失" in voucher.notes


def test_entries_tied_to_no_city_go_with_the_city_only_while_it_is_the_only_one(city):
    from ledger.model import Item, ItemKind, Location, LocationLevel
    from ledger.services.audit_log import read_log

    ledger, _ = city
    ledger.add_item(Item("DY2015", "叠页", ItemKind.printed, "叠页", "张"))  # tied to no city
    mine = {e.object_key for e in read_log(ledger.database, "510100", limit=200)}
    assert "DY2015" in mine and "510121-ZJ" in mine
    ledger.add_location(Location("500100", "渝中样例市", LocationLevel.city))
    chengdu = {e.object_key for e in read_log(ledger.database, "510100", limit=200)}
    other = {e.object_key for e in read_log(ledger.database, "500100", limit=200)}
    assert "DY2015" not in chengdu and "510121-ZJ" in chengdu
    assert other == {"500100"}
    assert "DY2015" in {e.object_key for e in read_log(ledger.database, None, limit=200)}


def test_no_checkpoint_is_handed_out_for_a_chain_whose_tail_was_cut(city):
    from ledger.history import parse_checkpoint
    from ledger.rules import LedgerError

    ledger, _ = city
    with ledger.database.read() as connection:
        sequence, _ = journal_queries.checkpoint_head(connection)
    assert sequence == 2
    with ledger.database.engine.begin() as connection:
        drop_guards(connection)
    sql(ledger, "DELETE FROM postings WHERE transaction_id = 2")
    sql(ledger, "DELETE FROM transactions WHERE id = 2")
    with ledger.database.read() as connection, pytest.raises(LedgerError) as refused:
        journal_queries.checkpoint_head(connection)
    assert refused.value.code == "chain_head_mismatch"
    with pytest.raises(LedgerError) as zero:
        parse_checkpoint("0:" + "0" * 16)
    assert zero.value.code == "invalid_checkpoint"
