"""Shipping against an approved request and confirming what arrived, inside a unit of work: the
FEFO suggestion at the supplier, a shipment (an issue carrying out the approver's decision; a
later-expiring batch than FEFO's needs a reason), its confirmation, and the close once
everything approved has arrived."""

from __future__ import annotations

import datetime as dt

from ledger import commands as c
from ledger.db import requests as db
from ledger.db.store import BatchEntry, ItemEntry, LedgerStore, LocationEntry
from ledger.limits import override_reason_length_max
from ledger.model import AccountKey, Transaction, VirtualLocation
from ledger.picking import Candidate, batch_ahead, is_usable, pick_batches
from ledger.requests import RequestAction, RequestEventAction, RequestStatus, everything_arrived
from ledger.rules import Code, LedgerError, check_text
from ledger.services.checks import base_units, check_composed_memo, check_memo
from ledger.services.confirmations import confirm
from ledger.services.movements import issue
from ledger.services.picking import stock_candidates
from ledger.services.request_models import ConfirmShipment, Ship, ShipLine, Suggestion
from ledger.services.request_records import move, record_event, request_row


def suggest(store: LedgerStore, number: str, today: dt.date) -> list[Suggestion]:
    """FEFO picks at the supplier for every outstanding line, counting what this request has
    reserved as available; ranked by expiry alone, as the override check on shipping ranks."""
    row = request_row(store, number)
    if row.status != RequestStatus.approved:
        return []
    supplier = store.location_by_id(row.supplier_location_id)
    reserved = _reserved_by_batch(store, number)
    suggestions: list[Suggestion] = []
    for line in db.lines(store, row.id):
        outstanding = (line.approved or 0) - line.issued
        if outstanding <= 0:
            continue
        item = store.item_by_id(line.item_id)
        candidates = [c for _, c in _candidates(store, supplier, item, reserved)]
        expiry = {candidate.batch_number: candidate.expires_on for candidate in candidates}
        for pick in pick_batches(candidates, outstanding, today, partial=True):
            suggestions.append(
                Suggestion(
                    item.item.code, pick.batch_number, expiry[pick.batch_number], pick.quantity
                )
            )
    return suggestions


def _reserved_by_batch(store: LedgerStore, number: str) -> dict[tuple[int, int], int]:
    reserved: dict[tuple[int, int], int] = {}
    for row in store.open_reservations(number):
        pair = (row["item_id"], row["batch_id"])
        reserved[pair] = reserved.get(pair, 0) + row["remaining"]
    return reserved


def _candidates(
    store: LedgerStore,
    location: LocationEntry,
    item: ItemEntry,
    reserved: dict[tuple[int, int], int],
) -> list[tuple[BatchEntry, Candidate]]:
    """The batches at `location` with what this request may take of each."""
    ours = {batch_id: qty for (item_id, batch_id), qty in reserved.items() if item_id == item.id}
    return stock_candidates(store, location.id, item.id, ours)


def ship_request(
    store: LedgerStore, number: str, command: Ship, actor: int | None, today: dt.date
) -> Transaction:
    check_memo(command.memo)
    row = request_row(store, number, lock=True, action=RequestAction.ship)
    supplier = store.location_by_id(row.supplier_location_id)
    requester = store.location_by_id(row.requester_location_id)
    lines = {line.item_id: line for line in db.lines(store, row.id)}
    reserved = _reserved_by_batch(store, number)
    shipping = _Shipping(store, supplier, lines, reserved, today)
    for index, line in enumerate(command.lines):
        shipping.add(line, f"lines[{index}]")
    memo = command.memo or f"申领单 {number}"
    if shipping.overrides:
        memo = f"{memo}；未按近效期先出：{'；'.join(shipping.overrides)}"
    shipment_command = c.Issue(
        supplier.location.code,
        requester.location.code,
        tuple(shipping.issue_lines),
        command.occurred_on,
        check_composed_memo(memo, "改发原因"),
        reservation=number if reserved else None,
    )
    with store.approved_by(db.last_approver(store, row.id)):  # the approver's decision
        shipment = issue(store, shipment_command, today)
    store.flush()
    shipped = shipping.shipped
    for item_id, quantity in shipped.items():
        db.update_line(store, lines[item_id].id, issued=lines[item_id].issued + quantity)
    db.add_shipment(store, shipment.sequence, row.id)
    _trim_reservations(
        store,
        number,
        {i: (lines[i].approved or 0) - lines[i].issued - shipped.get(i, 0) for i in lines},
    )
    record_event(
        store,
        row.id,
        actor,
        RequestEventAction.shipped,
        {"shipment": shipment.number, "overrides": shipping.overrides},
    )
    return shipment


class _Shipping:
    """A shipment's lines as they are checked: against what is still to ship of each item, and
    a named batch against the FEFO order at the supplier."""

    def __init__(
        self,
        store: LedgerStore,
        supplier: LocationEntry,
        lines: dict[int, db.LineRow],
        reserved: dict[tuple[int, int], int],
        today: dt.date,
    ) -> None:
        self.store, self.supplier, self.lines = store, supplier, lines
        self.reserved, self.today = reserved, today
        self.issue_lines: list[c.LineSpec] = []
        self.overrides: list[str] = []
        self.shipped: dict[int, int] = {}  # item id → base units
        self.taken: dict[int, dict[str, int]] = {}  # by earlier named lines: item → batch → units

    def add(self, line: ShipLine, field: str) -> None:
        item = self.store.item(line.item_code, f"{field}.item_code")
        if item.id not in self.lines:
            raise LedgerError(
                Code.item_not_requested,
                f"申领单中没有 {item.item.name} (item not requested)",
                field,
            )
        quantity = base_units(item.item, line.quantity, line.unit, f"{field}.quantity")
        self.shipped[item.id] = self.shipped.get(item.id, 0) + quantity
        outstanding = (self.lines[item.id].approved or 0) - self.lines[item.id].issued
        if self.shipped[item.id] > outstanding:
            raise LedgerError(
                Code.exceeds_approved,
                f"{item.item.name} 待发 {outstanding}，本次 {self.shipped[item.id]} 超出 (more than approved)",
                f"{field}.quantity",
            )
        if line.batch_number is not None:
            self._check_fefo(item, line.batch_number, line.override_reason, quantity, field)
        self.issue_lines.append(c.LineSpec(item.item.code, quantity, line.batch_number))

    def _check_fefo(
        self, item: ItemEntry, batch_number: str, reason: str | None, quantity: int, field: str
    ) -> None:
        """An earlier batch than this one that this shipment does not already empty needs a
        reason (a batch FEFO cannot pick here is behind every batch that can)."""
        candidates = [c for _, c in _candidates(self.store, self.supplier, item, self.reserved)]
        chosen = next(
            (c for c in candidates if c.batch_number == batch_number and is_usable(c, self.today)),
            None,
        )
        ours = self.taken.setdefault(item.id, {})
        first = batch_ahead(candidates, chosen, self.today, ours)
        ours[batch_number] = ours.get(batch_number, 0) + quantity
        if first is None:
            return
        if not (reason or "").strip():
            raise LedgerError(
                Code.fefo_override_reason_required,
                f"{item.item.name} 应先发近效期批次 {first.batch_number}，改发 {batch_number} 须说明原因 "
                f"(a later batch than the FEFO suggestion needs a reason)",
                f"{field}.override_reason",
            )
        check_text(reason or "", f"{field}.override_reason", override_reason_length_max)
        self.overrides.append(f"{item.item.code}/{batch_number}: {reason}")


def _trim_reservations(store: LedgerStore, number: str, outstanding: dict[int, int]) -> None:
    """Keep no more reserved per item than is still to be shipped (the clerk may have shipped
    other batches than the reserved ones)."""
    held: dict[int, int] = {}
    for row in store.open_reservations(number):
        keep = max(0, outstanding.get(row["item_id"], 0) - held.get(row["item_id"], 0))
        remaining = min(row["remaining"], keep)
        held[row["item_id"]] = held.get(row["item_id"], 0) + remaining
        if remaining < row["remaining"]:
            key = AccountKey(row["location_id"], row["item_id"], row["batch_id"])
            store.change_reserved(key, remaining - row["remaining"])
            store.reduce_reservation(row["id"], remaining, released=True)


def confirm_shipment(
    store: LedgerStore, number: str, command: ConfirmShipment, actor: int | None, today: dt.date
) -> Transaction:
    row = request_row(store, number, lock=True, action=RequestAction.confirm)
    shipment = store.transaction_by_number(command.shipment_number, lock=True)
    if not db.shipment_of_request(store, shipment.sequence, row.id):
        raise LedgerError(
            Code.shipment_not_in_request,
            f"{command.shipment_number} 不是申领单 {number} 的发货单 (not a shipment of this request)",
            "shipment_number",
        )
    confirmation = confirm(
        store,
        c.Confirm(
            command.shipment_number,
            command.received,
            command.occurred_on,
            command.memo,
            shortage=command.shortage,
        ),
        today,
    )
    store.flush()
    db.set_confirmation(store, shipment.sequence, confirmation.sequence)
    _count_arrivals(store, row.id, confirmation)
    record_event(
        store,
        row.id,
        actor,
        RequestEventAction.received,
        {"shipment": command.shipment_number, "confirmation": confirmation.number},
    )
    if row.status == RequestStatus.approved and _everything_arrived(store, row.id):
        move(store, row, RequestAction.confirm, RequestStatus.closed)
        arrived = {"reason": "everything approved has arrived"}
        record_event(store, row.id, actor, RequestEventAction.closed, arrived)
    return confirmation


def _everything_arrived(store: LedgerStore, request_id: int) -> bool:
    lines = [(line.approved, line.issued) for line in db.lines(store, request_id)]
    return everything_arrived(lines, db.unconfirmed_shipments(store, request_id))


def _count_arrivals(store: LedgerStore, request_id: int, confirmation: Transaction) -> None:
    """Add what the confirmation brought in, and what it found short, to the request's lines."""
    arrived: dict[int, int] = {}
    short: dict[int, int] = {}
    for posting in confirmation.postings:
        if posting.quantity <= 0:
            continue
        item_id = store.item(posting.item_code).id
        target = short if posting.location_code == VirtualLocation.adjustment.value else arrived
        target[item_id] = target.get(item_id, 0) + posting.quantity
    for line in db.lines(store, request_id):
        if line.item_id in arrived or line.item_id in short:
            db.update_line(
                store,
                line.id,
                received=line.received + arrived.get(line.item_id, 0),
                short=line.short + short.get(line.item_id, 0),
            )
