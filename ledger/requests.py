"""The allocation request's state machine (申领单): its states, the actions taken on it, and for
each action the states it may be taken from and the states it may lead to. Pure: the use cases
in `ledger.services.requests` ask it before they write.

    draft ──submit──▶ submitted ──approve──▶ approved ──close / everything arrived──▶ closed
                          │            └──(nothing approved)──────────────────────────▶ closed
                          └──reject──▶ rejected
    draft | submitted | approved (nothing shipped) ──cancel──▶ cancelled

Editing keeps a draft a draft; shipping keeps a request approved; confirming an arrival keeps
it approved, or closes it once everything approved has arrived (a closed request still takes
the confirmations of shipments sent before it closed).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from ledger.rules import Code, LedgerError


class RequestStatus(StrEnum):
    """Where a request stands. The value is what storage holds and the API answers."""

    draft = "draft"  # 草稿: the requester is still writing it
    submitted = "submitted"  # 已提交: waiting for the level above
    approved = "approved"  # 已批准: stock reserved at the supplier; shipments go out
    rejected = "rejected"  # 已驳回
    cancelled = "cancelled"  # 已撤销: withdrawn before anything was shipped
    closed = "closed"  # 已关闭: everything approved arrived, or the rest was cancelled


STATUS_NAMES: dict[str, str] = {
    RequestStatus.draft: "草稿",
    RequestStatus.submitted: "待审批",
    RequestStatus.approved: "已批准",
    RequestStatus.rejected: "已驳回",
    RequestStatus.cancelled: "已撤销",
    RequestStatus.closed: "已关闭",
}


class RequestAction(StrEnum):
    """What a user does to a request (what it records is a `RequestEventAction`)."""

    edit = "edit"
    submit = "submit"
    cancel = "cancel"
    reject = "reject"
    approve = "approve"
    ship = "ship"
    confirm = "confirm"
    close = "close"


class RequestEventAction(StrEnum):
    """What happened to a request, as its history (request_events) and the operations log
    (`request.<event>`) record it."""

    created = "created"
    edited = "edited"
    submitted = "submitted"
    cancelled = "cancelled"
    rejected = "rejected"
    approved = "approved"
    closed = "closed"  # by the supplier, by approving nothing, or once everything arrived
    shipped = "shipped"  # a shipment went out
    received = "received"  # a shipment's arrival was confirmed


ACTION_NAMES: dict[RequestAction, str] = {
    RequestAction.edit: "修改",
    RequestAction.submit: "提交",
    RequestAction.cancel: "撤销",
    RequestAction.reject: "驳回",
    RequestAction.approve: "审批",
    RequestAction.ship: "发货",
    RequestAction.confirm: "签收",
    RequestAction.close: "关闭",
}

S = RequestStatus
# action: (the states it may be taken from, the states it may lead to)
TRANSITIONS: dict[RequestAction, tuple[frozenset[RequestStatus], frozenset[RequestStatus]]] = {
    RequestAction.edit: (frozenset({S.draft}), frozenset({S.draft})),
    RequestAction.submit: (frozenset({S.draft}), frozenset({S.submitted})),
    RequestAction.cancel: (frozenset({S.draft, S.submitted, S.approved}), frozenset({S.cancelled})),
    RequestAction.reject: (frozenset({S.submitted}), frozenset({S.rejected})),
    RequestAction.approve: (frozenset({S.submitted}), frozenset({S.approved, S.closed})),
    RequestAction.ship: (frozenset({S.approved}), frozenset({S.approved})),
    RequestAction.confirm: (frozenset({S.approved, S.closed}), frozenset({S.approved, S.closed})),
    RequestAction.close: (frozenset({S.approved}), frozenset({S.closed})),
}
del S


def check_action(number: str, status: str, action: RequestAction) -> None:
    """Refuse (`request_state`) an action the request's state does not allow."""
    if status not in TRANSITIONS[action][0]:
        raise LedgerError(
            Code.request_state,
            f"申领单 {number} 当前{STATUS_NAMES.get(status, status)}，不能{ACTION_NAMES[action]} "
            f"(not allowed in state {status})",
            "status",
        )


def next_status(status: str, action: RequestAction, to: RequestStatus) -> RequestStatus:
    """`to`, checked against the table: a use case that would move a request along a path the
    machine does not have is a bug, and stops loudly (never a silent write)."""
    allowed_from, allowed_to = TRANSITIONS[action]
    if status not in allowed_from or to not in allowed_to:
        raise RuntimeError(f"request state machine: {action} may not lead {status} → {to}")
    return to


def status_after_approval(approved: Iterable[int]) -> RequestStatus:
    """An approval of nothing at all closes the request; anything approved opens shipping."""
    return RequestStatus.approved if any(approved) else RequestStatus.closed


def outstanding(status: str, approved: int | None, issued: int) -> int:
    """What is still to be shipped of a line: approved − issued while the request is approved."""
    return (approved or 0) - issued if status == RequestStatus.approved else 0


def everything_arrived(lines: Iterable[tuple[int | None, int]], unconfirmed: int) -> bool:
    """lines: (approved, issued) per line; unconfirmed: shipments not yet confirmed. True when
    all that was approved has been shipped and every shipment confirmed."""
    return all((approved or 0) == issued for approved, issued in lines) and unconfirmed == 0
