"""The allocation request's state machine (ledger/requests.py), without a database."""

from __future__ import annotations

import pytest

from ledger.requests import (
    STATUS_NAMES,
    TRANSITIONS,
    RequestAction,
    RequestStatus,
    check_action,
    everything_arrived,
    next_status,
    outstanding,
    status_after_approval,
)
from ledger.rules import Code, LedgerError

S, A = RequestStatus, RequestAction


def test_every_action_has_a_row_and_every_state_is_reachable_from_a_draft():
    assert set(TRANSITIONS) == set(RequestAction)
    reached, frontier = {S.draft}, [S.draft]
    while frontier:
        status = frontier.pop()
        for allowed_from, allowed_to in TRANSITIONS.values():
            if status in allowed_from:
                for target in allowed_to - reached:
                    reached.add(target)
                    frontier.append(target)
    assert reached == set(RequestStatus)


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (S.submitted, A.edit),
        (S.approved, A.submit),
        (S.draft, A.approve),
        (S.approved, A.reject),
        (S.closed, A.cancel),
        (S.submitted, A.ship),
        (S.draft, A.confirm),
        (S.submitted, A.close),
    ],
)
def test_an_action_its_state_does_not_allow_is_refused_naming_the_state(status, action):
    with pytest.raises(LedgerError) as refused:
        check_action("SQ-2026-000001", status, action)
    assert refused.value.code is Code.request_state
    assert f"当前{STATUS_NAMES[status]}，" in refused.value.message  # the state in Chinese
    assert f"state {status.value})" in refused.value.message  # and its code in the gloss
    assert refused.value.field == "status"


def test_the_allowed_actions_pass_and_lead_where_the_table_says():
    check_action("SQ-2026-000001", "draft", A.submit)  # a stored status is a plain string
    assert next_status("draft", A.submit, S.submitted) is S.submitted
    assert next_status("approved", A.confirm, S.closed) is S.closed
    with pytest.raises(RuntimeError):
        next_status("approved", A.close, S.cancelled)  # a use case going off the map is a bug


def test_approving_nothing_closes_and_anything_approved_opens_shipping():
    assert status_after_approval([0, 0]) is S.closed
    assert status_after_approval([0, 3]) is S.approved


def test_outstanding_counts_only_while_approved_and_arrival_needs_every_shipment_confirmed():
    assert outstanding("approved", 10, 4) == 6
    assert outstanding("closed", 10, 4) == 0
    assert outstanding("approved", None, 0) == 0
    assert everything_arrived([(10, 10), (None, 0)], unconfirmed=0)
    assert not everything_arrived([(10, 10)], unconfirmed=1)
    assert not everything_arrived([(10, 6)], unconfirmed=0)
