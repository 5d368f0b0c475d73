"""已申领未到 (on order): a place's open requests lower its suggested request quantity —
submitted ones by what they ask, approved ones by what is approved and not yet shipped — and
drafts, rejected, cancelled and closed ones do not; a draft being edited is not counted against
itself; the alerts stay on the shelf's figures; the home page's kept alerts follow a request's
transitions; the demand plan's rows count an order between two of them once. Figures checked
against the requests' own lines, on SQLite and PostgreSQL."""

from __future__ import annotations

from fractions import Fraction

from ledger.norms import AlertKind
from ledger.services import suggestions
from ledger.services.alert_summary import alert_summary
from ledger.services.demand_plan import demand_plan
from ledger.services.report_norms import suggested_request_report
from ledger.services.request_models import (
    Approve,
    CreateRequest,
    EditRequest,
    Reject,
    RequestLineIn,
    Ship,
    ShipLine,
)
from tests.bound import Ledger, Requests
from tests.conftest import TODAY
from tests.integration.test_norms import _story

TOWNSHIP = "510121-ZJ"
# _story's 赵家镇 over the 3-month window: BYT (盒 = 3 只) max 542, min 181, 29 on hand and
# 100 in transit; GT2014 (套 = 4 张) max 361, 29 on hand, 100 in transit.
MAXIMUM = {"BYT": 542, "GT2014": 361}
PACK = {"BYT": 3, "GT2014": 4}
ON_HAND = 29
IN_TRANSIT = 100


def ceil_to(quantity: int, pack: int) -> int:
    return -(-quantity // pack) * pack if quantity > 0 else 0


def expected_on_order(requests: Requests, numbers: list[str], item: str) -> int:
    """From each request's own lines: submitted → requested; approved → approved − issued."""
    total = 0
    for number in numbers:
        found = requests.get(number)
        for line in found.lines:
            if line.item_code != item:
                continue
            if found.status == "submitted":
                total += line.requested
            elif found.status == "approved":
                total += (line.approved or 0) - line.issued
    return total


def positions(ledger: Ledger) -> dict:
    return {
        p.item.code: p.suggestion
        for p in ledger.database.lookup(
            lambda s: suggestions.suggested_request(s, TOWNSHIP, TODAY, 3)
        )
    }


def _request(requests: Requests, lines: dict[str, int], submit: bool = True) -> str:
    made = requests.create(
        CreateRequest(TOWNSHIP, tuple(RequestLineIn(i, q) for i, q in lines.items()))
    )
    if submit:
        requests.submit(made.number)
    return made.number


def test_open_requests_lower_the_suggestion_and_closed_ones_do_not(ledger):
    _story(ledger)
    requests = Requests(ledger)
    before = positions(ledger)
    assert (before["BYT"].on_order, before["BYT"].suggested) == (0, 414)
    draft = _request(requests, {"BYT": 30}, submit=False)
    submitted = _request(requests, {"BYT": 60, "GT2014": 40})
    approved = _request(requests, {"BYT": 120})
    requests.approve(approved, Approve((RequestLineIn("BYT", 90),)))
    requests.ship(approved, Ship((ShipLine("BYT", 30),), occurred_on=TODAY))
    rejected = _request(requests, {"BYT": 45, "GT2014": 8})
    requests.reject(rejected, Reject("库存不足"))
    cancelled = _request(requests, {"BYT": 15})
    requests.cancel(cancelled)
    nothing = _request(requests, {"GT2014": 12})
    requests.approve(nothing, Approve((RequestLineIn("GT2014", 0),)))  # closes it
    assert requests.get(nothing).status == "closed"
    every = [draft, submitted, approved, rejected, cancelled, nothing]
    now = positions(ledger)
    # independent: 60 submitted + (90 approved − 30 shipped) = 120 只 of BYT; 40 张 of GT2014
    assert expected_on_order(requests, every, "BYT") == 120
    assert expected_on_order(requests, every, "GT2014") == 40
    for item in ("BYT", "GT2014"):
        s = now[item]
        on_order = expected_on_order(requests, every, item)
        in_transit = IN_TRANSIT + (30 if item == "BYT" else 0)  # the shipment of `approved`
        assert (s.on_hand, s.in_transit, s.on_order) == (ON_HAND, in_transit, on_order), item
        wanted = MAXIMUM[item] - ON_HAND - in_transit - on_order
        assert s.suggested == ceil_to(wanted, PACK[item]), item
    assert now["BYT"].suggested == 264  # 542 − 29 − 130 − 120 = 263, up to 88 盒
    assert now["GT2014"].suggested == 192  # 361 − 129 − 40 = 192, 48 套
    # the alerts stay on the shelf: still 补货 (29 + 130 < 181) though 120 are on order
    assert now["BYT"].urgent and now["BYT"].alert is AlertKind.below_minimum


def test_the_rest_of_an_approval_counts_until_shipped_or_closed(ledger):
    _story(ledger)
    requests = Requests(ledger)
    number = _request(requests, {"BYT": 144})
    assert positions(ledger)["BYT"].on_order == 144
    requests.approve(number, Approve((RequestLineIn("BYT", 144),)))
    # approved and not shipped: still expected (the tester's SQ-…-000001 for 144 只)
    s = positions(ledger)["BYT"]
    assert (s.on_order, s.suggested) == (144, ceil_to(542 - 129 - 144, 3))
    requests.ship(number, Ship((ShipLine("BYT", 144),), occurred_on=TODAY))
    s = positions(ledger)["BYT"]  # shipped: in transit now, no longer on order
    assert (s.in_transit, s.on_order) == (244, 0)
    assert s.suggested == ceil_to(542 - 29 - 244, 3)


def test_a_draft_being_edited_is_not_on_order_against_itself(ledger):
    _story(ledger)
    requests = Requests(ledger)
    other = _request(requests, {"BYT": 60})
    draft = _request(requests, {"BYT": 30}, submit=False)
    edited = requests.edit(draft, EditRequest((RequestLineIn("BYT", 90),)))
    # the line keeps the suggestion with the other request's 60 on order, not the draft's own
    # LEDGER_AMC_MONTHS unset: 6 months, BYT max 542 as over 3 (test_norms), 414 without orders
    (line,) = edited.lines
    assert line.suggested == ceil_to(542 - 129 - 60, 3) == 354
    assert positions(ledger)["BYT"].on_order == 60
    requests.submit(draft)
    assert positions(ledger)["BYT"].on_order == 150
    report = ledger.database.lookup(lambda s: suggested_request_report(s, TOWNSHIP, TODAY, 3))
    columns = [column.key for column in report.columns]
    row = dict(zip(columns, report.rows[0], strict=True))
    assert (row["item_code"], row["on_order"], row["suggested"]) == ("BYT", 150, 264)
    assert requests.get(other).status == "submitted"


def test_the_kept_home_alerts_follow_a_requests_transitions(ledger):
    _story(ledger)
    requests = Requests(ledger)

    def kept_line():
        summary = alert_summary(ledger.database, "510121", TODAY, 3)
        return {(p.location.code, p.item.code): p.suggestion for p in summary.lines}

    def fresh_line():
        found = ledger.database.lookup(lambda s: suggestions.stock_alerts(s, "510121", TODAY, 3))
        return {(p.location.code, p.item.code): p.suggestion for p in found}

    key = (TOWNSHIP, "BYT")
    assert kept_line()[key].on_order == 0
    number = _request(requests, {"BYT": 60}, submit=False)
    assert kept_line()[key].on_order == 0  # a draft
    requests.submit(number)
    assert kept_line()[key] == fresh_line()[key]
    assert (kept_line()[key].on_order, kept_line()[key].suggested) == (60, 354)
    requests.approve(number, Approve((RequestLineIn("BYT", 30),)))
    assert kept_line()[key].on_order == 30 == fresh_line()[key].on_order
    requests.cancel(number)
    assert kept_line()[key].on_order == 0
    assert kept_line() == fresh_line()


def test_the_demand_plan_counts_an_order_inside_the_plan_once(ledger):
    """赵家镇 asks its county for 60 只 (submitted), the county asks the city for 300 只: in the
    county's plan 赵家镇's row has 60 on order and the county's own store −60 (it will ship
    them) + 300; in the city's plan the city's own store owes the 300 too, so the rows add up
    to what comes from outside the plan (300, then 0)."""
    _story(ledger)
    requests = Requests(ledger)
    _request(requests, {"BYT": 60})
    county = requests.create(CreateRequest("510121", (RequestLineIn("BYT", 300),)))
    requests.submit(county.number)
    _request(requests, {"BYT": 45}, submit=False)  # a draft: nothing

    def ordered(under: str) -> dict[str, int]:
        plan = ledger.database.lookup(
            lambda s: demand_plan(s, under, TODAY.year, TODAY, 3, Fraction(0))
        )
        return {line.location.code: line.on_order for line in plan.lines if line.item.code == "BYT"}

    in_county = ordered("510121")
    assert (in_county[TOWNSHIP], in_county["510121"]) == (60, 300 - 60)
    assert sum(in_county.values()) == 300
    in_city = ordered("510100")
    assert (in_city[TOWNSHIP], in_city["510121"], in_city.get("510100", 0)) == (60, 240, -300)
    assert sum(in_city.values()) == 0
    # and what is on order comes off what each row, subtotal and total asks for
    plan = ledger.database.lookup(lambda s: demand_plan(s, "510121", TODAY.year, TODAY, 3, 0))
    for line in plan.lines:
        net = line.demand + line.maximum - line.on_hand - line.in_transit - line.on_order
        assert line.to_request == max(-(-net // 3) * 3, 0), line.location.code
