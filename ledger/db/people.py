"""Who makes the vouchers of a unit of work, and how a voucher names a user."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from ledger.chain import CHAIN_VERSION_CURRENT
from ledger.db import versions

UNKNOWN_PERSON = "未知"  # the people on a voucher recorded before they were kept (version 1)
NO_USER = "命令行"  # a voucher made from the command line or a loader, by no signed-in user
# A user's current label, straight to the driver (every answer to a posting names its maker).
USER_LABEL = {
    True: "SELECT label FROM users WHERE id = ?",
    False: "SELECT label FROM users WHERE id = %s",
}


class People:
    """The maker of every voucher of this unit of work (None: the command line), the approver a
    flow names for the vouchers it posts (see `approved_by`), the ledger clock's day when a use
    case gave it, and the users' labels read so far."""

    def __init__(self, connection: Connection, maker_id: int | None = None) -> None:
        self.connection = connection
        self.maker_id = maker_id
        self.approver_id: int | None = None
        self.today: dt.date | None = None
        self.labels: dict[int, str] = {}
        self.qmark = connection.dialect.paramstyle == "qmark"
        self.label_versions: dict[int, list[tuple[dt.date, str]]] = {}

    def acting(self, user_id: int | None, today: dt.date | None = None) -> None:
        """Make the vouchers as `user_id` (None keeps the maker: a use case joined inside
        another keeps the outer user), on the ledger's `today` (its clock's)."""
        if user_id is not None:
            self.maker_id = user_id
        if today is not None:
            self.today = today

    @contextmanager
    def approved_by(self, approver_id: int | None) -> Iterator[None]:
        """Vouchers posted inside the block name `approver_id` as their approver (审核人)."""
        previous, self.approver_id = self.approver_id, approver_id
        try:
            yield
        finally:
            self.approver_id = previous

    def user_label(
        self,
        user_id: int | None,
        chain_version: int = CHAIN_VERSION_CURRENT,
        on: dt.date | None = None,
    ) -> str:
        """How a voucher names a user: the label of the user's version in force on `on` (the
        voucher's date; the first version for a day before it), the current label without a
        day; 未知 on version 1 vouchers. A user relabelled later keeps its old name on the
        vouchers it made before."""
        if user_id is None:
            return UNKNOWN_PERSON if chain_version < 2 else NO_USER
        if on is not None:
            labels = self.label_versions.get(user_id)
            if labels is None:
                labels = self.label_versions[user_id] = versions.user_labels(
                    self.connection, user_id
                )
            if labels:
                in_force = [label for valid_from, label in labels if valid_from <= on]
                return in_force[-1] if in_force else labels[0][1]
        label = self.labels.get(user_id)
        if label is None:
            label = self.connection.exec_driver_sql(USER_LABEL[self.qmark], (user_id,)).scalar()
            label = self.labels[user_id] = label if label is not None else f"#{user_id}"
        return label
