"""Receipts, openings, distributions, returns, write-offs and stocktake adjustments: the real use
cases (`ledger.services.ledger.execute`) on the fake unit of work, no database.

The office (tests/unit/small_office.py) starts with, at the city: 年画 2014-01 ×1000 and 2014-02
×600, 避孕套 B-EARLY ×300 (expires 2026-08-10) and B-LATE ×500; vouchers RK-2026-000001…4."""

from __future__ import annotations

import datetime as dt

from ledger import commands as c
from ledger.model import Item, ItemKind, TransactionKind
from ledger.rules import Code
from tests.unit.small_office import (
    CITY,
    COUNTY,
    EARLY,
    OTHER_CITY,
    TODAY,
    line,
    receipt,
    refuse,
    run,
)

AFTER_EARLY_EXPIRED = EARLY + dt.timedelta(days=1)


def moved(transaction) -> list[tuple[str, str, str, int]]:
    return [
        (p.location_code, p.item_code, p.batch_number, p.quantity) for p in transaction.postings
    ]


def test_a_receipt_moves_stock_from_the_supplier_counted_in_base_units(fake):
    command = c.Receive(COUNTY, (c.ReceiptLine("NH2014", "2014-03", 2, unit="捆"),))
    transaction = run(fake, command)
    assert (transaction.number, transaction.kind) == ("RK-2026-000005", TransactionKind.receipt)
    assert moved(transaction) == [
        ("supplier", "NH2014", "2014-03", -1000),
        (COUNTY, "NH2014", "2014-03", 1000),
    ]
    assert fake.on_hand(COUNTY, "NH2014", "2014-03") == 1000


def test_a_contraceptive_batch_needs_its_expiry_and_an_expired_one_is_not_received(fake):
    refuse(fake, receipt(COUNTY, "BYT", "B-NEW", 30), Code.batch_expiry_required)
    refuse(
        fake, receipt(COUNTY, "BYT", "B-OLD", 30, TODAY - dt.timedelta(days=1)), Code.batch_expired
    )
    refuse(fake, receipt(COUNTY, "BYT", "B-LATE", 30, EARLY), Code.batch_conflict)
    run(fake, receipt(COUNTY, "BYT", "B-LATE", 30))  # a known batch: its dates may be left out
    assert fake.on_hand(COUNTY, "BYT", "B-LATE") == 30


def test_a_movement_dated_after_today_is_refused(fake):
    tomorrow = TODAY + dt.timedelta(days=1)
    refuse(fake, receipt(COUNTY, "NH2014", "2014-01", 5, on=tomorrow), Code.date_in_future)


def test_an_account_never_moves_back_before_its_last_movement(fake):
    yesterday = TODAY - dt.timedelta(days=1)
    refuse(
        fake, receipt(CITY, "NH2014", "2014-01", 5, on=yesterday), Code.date_before_last_movement
    )
    run(fake, receipt(COUNTY, "NH2014", "2014-01", 5, on=yesterday))  # a new account may


def test_a_closed_period_takes_no_movement_at_its_city_only(fake):
    fake.close_period(dt.date(2026, 6, 20), CITY)
    in_june = dt.date(2026, 6, 15)
    refuse(fake, receipt(COUNTY, "NH2014", "2014-01", 5, on=in_june), Code.period_closed)
    run(fake, receipt(COUNTY, "NH2014", "2014-01", 5, on=dt.date(2026, 6, 21)))
    run(fake, receipt(OTHER_CITY, "NH2014", "2014-01", 5, on=in_june))  # another city's books


def test_a_distribution_picks_the_earliest_expiry_first(fake):
    transaction = run(fake, c.Distribute(CITY, line("BYT", 350)))
    assert transaction.kind is TransactionKind.distribution
    assert moved(transaction) == [
        (CITY, "BYT", "B-EARLY", -300),
        ("distributed", "BYT", "B-EARLY", 300),
        (CITY, "BYT", "B-LATE", -50),
        ("distributed", "BYT", "B-LATE", 50),
    ]


def test_printed_matter_goes_oldest_print_run_first(fake):
    transaction = run(fake, c.Distribute(CITY, line("NH2014", 1200)))
    assert [(p.batch_number, p.quantity) for p in transaction.postings if p.quantity < 0] == [
        ("2014-01", -1000),
        ("2014-02", -200),
    ]


def test_an_expired_batch_is_never_distributed_nor_picked(fake):
    later = AFTER_EARLY_EXPIRED
    refuse(fake, c.Distribute(CITY, line("BYT", 10, "B-EARLY")), Code.batch_expired, later)
    refuse(fake, c.Distribute(CITY, line("BYT", 501)), Code.exceeds_available, later)
    transaction = run(fake, c.Distribute(CITY, line("BYT", 500)), later)
    assert {p.batch_number for p in transaction.postings} == {"B-LATE"}
    assert fake.on_hand(CITY, "BYT", "B-EARLY") == 300


def test_more_than_the_stock_is_refused_and_nothing_changes(fake):
    error = refuse(fake, c.Distribute(CITY, line("NH2014", 1601)), Code.exceeds_available)
    assert error.field == "lines[0].quantity"
    refuse(fake, c.Distribute(CITY, line("NH2014", 1001, "2014-01")), Code.exceeds_on_hand)


def test_a_write_off_may_take_an_expired_batch_and_other_needs_a_memo(fake):
    later = AFTER_EARLY_EXPIRED
    command = c.WriteOff(CITY, line("BYT", 100, unit="盒"), "expired")  # 300 只, FEFO: B-EARLY
    transaction = run(fake, command, later)
    assert (transaction.kind, transaction.reason) == (TransactionKind.write_off, "expired")
    assert moved(transaction) == [
        (CITY, "BYT", "B-EARLY", -300),
        ("scrapped", "BYT", "B-EARLY", 300),
    ]
    refuse(fake, c.WriteOff(CITY, line("BYT", 1), "other"), Code.reason_required, later)


def test_a_return_goes_to_the_parent_and_a_city_has_none(fake):
    run(fake, receipt(COUNTY, "NH2014", "2014-01", 50))
    transaction = run(fake, c.Return(COUNTY, line("NH2014", 20)))
    assert (transaction.number, transaction.counterparty_code) == ("TH-2026-000001", CITY)
    assert fake.on_hand(COUNTY, "NH2014", "2014-01") == 30
    assert fake.on_hand(CITY, "NH2014", "2014-01") == 1020
    refuse(fake, c.Return(CITY, line("NH2014", 1)), Code.location_has_no_parent)


def test_a_stocktake_posts_gains_and_losses_against_adjustment(fake):
    lines = (c.AdjustLine("NH2014", "2014-01", 5), c.AdjustLine("NH2014", "2014-02", -3))
    transaction = run(fake, c.Adjust(CITY, lines))
    assert (transaction.number, transaction.kind) == ("PD-2026-000001", TransactionKind.stocktake)
    assert fake.balances()[(CITY, "NH2014", "2014-01")] == (1005, 0)
    assert fake.balances()[(CITY, "NH2014", "2014-02")] == (597, 0)
    assert fake.on_hand("adjustment", "NH2014", "2014-01") == -5
    loss = (c.AdjustLine("NH2014", "2014-02", -598),)
    refuse(fake, c.Adjust(CITY, loss), Code.exceeds_on_hand)


def test_an_opening_balance_is_posted_once_per_location(fake):
    lines = (c.ReceiptLine("GT2014", "2013-09", 10, unit="套"),)
    first = run(fake, c.OpenBalances(COUNTY, lines))
    assert (first.number, first.kind) == ("QC-2026-000001", TransactionKind.opening)
    assert moved(first)[0] == ("opening", "GT2014", "2013-09", -40)
    refuse(fake, c.OpenBalances(COUNTY, lines), Code.opening_exists)
    run(fake, c.Reverse(first.number))
    assert run(fake, c.OpenBalances(COUNTY, lines)).number == "QC-2026-000002"


def test_a_virtual_location_is_refused_where_stock_is_held(fake):
    refuse(fake, c.Distribute("in-transit", line("NH2014", 1)), Code.location_must_be_physical)
    refuse(fake, receipt("supplier", "NH2014", "2014-01", 1), Code.location_must_be_physical)


def test_reference_data_is_added_once_and_logged(fake):
    item = Item("LS2015", "历书", ItemKind.printed, "历书", "本")
    assert run(fake, c.AddItem(item)) == item
    refuse(fake, c.AddItem(item), Code.item_exists)
    logged = [(entry["action"], entry["object_key"]) for entry in fake.state.operations]
    assert logged[-1] == ("item.add", "LS2015")
    assert ("location.add", COUNTY) in logged


def test_each_voucher_is_chained_to_the_one_before(fake):
    last = fake.transactions()[-1]
    transaction = run(fake, c.Distribute(CITY, line("NH2014", 1)))
    assert transaction.sequence == last.sequence + 1
    assert transaction.previous_hash == last.hash != transaction.hash
