"""The stock norms (库存定额): dated minimum and maximum stock in months of consumption, for a
level of the tree or one location (one item, or every item). Re-exported by tables.py."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db.table_base import Base, table_of


class StockNormRow(Base):
    """One norm as set: for `level` (every place of that level, every item; with `root_id`
    only those of that city, the root location, else those of every city) or for
    `location_id` (with `item_id`, one item; without, every item), valid from `valid_from`.
    Rows are only added: the norm in force on a day is the newest row (by valid_from, then id)
    valid on it; each row's setting is in the operations log too (stock_norm.set)."""

    __tablename__ = "stock_norms"
    __table_args__ = (
        CheckConstraint("(level IS NULL) <> (location_id IS NULL)", name="scope"),
        CheckConstraint("level IS NULL OR item_id IS NULL", name="level_all_items"),
        CheckConstraint("root_id IS NULL OR level IS NOT NULL", name="root_for_level"),
        CheckConstraint(
            "min_months >= 0 AND max_months >= min_months AND max_months > 0", name="months"
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[str | None] = mapped_column(String(20))
    root_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    min_months: Mapped[int] = mapped_column(SmallInteger)
    max_months: Mapped[int] = mapped_column(SmallInteger)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


stock_norms = table_of(StockNormRow)
