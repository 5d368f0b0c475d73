"""The movement totals: per physical account, what moved in and out per transaction kind on each
day, in each month and in each year, and per location × item in each month and year, kept by
the posting path in the same database transaction as the postings (as balances are).
Re-exported by tables.py."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db.table_base import Base, table_of


class MovementTotalRow(Base):
    """The sum of |quantity| of the postings of one physical account, one transaction kind and
    one direction dated in one period: a day (grain 1, starts_on the day), a month (2, its first
    day) or a year (3, 1 January); see ledger/totals.py. The 收发存汇总表 adds a few sets of
    them for any range of days; `verify` recomputes them from the postings."""

    __tablename__ = "movement_totals"
    # The key leads with the period, so a set of totals is one range of the key, read in order
    # with the quantity beside it; batch last, as in close_movements: a summary by location ×
    # item reads a set's rows in the order it groups them.
    __table_args__ = (
        CheckConstraint("grain IN (1, 2, 3)", name="grain"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        {"sqlite_with_rowid": False},
    )
    grain: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    starts_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    # No foreign keys: the rows are sums of postings, whose keys are checked (as close_movements)
    location_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    incoming: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    batch_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    quantity: Mapped[int] = mapped_column(BigInteger)


class ItemMovementTotalRow(Base):
    """movement_totals of the months and years (grains 2 and 3) summed over batches: per
    physical location × item, what the 收发存汇总表 reads by default (a year's are an eighth of
    the rows of its accounts' at city scale; a day's are about as many either way)."""

    __tablename__ = "item_movement_totals"
    __table_args__ = (
        CheckConstraint("grain IN (2, 3)", name="grain"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        {"sqlite_with_rowid": False},
    )
    grain: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    starts_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    location_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    incoming: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger)


movement_totals = table_of(MovementTotalRow)
item_movement_totals = table_of(ItemMovementTotalRow)
