"""The print-run plans (印制计划) as saved: the plan's terms and one line per place, and the issues
made under each plan. A saved plan is never changed: a new plan is made instead. Re-exported by tables.py."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db.table_base import Base, table_of


class PrintPlanRow(Base):
    """A print-run plan: for `item_id`, over the area of `office_id` down to `level`, the
    target (`copies` base units for every `per_units` of `basis`, for `coverage_percent` of
    them), `spare_percent` kept at each level above, households of `household_size_hundredths`
    ÷ 100 persons, in whole packs of `pack_base_units` (`pack_name`); its `total`, the office's
    stock set against it (`on_hand`) and what to print (`to_print`), base units."""

    __tablename__ = "print_plans"
    __table_args__ = (
        CheckConstraint(
            "copies > 0 AND per_units > 0 AND coverage_percent BETWEEN 1 AND 100"
            " AND spare_percent BETWEEN 0 AND 100 AND pack_base_units > 0",
            name="terms",
        ),
        CheckConstraint("total > 0 AND on_hand >= 0 AND to_print >= 0", name="figures"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    office_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    level: Mapped[str] = mapped_column(String(20))
    basis: Mapped[str] = mapped_column(String(20))
    copies: Mapped[int] = mapped_column(Integer)
    per_units: Mapped[int] = mapped_column(Integer)
    coverage_percent: Mapped[int] = mapped_column(SmallInteger)
    spare_percent: Mapped[int] = mapped_column(SmallInteger)
    household_size_hundredths: Mapped[int] = mapped_column(Integer)
    pack_name: Mapped[str] = mapped_column(String(10))
    pack_base_units: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(BigInteger)
    deduct_stock: Mapped[bool] = mapped_column(Boolean)  # whether on_hand came off to_print
    on_hand: Mapped[int] = mapped_column(BigInteger)
    to_print: Mapped[int] = mapped_column(BigInteger)
    made_on: Mapped[dt.date] = mapped_column(Date)
    made_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    made_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class PrintPlanLineRow(Base):
    """One place of a saved plan, in tree order (`position`): its parent in the plan (None for
    the office), whether it is a target place, its population then, its units, need, packs,
    quantity and its subtree's quantity (base units)."""

    __tablename__ = "print_plan_lines"
    __table_args__ = (
        UniqueConstraint("plan_id", "location_id", name="uq_print_plan_lines_plan_id_location_id"),
        CheckConstraint("units >= 0 AND need >= 0 AND packs >= 0", name="counts"),
        CheckConstraint("quantity >= 0 AND subtree >= quantity", name="quantities"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("print_plans.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    level: Mapped[str] = mapped_column(String(20))
    target: Mapped[bool] = mapped_column(Boolean)
    population: Mapped[int | None] = mapped_column(BigInteger)
    units: Mapped[int] = mapped_column(BigInteger)
    need: Mapped[int] = mapped_column(BigInteger)
    packs: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(BigInteger)
    subtree: Mapped[int] = mapped_column(BigInteger)


class PrintPlanIssueRow(Base):
    """An issue (出库单) made under a saved plan: from `source_id` (a place of the plan) to
    `location_id` (a place of the plan right below it). Written in the database transaction
    that makes the issue; what has been shipped under a plan is these issues' quantities,
    less the reversed ones."""

    __tablename__ = "print_plan_issues"
    transaction_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("transactions.id"), primary_key=True, autoincrement=False
    )
    plan_id: Mapped[int] = mapped_column(ForeignKey("print_plans.id"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))


print_plans = table_of(PrintPlanRow)
print_plan_lines = table_of(PrintPlanLineRow)
print_plan_issues = table_of(PrintPlanIssueRow)
