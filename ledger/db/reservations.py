"""The reservations repository: stock set aside for a request (预留), buffered and written by
`flush`. Reserving changes the account's `reserved` through the accounts repository."""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select, update

from ledger.db import tables as t
from ledger.db.accounts import Accounts
from ledger.db.session import Session
from ledger.model import AccountKey, ReservationStatus


class Reservations:
    def __init__(self, session: Session, accounts: Accounts) -> None:
        self.session = session
        self.accounts = accounts
        self.inserts: list[dict] = []
        self.updates: dict[int, dict] = {}

    def open(self, reference: str, location_id: int | None = None) -> list[dict]:
        """The open reservations of `reference` (at `location_id`), oldest first."""
        self.session.flush()
        r = t.reservations.c
        query = select(r.id, r.location_id, r.item_id, r.batch_id, r.remaining).where(
            r.reference == reference, r.status == ReservationStatus.open
        )
        if location_id is not None:
            query = query.where(r.location_id == location_id)
        return [row._asdict() for row in self.session.connection.execute(query.order_by(r.id))]

    def add(self, reference: str, key: AccountKey, quantity: int) -> None:
        self.accounts.change_reserved(key, quantity)
        self.inserts.append(
            {
                "reference": reference,
                "location_id": key.location_id,
                "item_id": key.item_id,
                "batch_id": key.batch_id,
                "quantity": quantity,
                "remaining": quantity,
                "status": ReservationStatus.open,
                "created_at": self.session.recorded_at,
            }
        )

    def reduce(self, reservation_id: int, remaining: int, released: bool) -> None:
        """What is left of a reservation after an issue consumed or a release freed part."""
        if remaining:
            status = ReservationStatus.open
        else:
            status = ReservationStatus.released if released else ReservationStatus.consumed
        self.updates[reservation_id] = {
            "r_id": reservation_id,
            "remaining": remaining,
            "status": status,
        }

    def flush(self) -> None:
        connection = self.session.connection
        if self.inserts:
            connection.execute(insert(t.reservations), self.inserts)
            self.inserts = []
        if self.updates:
            r = t.reservations.c
            connection.execute(
                update(t.reservations).where(r.id == bindparam("r_id")),
                list(self.updates.values()),
            )
            self.updates = {}
