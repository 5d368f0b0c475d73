"""Reversals (红冲), reservations (预留), idempotency keys, several commands in one unit of work
and who made a voucher: the real use cases on the fake unit of work, no database."""

from __future__ import annotations

import pytest

from ledger import commands as c
from ledger.model import Item, ItemKind, TransactionKind
from ledger.rules import Code, LedgerError
from ledger.services.ledger import execute_many
from ledger.services.reservations import Released, Reservation
from tests.unit.small_office import CITY, COUNTY, TODAY, line, receipt, refuse, run


def test_a_reversal_mirrors_the_voucher_which_stays(fake):
    original = fake.transactions()[0]  # RK-2026-000001: 年画 2014-01 ×1000 into the city
    reversal = run(fake, c.Reverse(original.number))
    assert (reversal.number, reversal.kind) == ("HC-2026-000001", TransactionKind.reversal)
    assert reversal.reverses_sequence == original.sequence
    assert reversal.memo == f"红冲 {original.number}"
    assert [p.quantity for p in reversal.postings] == [-p.quantity for p in original.postings]
    assert fake.on_hand(CITY, "NH2014", "2014-01") == 0
    assert fake.transactions()[0] == original


def test_a_voucher_is_reversed_once_and_a_reversal_never(fake):
    reversal = run(fake, c.Reverse("RK-2026-000001"))
    refuse(fake, c.Reverse("RK-2026-000001"), Code.reversal_already_exists)
    refuse(fake, c.Reverse(reversal.number), Code.reversal_of_reversal)
    refuse(fake, c.Reverse("RK-2026-000099"), Code.unknown_transaction)


def test_a_reversal_cannot_take_back_stock_that_has_moved_on(fake):
    run(fake, c.Distribute(CITY, line("NH2014", 900, "2014-01")))
    refuse(fake, c.Reverse("RK-2026-000001"), Code.exceeds_on_hand)


def test_a_reservation_holds_stock_fefo_and_keeps_it_from_other_movements(fake):
    reservation = run(fake, c.Reserve("SQ-1", CITY, "BYT", 400))
    assert reservation == Reservation("SQ-1", CITY, "BYT", (("B-EARLY", 300), ("B-LATE", 100)))
    assert fake.balances()[(CITY, "BYT", "B-EARLY")] == (300, 300)
    assert fake.balances()[(CITY, "BYT", "B-LATE")] == (500, 100)
    refuse(fake, c.Distribute(CITY, line("BYT", 401)), Code.exceeds_available)
    refuse(fake, c.Distribute(CITY, line("BYT", 1, "B-EARLY")), Code.exceeds_available)
    refuse(fake, c.Reserve("SQ-2", CITY, "BYT", 401), Code.exceeds_available)
    run(fake, c.Distribute(CITY, line("BYT", 400)))
    assert fake.balances()[(CITY, "BYT", "B-LATE")] == (100, 100)


def test_an_issue_against_a_reservation_consumes_it_and_a_release_frees_the_rest(fake):
    run(fake, c.Reserve("SQ-1", CITY, "NH2014", 700))
    issue = c.Issue(CITY, COUNTY, line("NH2014", 300), reservation="SQ-1")
    shipment = run(fake, issue)
    assert [(p.batch_number, p.quantity) for p in shipment.postings if p.quantity < 0] == [
        ("2014-01", -300)
    ]
    assert fake.balances()[(CITY, "NH2014", "2014-01")] == (700, 400)
    assert fake.reservations()[0]["remaining"] == 400

    assert run(fake, c.Release("SQ-1")) == Released("SQ-1", 400)
    assert fake.balances()[(CITY, "NH2014", "2014-01")] == (700, 0)
    assert fake.reservations()[0]["status"] == "released"
    refuse(fake, c.Release("SQ-1"), Code.unknown_reservation)
    refuse(fake, issue, Code.unknown_reservation)


def test_a_reservation_used_up_by_its_issue_is_consumed(fake):
    run(fake, c.Reserve("SQ-1", CITY, "NH2014", 100, batch_number="2014-02"))
    run(fake, c.Issue(CITY, COUNTY, line("NH2014", 100), reservation="SQ-1"))
    assert fake.reservations()[0]["status"] == "consumed"
    assert fake.balances()[(CITY, "NH2014", "2014-02")] == (500, 0)


def test_a_command_sent_again_with_its_key_is_answered_once(fake):
    command = receipt(COUNTY, "NH2014", "2014-01", 5, idempotency_key="delivery-7")
    first = run(fake, command)
    count = len(fake.transactions())
    assert run(fake, command) == first
    assert len(fake.transactions()) == count
    assert fake.on_hand(COUNTY, "NH2014", "2014-01") == 5

    other = receipt(COUNTY, "NH2014", "2014-01", 6, idempotency_key="delivery-7")
    refuse(fake, other, Code.idempotency_key_reused)


def test_a_result_that_is_not_a_voucher_is_answered_again_too(fake):
    item = Item("LS2015", "历书", ItemKind.printed, "历书", "本")
    assert run(fake, c.AddItem(item, "add-ls")) == item
    assert run(fake, c.AddItem(item, "add-ls")) == item  # not item_exists: the same answer
    reserve = c.Reserve("SQ-1", CITY, "BYT", 10, idempotency_key="hold-1")
    assert run(fake, reserve) == run(fake, reserve)
    assert fake.balances()[(CITY, "BYT", "B-EARLY")] == (300, 10)


def test_a_refused_command_keeps_no_key(fake):
    refuse(fake, receipt(COUNTY, "XX", "1", 5, idempotency_key="k"), Code.unknown_item)
    run(fake, receipt(COUNTY, "NH2014", "2014-01", 5, idempotency_key="k"))


def test_several_commands_in_one_unit_of_work_go_through_all_or_none(fake):
    before = fake.balances(), fake.transactions()
    good = receipt(COUNTY, "NH2014", "2014-01", 5)
    with pytest.raises(LedgerError) as refused:
        execute_many(fake, [good, c.Distribute(COUNTY, line("NH2014", 6))], None, TODAY)
    assert refused.value.code is Code.exceeds_available
    assert (fake.balances(), fake.transactions()) == before

    done = execute_many(fake, [good, c.Distribute(COUNTY, line("NH2014", 5))], None, TODAY)
    assert [t.number for t in done] == ["RK-2026-000005", "FF-2026-000001"]


def test_the_voucher_names_its_maker(fake):
    transaction = run(fake, receipt(COUNTY, "NH2014", "2014-01", 5), actor=7)
    assert (transaction.maker_id, transaction.maker) == (7, "#7")
    assert fake.transactions()[0].maker == "命令行"  # made by no signed-in user
