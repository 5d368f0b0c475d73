"""What has been shipped under a 印制计划, on each database engine: a saved plan applied again
ships nothing more (print_plan_fully_shipped); a short first print run is followed by a second
shipment of exactly the remainder; a reversed (红冲) issue is due again; a quantity of zero is
refused and one above what is due is capped. The figures are worked out apart from the plan
(`expected_quantities`: each county's villages' sheets in 捆 plus the spares of its township
and its own)."""

from __future__ import annotations

import pytest

from ledger import commands as c
from ledger.rules import Code, LedgerError
from ledger.services.audit import verify_ledger
from ledger.services.print_plans import (
    IssueOrder,
    allocation_from_print_plan,
    issue_print_plan,
    make_print_plan,
    print_plan_shipping,
)
from tests.integration.test_print_plans import TERMS, VILLAGES, city, expected_quantities

__all__ = ["city"]  # the fixture, used by name


def _county_totals() -> dict[str, int]:
    """Each county's area in 张 (its villages, its townships' spares and its own), apart."""
    each = expected_quantities(5)
    out = {}
    for county, townships in VILLAGES.items():
        out[county] = each[county] + sum(
            each[township] + sum(each[v] for v in villages)
            for township, villages in townships.items()
        )
    return out


def _moved(shipments) -> dict[str, int]:
    return {
        tx.counterparty_code: sum(
            p.quantity for p in tx.postings if p.location_code == "in-transit"
        )
        for tx in shipments
    }


def _saved_and_received(ledger, received: int) -> str:
    made = make_print_plan(ledger.database, TERMS, True, None, ledger.clock())
    ledger.receive(c.Receive("510100", (c.ReceiptLine("NH2015", "2015-01", received),), None))
    assert made.number is not None
    return made.number


def _issue(ledger, number: str, order: IssueOrder | None = None, source: str = "510100"):
    return issue_print_plan(
        ledger.database, number, source, order or IssueOrder(), None, ledger.clock()
    )


def _refused(call) -> Code:
    with pytest.raises(LedgerError) as refused:
        call()
    return refused.value.code


def test_a_plan_applied_again_ships_nothing_more(city):
    counties = _county_totals()
    number = _saved_and_received(city, 3 * sum(counties.values()))
    plan, shipments = _issue(city, number)
    assert _moved(shipments) == counties and plan.allocated == sum(counties.values())
    shipping = {place.location_code: place for place in print_plan_shipping(city.database, number)}
    for county, quantity in counties.items():
        assert (shipping[county].planned, shipping[county].shipped, shipping[county].due) == (
            quantity,
            quantity,
            0,
        )
    assert shipping["510121-HK"].shipped == 0  # nothing yet from the county to its townships
    # a fresh apply, with or without a key, and the preview: nothing due
    assert _refused(lambda: _issue(city, number)) is Code.print_plan_fully_shipped
    again = IssueOrder(key="second-page")
    assert _refused(lambda: _issue(city, number, again)) is Code.print_plan_fully_shipped
    with pytest.raises(LedgerError) as refused:
        allocation_from_print_plan(city.database, number, "510100", None, city.clock())
    assert refused.value.code is Code.print_plan_fully_shipped
    # the county ships on to its townships once, too
    for shipment in shipments:
        city.confirm(c.Confirm(shipment.number))
    county = _issue(city, number, source="510121")
    each = expected_quantities(5)
    assert _moved(county[1]) == {
        township: each[township] + sum(each[v] for v in villages)
        for township, villages in VILLAGES["510121"].items()
    }
    repeat = _refused(lambda: _issue(city, number, source="510121"))
    assert repeat is Code.print_plan_fully_shipped
    assert verify_ledger(city.database).ok


def test_a_short_first_run_then_a_second_shipment_ships_the_remainder(city):
    counties = _county_totals()
    number = _saved_and_received(city, 10_000)
    _, first = _issue(city, number)
    sent = _moved(first)
    assert sum(sent.values()) == 10_000 and all(q % 500 == 0 for q in sent.values())
    assert all(sent[county] < counties[county] for county in sent)
    city.receive(
        c.Receive("510100", (c.ReceiptLine("NH2015", "2015-02", 100_000),), None)
    )  # the second print run, more than is still due
    due = allocation_from_print_plan(city.database, number, "510100", None, city.clock())
    remainder = {county: counties[county] - sent.get(county, 0) for county in counties}
    assert {line.location_code: line.quantity for line in due.lines} == remainder
    _, second = _issue(city, number)
    assert _moved(second) == remainder
    total = {county: sent.get(county, 0) + _moved(second)[county] for county in counties}
    assert total == counties
    assert _refused(lambda: _issue(city, number)) is Code.print_plan_fully_shipped
    assert verify_ledger(city.database).ok


def test_a_reversed_issue_counts_as_not_shipped(city):
    counties = _county_totals()
    number = _saved_and_received(city, sum(counties.values()))
    _, shipments = _issue(city, number)
    to_pixian = next(tx for tx in shipments if tx.counterparty_code == "510181")
    city.reverse(c.Reverse(to_pixian.number, memo="开错了"))
    shipping = {place.location_code: place for place in print_plan_shipping(city.database, number)}
    assert (shipping["510181"].shipped, shipping["510181"].due) == (0, counties["510181"])
    assert shipping["510121"].due == 0
    plan, again = _issue(city, number)
    assert _moved(again) == {"510181": counties["510181"]}
    assert [line.quantity for line in plan.lines if line.location_code == "510121"] == [0]
    assert _refused(lambda: _issue(city, number)) is Code.print_plan_fully_shipped
    assert verify_ledger(city.database).ok


def test_nothing_to_issue_is_refused_and_more_than_is_due_is_capped(city):
    counties = _county_totals()
    number = _saved_and_received(city, 2 * sum(counties.values()))
    for quantity in (0, -500):
        refused = _refused(lambda q=quantity: _issue(city, number, IssueOrder(q)))
        assert refused is Code.quantity_must_be_positive
    assert _refused(lambda: _issue(city, number, IssueOrder(499))) is Code.exceeds_available
    asked = sum(counties.values()) + 5_000
    plan, shipments = _issue(city, number, IssueOrder(asked))
    assert _moved(shipments) == counties and plan.unallocated == 5_000
    assert verify_ledger(city.database).ok
