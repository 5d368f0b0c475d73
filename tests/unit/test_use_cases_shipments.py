"""Issues, transfers and their confirmations (签收), shortages among them, and the order their
reversals (红冲) take: the real use cases on the fake unit of work, no database."""

from __future__ import annotations

from ledger import commands as c
from ledger.model import TransactionKind
from ledger.rules import Code
from tests.unit.small_office import (
    CITY,
    COUNTY,
    OTHER_CITY,
    OTHER_COUNTY,
    TOWN,
    line,
    receipt,
    refuse,
    run,
)


def test_an_issue_picks_fefo_into_transit_addressed_below_the_source(fake):
    shipment = run(fake, c.Issue(CITY, COUNTY, line("BYT", 400)))
    assert (shipment.number, shipment.kind) == ("CK-2026-000001", TransactionKind.issue)
    assert shipment.counterparty_code == COUNTY
    assert fake.balances()[("in-transit", "BYT", "B-EARLY")] == (300, 0)
    assert fake.balances()[("in-transit", "BYT", "B-LATE")] == (100, 0)
    assert fake.on_hand(CITY, "BYT", "B-LATE") == 400
    assert fake.on_hand(COUNTY, "BYT", "B-LATE") == 0  # not before it is confirmed


def test_an_issue_outside_the_source_subtree_is_a_transfer(fake):
    run(fake, receipt(COUNTY, "NH2014", "2014-01", 100))
    transfer = run(fake, c.Issue(COUNTY, OTHER_COUNTY, line("NH2014", 40)))
    assert (transfer.number, transfer.kind) == ("DB-2026-000001", TransactionKind.transfer)


def test_stock_never_crosses_into_another_city_nor_ships_to_itself(fake):
    refuse(fake, c.Issue(CITY, OTHER_CITY, line("NH2014", 1)), Code.location_in_other_city)
    refuse(fake, c.Issue(CITY, CITY, line("NH2014", 1)), Code.locations_must_be_different)


def test_a_confirmation_moves_the_shipment_from_transit_to_the_receiver(fake):
    shipment = run(fake, c.Issue(CITY, COUNTY, line("BYT", 400)))
    confirmation = run(fake, c.Confirm(shipment.number), actor=8)
    assert (confirmation.number, confirmation.kind) == (
        "QS-2026-000001",
        TransactionKind.confirmation,
    )
    assert confirmation.shipment_sequence == shipment.sequence
    assert (confirmation.location_code, confirmation.counterparty_code) == (COUNTY, CITY)
    assert confirmation.receiver_id == confirmation.maker_id == 8
    assert fake.on_hand(COUNTY, "BYT", "B-EARLY") == 300
    assert fake.on_hand(COUNTY, "BYT", "B-LATE") == 100
    assert fake.on_hand("in-transit", "BYT", "B-EARLY") == 0
    refuse(fake, c.Confirm(shipment.number), Code.shipment_already_confirmed)


def test_a_short_confirmation_waits_for_the_receiver_to_acknowledge_what_is_missing(fake):
    shipment = run(fake, c.Issue(CITY, TOWN, line("NH2014", 100, "2014-01")))
    arrived = (c.ReceivedLine("NH2014", "2014-01", 80),)
    error = refuse(fake, c.Confirm(shipment.number, arrived), Code.shortage_unconfirmed)
    assert [(m["batch_number"], m["missing"]) for m in error.details["missing"]] == [
        ("2014-01", 20)
    ]
    wrong = c.Shortage("lost_in_transit", (c.ShortageLine("NH2014", "2014-01", 10),))
    refuse(fake, c.Confirm(shipment.number, arrived, shortage=wrong), Code.shortage_unconfirmed)

    shortage = c.Shortage("lost_in_transit", (c.ShortageLine("NH2014", "2014-01", 20),))
    confirmation = run(fake, c.Confirm(shipment.number, arrived, shortage=shortage))
    assert confirmation.reason == "lost_in_transit"
    assert "短少原因：运输丢失" in confirmation.memo
    assert fake.on_hand(TOWN, "NH2014", "2014-01") == 80
    assert fake.on_hand("adjustment", "NH2014", "2014-01") == 20
    assert fake.on_hand("in-transit", "NH2014", "2014-01") == 0


def test_a_confirmation_names_only_what_was_shipped_and_no_more_of_it(fake):
    shipment = run(fake, c.Issue(CITY, COUNTY, line("NH2014", 100, "2014-01")))
    too_many = (c.ReceivedLine("NH2014", "2014-01", 101),)
    refuse(fake, c.Confirm(shipment.number, too_many), Code.received_exceeds_shipped)
    other = (c.ReceivedLine("NH2014", "2014-02", 1),)
    refuse(fake, c.Confirm(shipment.number, other), Code.line_not_in_shipment)


def test_only_a_shipment_is_confirmed(fake):
    refuse(fake, c.Confirm("RK-2026-000001"), Code.not_a_shipment)
    refuse(fake, c.Confirm("CK-2026-000099"), Code.unknown_transaction)


def test_a_confirmed_shipment_is_reversed_only_after_its_confirmation(fake):
    before = fake.balances()
    shipment = run(fake, c.Issue(CITY, COUNTY, line("BYT", 400)))
    confirmation = run(fake, c.Confirm(shipment.number))
    refuse(fake, c.Reverse(shipment.number), Code.shipment_already_confirmed)

    assert run(fake, c.Reverse(confirmation.number)).number == "HC-2026-000001"
    assert run(fake, c.Reverse(shipment.number)).number == "HC-2026-000002"
    assert {key: value for key, value in fake.balances().items() if value[0]} == before
    refuse(fake, c.Confirm(shipment.number), Code.not_a_shipment)  # reversed: nothing to sign


def test_a_reversed_confirmation_lets_the_shipment_be_confirmed_again(fake):
    shipment = run(fake, c.Issue(CITY, COUNTY, line("NH2014", 10)))
    run(fake, c.Reverse(run(fake, c.Confirm(shipment.number)).number))
    assert run(fake, c.Confirm(shipment.number)).number == "QS-2026-000002"
    assert fake.on_hand(COUNTY, "NH2014", "2014-01") == 10
