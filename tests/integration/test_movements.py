"""Every movement kind and its rejections, on SQLite and PostgreSQL."""

import datetime as dt

import msgspec
import pytest

from ledger import commands as c
from ledger.db import balance_queries, journal_queries
from ledger.model import TransactionKind
from ledger.rules import Code
from ledger.services.audit import verify_ledger
from tests.builder import CITY_TEXT, ledger_from_text
from tests.support import refused, stock

D = dt.date


def on_hand(ledger, location, item, batch=None, as_of=None, virtual=False):
    with ledger.database.read() as connection:
        lines = balance_queries.balances(
            connection, location, item, batch, as_of, include_virtual=virtual
        )
    return sum(line.on_hand for line in lines)


@pytest.fixture
def city(ledger):
    ledger_from_text(
        ledger,
        CITY_TEXT
        + """
receipt 510100 NH2014 2014-01 930000 on 2026-05-01
receipt 510100 GT2014 2014-01 66000 on 2026-05-01
receipt 510100 BYT B-EARLY 300 expires 2026-09-30 on 2026-05-02
receipt 510100 BYT B-LATE 1440 expires 2028-01-31 on 2026-05-02
""",
    )
    return ledger


def assert_verified(ledger):
    report = verify_ledger(ledger.database)
    assert report.ok, report.findings


def test_receipt_numbers_vouchers_without_gaps_and_creates_batches(city):
    tx = city.receive(
        c.Receive("510100", (c.ReceiptLine("NH2014", "2014-02", 2, unit="捆"),), D(2026, 6, 1))
    )
    assert tx.number == "RK-2026-000005" and tx.kind is TransactionKind.receipt
    assert on_hand(city, "510100", "NH2014", "2014-02") == 1000
    assert on_hand(city, "supplier", "NH2014", "2014-02", virtual=True) == -1000
    assert_verified(city)


def test_receipt_rules(city):
    refused(
        Code.batch_expiry_required,
        city.receive,
        c.Receive("510100", (c.ReceiptLine("BYT", "NEW", 3),)),
    )
    refused(
        Code.batch_conflict,
        city.receive,
        c.Receive("510100", (c.ReceiptLine("BYT", "B-LATE", 3, expires_on=D(2029, 1, 1)),)),
    )
    refused(
        Code.batch_expired,
        city.receive,
        c.Receive("510100", (c.ReceiptLine("BYT", "OLD", 3, expires_on=D(2026, 1, 1)),)),
    )
    refused(Code.unknown_item, city.receive, c.Receive("510100", (c.ReceiptLine("XX", "1", 3),)))
    refused(
        Code.unknown_location, city.receive, c.Receive("999999", (c.ReceiptLine("NH2014", "1", 3),))
    )
    refused(
        Code.location_must_be_physical,
        city.receive,
        c.Receive("in-transit", (c.ReceiptLine("NH2014", "1", 3),)),
    )
    refused(
        Code.quantity_must_be_positive,
        city.receive,
        c.Receive("510100", (c.ReceiptLine("NH2014", "1", 0),)),
    )
    refused(
        Code.unknown_pack,
        city.receive,
        c.Receive("510100", (c.ReceiptLine("NH2014", "1", 1, unit="箱"),)),
    )
    refused(
        Code.date_in_future,
        city.receive,
        c.Receive("510100", (c.ReceiptLine("NH2014", "1", 1),), D(2026, 7, 1)),
    )
    refused(Code.invalid_field, city.receive, c.Receive("510100", ()))
    # Nothing of the refused receipts was recorded: no new batches, no postings.
    with city.database.read() as connection:
        assert journal_queries.counts(connection) == (4, 8)
    # …and used no voucher number: numbers stay gapless.
    after = city.receive(c.Receive("510100", (c.ReceiptLine("NH2014", "2014-01", 1),)))
    assert after.number == "RK-2026-000005"


def test_issue_picks_fefo_moves_to_transit_and_confirmation_records_a_shortage(city):
    shipment = city.issue(
        c.Issue(
            "510100",
            "510121",
            (c.LineSpec("BYT", 120, unit="盒"), c.LineSpec("NH2014", 10, unit="捆")),
        )
    )
    assert shipment.kind is TransactionKind.issue and shipment.number == "CK-2026-000001"
    assert stock(city, "510100", "BYT") == {"B-LATE": (1380, 0)}  # 360 taken: B-EARLY 300 first
    assert on_hand(city, "in-transit", "BYT", virtual=True) == 360
    short = c.Confirm(shipment.number, (c.ReceivedLine("NH2014", "2014-01", 4990),), D(2026, 6, 30))
    # One step never writes stock off: the refusal says exactly what is missing.
    error = refused(Code.shortage_unconfirmed, city.confirm, short)
    assert "年画 批次 2014-01 发出 5000 张、实收 4990 张、短少 10 张" in error.message
    assert error.field == "shortage"
    assert error.details == {
        "missing": [
            {
                "item_code": "NH2014",
                "item_name": "年画",
                "batch_number": "2014-01",
                "shipped": 5000,
                "received": 4990,
                "missing": 10,
                "unit": "张",
            }
        ]
    }
    assert on_hand(city, "in-transit", "NH2014", virtual=True) == 5000  # nothing moved
    assert on_hand(city, "510121", "NH2014") == 0
    shortage = c.Shortage("lost_in_transit", (c.ShortageLine("NH2014", "2014-01", 10),))
    confirmation = city.confirm(msgspec.structs.replace(short, memo="县仓签收", shortage=shortage))
    assert confirmation.reason == "lost_in_transit"
    assert confirmation.memo == "县仓签收；短少原因：运输丢失"
    assert on_hand(city, "510121", "NH2014") == 4990
    assert on_hand(city, "adjustment", "NH2014", virtual=True) == 10
    assert on_hand(city, "in-transit", "NH2014", virtual=True) == 0
    assert on_hand(city, "510121", "BYT") == 360
    refused(Code.shipment_already_confirmed, city.confirm, c.Confirm(shipment.number))
    refused(Code.shipment_already_confirmed, city.reverse, c.Reverse(shipment.number))
    assert_verified(city)


def test_issue_outside_the_subtree_is_a_transfer(city):
    city.issue(c.Issue("510100", "510121", (c.LineSpec("NH2014", 100),)))
    city.confirm(c.Confirm("CK-2026-000001"))
    transfer = city.issue(c.Issue("510121", "510181", (c.LineSpec("NH2014", 40),)))
    assert transfer.kind is TransactionKind.transfer and transfer.number.startswith("DB-2026-")


def test_issue_rules(city):
    refused(
        Code.locations_must_be_different,
        city.issue,
        c.Issue("510100", "510100", (c.LineSpec("NH2014", 1),)),
    )
    refused(
        Code.exceeds_available,
        city.issue,
        c.Issue("510100", "510121", (c.LineSpec("NH2014", 930_001),)),
    )
    refused(
        Code.exceeds_on_hand,
        city.issue,
        c.Issue("510100", "510121", (c.LineSpec("NH2014", 930_001, "2014-01"),)),
    )
    refused(
        Code.location_must_be_physical,
        city.issue,
        c.Issue("510100", "scrapped", (c.LineSpec("NH2014", 1),)),
    )
    refused(
        Code.duplicate_line,
        city.issue,
        c.Issue(
            "510100",
            "510121",
            (c.LineSpec("NH2014", 1, "2014-01"), c.LineSpec("NH2014", 1, "2014-01")),
        ),
    )
    too_many = tuple(c.LineSpec("NH2014", 1, "2014-01") for _ in range(201))
    refused(Code.too_many_lines, city.issue, c.Issue("510100", "510121", too_many))


def test_an_expired_batch_is_never_issued_or_distributed_but_may_be_written_off(city):
    late = lambda: D(2026, 10, 15)  # noqa: E731 - B-EARLY expired on 2026-09-30
    city.clock = late
    refused(
        Code.batch_expired,
        city.issue,
        c.Issue("510100", "510121", (c.LineSpec("BYT", 1, "B-EARLY"),)),
    )
    refused(
        Code.batch_expired,
        city.distribute,
        c.Distribute("510100", (c.LineSpec("BYT", 1, "B-EARLY"),)),
    )
    fefo = city.issue(c.Issue("510100", "510121", (c.LineSpec("BYT", 5),)))
    assert {p.batch_number for p in fefo.postings} == {"B-LATE"}
    written = city.write_off(c.WriteOff("510100", (c.LineSpec("BYT", 300),), "expired"))
    assert {p.batch_number for p in written.postings} == {"B-EARLY"}
    assert on_hand(city, "scrapped", "BYT", virtual=True) == 300


def test_distribution_return_write_off_and_adjustment(city):
    city.issue(c.Issue("510100", "510121", (c.LineSpec("GT2014", 100, unit="套"),)))
    city.confirm(c.Confirm("CK-2026-000001"))
    assert (
        city.distribute(c.Distribute("510121", (c.LineSpec("GT2014", 10, unit="套"),))).number
        == "FF-2026-000001"
    )
    returned = city.return_to_parent(c.Return("510121", (c.LineSpec("GT2014", 40),)))
    assert returned.counterparty_code == "510100" and returned.number == "TH-2026-000001"
    refused(
        Code.location_has_no_parent,
        city.return_to_parent,
        c.Return("510100", (c.LineSpec("GT2014", 4),)),
    )
    refused(
        Code.unknown_write_off_reason,
        city.write_off,
        c.WriteOff("510121", (c.LineSpec("GT2014", 4),), "stolen-by-mice"),
    )
    refused(
        Code.reason_required,
        city.write_off,
        c.WriteOff("510121", (c.LineSpec("GT2014", 4),), "other"),
    )
    city.write_off(c.WriteOff("510121", (c.LineSpec("GT2014", 4),), "damaged"))
    city.adjust(c.Adjust("510121", (c.AdjustLine("GT2014", "2014-01", -2),), memo="盘亏"))
    city.adjust(c.Adjust("510121", (c.AdjustLine("GT2014", "2014-01", 1),), memo="盘盈"))
    assert on_hand(city, "510121", "GT2014") == 400 - 40 - 40 - 4 - 2 + 1
    refused(
        Code.exceeds_on_hand,
        city.adjust,
        c.Adjust("510121", (c.AdjustLine("GT2014", "2014-01", -1000),)),
    )
    assert_verified(city)


def test_reversal_mirrors_once_and_never_reverses_a_reversal(city):
    distribution = city.distribute(c.Distribute("510100", (c.LineSpec("NH2014", 500),)))
    reversal = city.reverse(c.Reverse(distribution.number))
    assert reversal.reverses_sequence == distribution.sequence
    assert [p.quantity for p in reversal.postings] == [-p.quantity for p in distribution.postings]
    assert on_hand(city, "510100", "NH2014") == 930_000
    refused(Code.reversal_already_exists, city.reverse, c.Reverse(distribution.number))
    refused(Code.reversal_of_reversal, city.reverse, c.Reverse(reversal.number))
    refused(Code.unknown_transaction, city.reverse, c.Reverse("FF-2026-999999"))
    assert_verified(city)


def test_reversing_a_receipt_whose_stock_has_moved_on_is_refused(city):
    city.distribute(c.Distribute("510100", (c.LineSpec("GT2014", 65_000),)))
    refused(Code.exceeds_on_hand, city.reverse, c.Reverse("RK-2026-000002"))


def test_reversing_a_confirmation_puts_the_shipment_back_in_transit(city):
    shipment = city.issue(c.Issue("510100", "510121", (c.LineSpec("NH2014", 100),)))
    shortage = c.Shortage("damaged", (c.ShortageLine("NH2014", "2014-01", 10),))
    confirmation = city.confirm(
        c.Confirm(shipment.number, (c.ReceivedLine("NH2014", "2014-01", 90),), shortage=shortage)
    )
    city.reverse(c.Reverse(confirmation.number))
    assert on_hand(city, "in-transit", "NH2014", virtual=True) == 100
    city.confirm(c.Confirm(shipment.number))
    assert on_hand(city, "510121", "NH2014") == 100
    assert_verified(city)


def test_confirmation_rules(city):
    shipment = city.issue(c.Issue("510100", "510121", (c.LineSpec("NH2014", 100),)))
    refused(Code.not_a_shipment, city.confirm, c.Confirm("RK-2026-000001"))
    refused(
        Code.received_exceeds_shipped,
        city.confirm,
        c.Confirm(shipment.number, (c.ReceivedLine("NH2014", "2014-01", 101),)),
    )
    refused(
        Code.line_not_in_shipment,
        city.confirm,
        c.Confirm(shipment.number, (c.ReceivedLine("BYT", "B-LATE", 1),)),
    )
    city.reverse(c.Reverse(shipment.number))
    refused(Code.not_a_shipment, city.confirm, c.Confirm(shipment.number))


def test_a_shortage_is_recorded_only_as_acknowledged(city):
    shipment = city.issue(
        c.Issue(
            "510100",
            "510121",
            (c.LineSpec("NH2014", 4, unit="捆"), c.LineSpec("GT2014", 10, unit="套")),
        )
    )
    received = (
        c.ReceivedLine("NH2014", "2014-01", 3, "捆"),
        c.ReceivedLine("GT2014", "2014-01", 0),
    )
    both = (c.ShortageLine("NH2014", "2014-01", 500), c.ShortageLine("GT2014", "2014-01", 40))

    def confirm(shortage, memo=""):
        return city.confirm(c.Confirm(shipment.number, received, memo=memo, shortage=shortage))

    error = refused(Code.shortage_unconfirmed, confirm, None)
    assert [(m["item_code"], m["missing"], m["unit"]) for m in error.details["missing"]] == [
        ("NH2014", 500, "张"),
        ("GT2014", 40, "张"),
    ]
    # The acknowledgement must name exactly what is missing: not less, not more, not other.
    for lines in (
        both[:1],
        (*both, c.ShortageLine("BYT", "B-LATE", 1)),
        (c.ShortageLine("NH2014", "2014-01", 499), both[1]),
        (),
    ):
        error = refused(Code.shortage_unconfirmed, confirm, c.Shortage("damaged", lines))
        assert "短少确认与实际短少不一致" in error.message and len(error.details["missing"]) == 2
    refused(Code.duplicate_line, confirm, c.Shortage("damaged", (*both, both[0])))
    refused(Code.unknown_shortage_reason, confirm, c.Shortage("丢了", both))
    refused(Code.reason_required, confirm, c.Shortage("other", both, "  "))
    error = refused(Code.text_too_long, confirm, c.Shortage("other", both, "说" * 201))
    assert "最多 200" in error.message
    error = refused(Code.text_too_long, confirm, c.Shortage("other", both, "说" * 200), "摘" * 300)
    assert "最多 500" in error.message and error.field == "memo"
    assert on_hand(city, "in-transit", "NH2014", virtual=True) == 2000  # nothing moved
    # Packs count too: one 捆 missing is 500 张.
    in_packs = (c.ShortageLine("NH2014", "2014-01", 1, "捆"), both[1])
    confirmation = confirm(c.Shortage("other", in_packs, "一捆被雨淋坏，挂图未装车"))
    assert confirmation.reason == "other"
    assert confirmation.memo == "短少原因：其他，一捆被雨淋坏，挂图未装车"
    assert on_hand(city, "adjustment", "NH2014", virtual=True) == 500
    assert on_hand(city, "adjustment", "GT2014", virtual=True) == 40
    assert on_hand(city, "510121", "NH2014") == 1500
    # A shipment that arrived in full takes no shortage.
    whole = city.issue(c.Issue("510100", "510121", (c.LineSpec("NH2014", 100),)))
    refused(
        Code.no_shortage_to_confirm,
        city.confirm,
        c.Confirm(whole.number, shortage=c.Shortage("damaged", both[:1])),
    )
    assert_verified(city)


def test_reservations_hold_stock_until_issued_or_released(city):
    reservation = city.reserve(c.Reserve("SQ-1", "510100", "BYT", 400))
    assert reservation.lines == (("B-EARLY", 300), ("B-LATE", 100))
    assert stock(city, "510100", "BYT") == {"B-EARLY": (300, 300), "B-LATE": (1440, 100)}
    refused(
        Code.exceeds_available,
        city.issue,
        c.Issue("510100", "510121", (c.LineSpec("BYT", 300, "B-EARLY"),)),
    )
    refused(Code.exceeds_available, city.reserve, c.Reserve("SQ-2", "510100", "BYT", 1341))
    shipment = city.issue(
        c.Issue("510100", "510121", (c.LineSpec("BYT", 350),), reservation="SQ-1")
    )
    assert {p.batch_number: p.quantity for p in shipment.postings if p.quantity < 0} == {
        "B-EARLY": -300,
        "B-LATE": -50,
    }
    assert stock(city, "510100", "BYT") == {"B-LATE": (1390, 50)}
    released = city.release(c.Release("SQ-1"))
    assert released.quantity == 50
    assert stock(city, "510100", "BYT") == {"B-LATE": (1390, 0)}
    refused(Code.unknown_reservation, city.release, c.Release("SQ-1"))
    refused(
        Code.unknown_reservation,
        city.issue,
        c.Issue("510100", "510121", (c.LineSpec("BYT", 1),), reservation="SQ-1"),
    )
    assert_verified(city)


def test_balances_as_of_a_date_read_the_running_balance(city):
    city.distribute(c.Distribute("510100", (c.LineSpec("NH2014", 1000),), D(2026, 6, 1)))
    city.distribute(c.Distribute("510100", (c.LineSpec("NH2014", 500),), D(2026, 6, 10)))
    assert on_hand(city, "510100", "NH2014", as_of=D(2026, 4, 30)) == 0
    assert on_hand(city, "510100", "NH2014", as_of=D(2026, 5, 31)) == 930_000
    assert on_hand(city, "510100", "NH2014", as_of=D(2026, 6, 5)) == 929_000
    assert on_hand(city, "510100", "NH2014", as_of=D(2026, 6, 30)) == 928_500
    assert on_hand(city, "distributed", "NH2014", as_of=D(2026, 6, 5), virtual=True) == 1000
    # The single-account lookup agrees with the listing on every day.
    key = city.database.lookup(
        lambda store: (
            store.location("510100").id,
            store.item("NH2014").id,
            store.batch(store.item("NH2014"), "2014-01").id,
        )
    )
    with city.database.read() as connection:
        for day in (D(2026, 4, 30), D(2026, 5, 31), D(2026, 6, 5), D(2026, 6, 30)):
            assert balance_queries.account_balance_as_of(connection, *key, day) == on_hand(
                city, "510100", "NH2014", as_of=day
            )
    refused(
        Code.date_before_last_movement,
        city.distribute,
        c.Distribute("510100", (c.LineSpec("NH2014", 1),), D(2026, 6, 9)),
    )


def test_idempotency_returns_the_first_result_and_refuses_other_content(city):
    command = c.Distribute("510100", (c.LineSpec("NH2014", 7),), idempotency_key="k-1")
    first = city.distribute(command)
    assert city.distribute(command) == first
    assert on_hand(city, "510100", "NH2014") == 930_000 - 7
    refused(
        Code.idempotency_key_reused,
        city.distribute,
        c.Distribute("510100", (c.LineSpec("NH2014", 8),), idempotency_key="k-1"),
    )
    reservation = city.reserve(c.Reserve("SQ-9", "510100", "BYT", 3, idempotency_key="k-2"))
    assert city.reserve(c.Reserve("SQ-9", "510100", "BYT", 3, idempotency_key="k-2")) == reservation
    assert stock(city, "510100", "BYT")["B-EARLY"] == (300, 3)


def test_a_batch_of_commands_is_all_or_nothing(city):
    good = c.Distribute("510100", (c.LineSpec("NH2014", 1),))
    bad = c.Distribute("510100", (c.LineSpec("NH2014", 10**9),))
    refused(Code.exceeds_available, city.execute_many, [good, bad])
    assert on_hand(city, "510100", "NH2014") == 930_000
    results = city.execute_many([good, good])
    assert [tx.number for tx in results] == ["FF-2026-000001", "FF-2026-000002"]
    assert_verified(city)


def test_history_is_append_only_in_the_database(city):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    for statement in (
        "UPDATE postings SET quantity = quantity + 1",
        "DELETE FROM postings",
        "UPDATE transactions SET memo = 'x'",
        "DELETE FROM transactions",
    ):
        with (
            pytest.raises(DBAPIError, match="append-only"),
            city.database.engine.begin() as connection,
        ):
            connection.execute(text(statement))
    assert_verified(city)


def test_two_fefo_lines_of_one_item_do_not_pick_the_same_units_twice(city):
    # B-EARLY holds 300: the first line takes 200 of it, the second the last 100 and 50 of B-LATE.
    shipment = city.issue(
        c.Issue("510100", "510121", (c.LineSpec("BYT", 200), c.LineSpec("BYT", 150)))
    )
    moved = {p.batch_number: -p.quantity for p in shipment.postings if p.location_code == "510100"}
    assert moved == {"B-EARLY": 300, "B-LATE": 50}
    assert stock(city, "510100", "BYT") == {"B-LATE": (1390, 0)}


def test_in_one_batch_a_fefo_issue_sees_stock_received_earlier_in_the_batch(city):
    results = city.execute_many(
        [
            c.Receive("510121", (c.ReceiptLine("NH2014", "2014-05", 40),)),
            c.Issue("510121", "510121-ZJ", (c.LineSpec("NH2014", 30),)),
        ]
    )
    assert [p.batch_number for p in results[1].postings] == ["2014-05", "2014-05"]
