"""The home page's to-do lists (首页·待办): what waits for a user in its subtree, read in one
read transaction with one query per list (no query per row: names come from the catalog).

Which lists a user sees, and whether it reads them as the people of its own place or as an
admin over its whole subtree, is the caller's decision (api/policy.py's rules of reach); this
module reads what it is asked for.

The lists (`WorkAsk.lists` holds their names):
- approve: submitted requests from places under `under` (not `own_code`'s own);
- ship: approved requests with something left to ship, supplied by `own_code` (or from under
  `under` when `own_code` is None);
- confirm: shipments not yet confirmed, addressed to `own_code` (or to places under `under`);
- stocktakes: stocktakes counting or closed at places under `under`;
- scans: scan documents left open at places under `under`;
- expiring: stock of batches expiring within `near_days` days (or expired), as the near-expiry
  report lists it;
- below_minimum: places holding less of an item than its minimum (最低库存);
- transit: shipments from or to the subtree in transit for more than `transit_days` days.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from ledger.db import report_queries, scans, work_queries
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database
from ledger.model import Item, Location
from ledger.services.kept import kept

LISTS = (
    "approve",
    "ship",
    "confirm",
    "stocktakes",
    "scans",
    "expiring",
    "below_minimum",
    "transit",
)
SHOWN = 20  # rows a list shows; `more` says when there are others


class WorkAsk(NamedTuple):
    """under: the subtree (a path prefix; None: everywhere). own_code: the user's place, whose
    people approve (not its own requests), ship and confirm; None: an admin's reading of every
    place under `under`."""

    under: str | None
    lists: frozenset[str]
    own_code: str | None
    near_days: int
    transit_days: int


class RequestEntry(NamedTuple):
    number: str
    requester: Location
    supplier: Location
    updated_at: dt.datetime
    lines: int


class ShipmentLine(NamedTuple):
    item: Item
    batch_number: str
    quantity: int


class ShipmentEntry(NamedTuple):
    number: str
    shipped_on: dt.date
    source: Location
    destination: Location
    days: int  # in transit so far
    lines: tuple[ShipmentLine, ...]


class StocktakeEntry(NamedTuple):
    number: str
    location: Location
    status: str
    cut_off: dt.date
    created_at: dt.datetime


class ScanEntry(NamedTuple):
    id: int
    purpose: str
    location: Location
    created_at: dt.datetime
    memo: str
    request_number: str | None


class ExpiryEntry(NamedTuple):
    location: Location
    item: Item
    batch_number: str
    expires_on: dt.date
    days_left: int
    on_hand: int


class MinimumEntry(NamedTuple):
    location: Location
    item: Item
    minimum: int
    on_hand: int


class WorkList(NamedTuple):
    entries: tuple[Any, ...]
    more: bool  # more than the entries shown


def work_lists(database: Database, ask: WorkAsk, today: dt.date) -> dict[str, WorkList]:
    """The lists `ask` names, each its first SHOWN entries, by name."""
    moving = in_transit(database) if {"confirm", "transit"} & ask.lists else {}
    return database.lookup(lambda store: _read(store, ask, today, moving))


def in_transit(database: Database) -> dict[int, work_queries.Shipment]:
    """Every shipment in transit (as the in-transit report counts them), by transaction id:
    kept between readings and brought forward by later transactions (ledger/services/kept.py),
    as finding them among every shipment ever made reads the whole ledger."""
    return kept(database, ("in-transit",), _transit_afresh, _transit_forward)


def _transit_afresh(connection) -> dict[int, work_queries.Shipment]:
    return work_queries.shipments(connection, work_queries.unconfirmed_shipment_ids(connection))


def _transit_forward(
    connection, value: dict[int, work_queries.Shipment], after: int, through: int
) -> dict[int, work_queries.Shipment]:
    """What is in transit after the transactions after `after`: a shipment goes out, a
    confirmation or a reversal of the shipment takes it off, a reversal of its confirmation
    puts it back."""
    found, wanted = dict(value), set()
    for change in work_queries.changes_after(connection, after, through):
        if change.kind in work_queries.SHIPPING:
            wanted.add(change.id)
            continue
        gone = back = None
        if change.kind == "confirmation":
            gone = change.shipment_id
        elif change.reversed_kind in work_queries.SHIPPING:
            gone = change.reverses_id
        elif change.reversed_kind == "confirmation":
            back = change.reversed_shipment_id
        if gone is not None:
            found.pop(gone, None)
            wanted.discard(gone)
        if back is not None:
            wanted.add(back)
    found.update(work_queries.shipments(connection, sorted(wanted)))
    return found


def _cut(rows: list, entry) -> WorkList:
    return WorkList(tuple(entry(row) for row in rows[:SHOWN]), len(rows) > SHOWN)


def _read(
    store: LedgerStore, ask: WorkAsk, today: dt.date, moving: dict[int, work_queries.Shipment]
) -> dict[str, WorkList]:
    connection, found = store.connection, {}
    own = store.location(ask.own_code).id if ask.own_code is not None else None

    def place(location_id: int) -> Location:
        return store.location_by_id(location_id).location

    def request(row: work_queries.RequestDue) -> RequestEntry:
        return RequestEntry(
            row.number, place(row.requester_id), place(row.supplier_id), row.updated_at, row.lines
        )

    if "approve" in ask.lists:
        due = work_queries.requests_to_approve(connection, ask.under, own, SHOWN + 1)
        found["approve"] = _cut(due, request)
    if "ship" in ask.lists:
        due = work_queries.requests_to_ship(connection, ask.under, own, SHOWN + 1)
        found["ship"] = _cut(due, request)
    if "stocktakes" in ask.lists:
        counts = work_queries.open_stocktakes(connection, ask.under, SHOWN + 1)
        found["stocktakes"] = _cut(
            counts,
            lambda row: StocktakeEntry(
                row.number, place(row.location_id), row.status, row.cut_off, row.created_at
            ),
        )
    if "scans" in ask.lists:
        documents = scans.documents(store, ask.under, "open", SHOWN + 1, 0)
        found["scans"] = _cut(
            documents,
            lambda row: ScanEntry(
                row.id,
                row.purpose,
                place(row.location_id),
                row.created_at,
                row.memo,
                row.request_number,
            ),
        )
    if "expiring" in ask.lists:
        until = today + dt.timedelta(days=ask.near_days)
        expiring = report_queries.expiring(connection, ask.under or "/", until)
        found["expiring"] = _cut(expiring, lambda row: _expiry(store, row, today))
    if "below_minimum" in ask.lists:
        below = work_queries.below_minimum(connection, ask.under, SHOWN + 1)
        found["below_minimum"] = _cut(
            below,
            lambda row: MinimumEntry(
                place(row.location_id), store.item_by_id(row.item_id).item, row.minimum, row.on_hand
            ),
        )
    if {"confirm", "transit"} & ask.lists:
        found.update(_shipments(store, ask, own, today, moving))
    return found


def _expiry(store: LedgerStore, row: tuple, today: dt.date) -> ExpiryEntry:
    location_id, item_id, batch_id, on_hand, expires_on = row
    return ExpiryEntry(
        store.location_by_id(location_id).location,
        store.item_by_id(item_id).item,
        store.batch_by_id(batch_id).batch.number,
        expires_on,
        (expires_on - today).days,
        on_hand,
    )


def _shipments(
    store: LedgerStore,
    ask: WorkAsk,
    own_id: int | None,
    today: dt.date,
    moving: dict[int, work_queries.Shipment],
) -> dict[str, WorkList]:
    """Shipments waiting for confirmation, and those in transit too long, of what is in
    transit from or to the subtree; oldest first."""
    store.cache_locations(
        ids={s.source_id for s in moving.values()} | {s.destination_id for s in moving.values()}
    )
    to_confirm: list[ShipmentEntry] = []
    overdue: list[ShipmentEntry] = []
    for shipment in sorted(moving.values(), key=lambda s: (s.occurred_on, s.id)):
        source = store.location_by_id(shipment.source_id)
        destination = store.location_by_id(shipment.destination_id)
        if ask.under is not None and not (
            source.path.startswith(ask.under) or destination.path.startswith(ask.under)
        ):
            continue
        mine = (
            shipment.destination_id == own_id
            if own_id is not None
            else ask.under is None or destination.path.startswith(ask.under)
        )
        days = (today - shipment.occurred_on).days
        if not mine and days <= ask.transit_days:
            continue
        entry = ShipmentEntry(
            shipment.number,
            shipment.occurred_on,
            source.location,
            destination.location,
            days,
            tuple(
                ShipmentLine(
                    store.item_by_id(item_id).item,
                    store.batch_by_id(batch_id).batch.number,
                    quantity,
                )
                for item_id, batch_id, quantity in shipment.lines
            ),
        )
        if mine:
            to_confirm.append(entry)
        if days > ask.transit_days:
            overdue.append(entry)
    found = {}
    if "confirm" in ask.lists:
        found["confirm"] = _cut(to_confirm, lambda entry: entry)
    if "transit" in ask.lists:
        found["transit"] = _cut(overdue, lambda entry: entry)
    return found
