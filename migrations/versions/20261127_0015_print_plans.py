"""print-run plans (印制计划)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 07:00:00

- print_plans: a saved print-run plan for an item over an office's area down to a level: the
  coverage target (copies per N households, persons or places, coverage %), the spare kept at
  each level above, the household size, the pack; the total, the office's stock set against
  it and what to print. Never changed once saved.
- print_plan_lines: one row per place of a plan (tree order): what it gets in whole packs and
  its subtree's quantity, the weights of an allocation plan when the print run arrives.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "print_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("basis", sa.String(length=20), nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("per_units", sa.Integer(), nullable=False),
        sa.Column("coverage_percent", sa.SmallInteger(), nullable=False),
        sa.Column("spare_percent", sa.SmallInteger(), nullable=False),
        sa.Column("household_size_hundredths", sa.Integer(), nullable=False),
        sa.Column("pack_name", sa.String(length=10), nullable=False),
        sa.Column("pack_base_units", sa.Integer(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("deduct_stock", sa.Boolean(), nullable=False),
        sa.Column("on_hand", sa.BigInteger(), nullable=False),
        sa.Column("to_print", sa.BigInteger(), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("made_by", sa.Integer(), nullable=True),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "copies > 0 AND per_units > 0 AND coverage_percent BETWEEN 1 AND 100"
            " AND spare_percent BETWEEN 0 AND 100 AND pack_base_units > 0",
            name=op.f("ck_print_plans_terms"),
        ),
        sa.CheckConstraint(
            "total > 0 AND on_hand >= 0 AND to_print >= 0", name=op.f("ck_print_plans_figures")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_print_plans_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["locations.id"], name=op.f("fk_print_plans_office_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["made_by"], ["users.id"], name=op.f("fk_print_plans_made_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_print_plans")),
        sa.UniqueConstraint("number", name=op.f("uq_print_plans_number")),
    )
    op.create_index(op.f("ix_print_plans_office_id"), "print_plans", ["office_id"])
    op.create_table(
        "print_plan_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("target", sa.Boolean(), nullable=False),
        sa.Column("population", sa.BigInteger(), nullable=True),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("need", sa.BigInteger(), nullable=False),
        sa.Column("packs", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("subtree", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "units >= 0 AND need >= 0 AND packs >= 0", name=op.f("ck_print_plan_lines_counts")
        ),
        sa.CheckConstraint(
            "quantity >= 0 AND subtree >= quantity", name=op.f("ck_print_plan_lines_quantities")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["print_plans.id"], name=op.f("fk_print_plan_lines_plan_id_print_plans")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_print_plan_lines_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["locations.id"], name=op.f("fk_print_plan_lines_parent_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_print_plan_lines")),
        sa.UniqueConstraint(
            "plan_id", "location_id", name=op.f("uq_print_plan_lines_plan_id_location_id")
        ),
    )
    op.create_index(op.f("ix_print_plan_lines_plan_id"), "print_plan_lines", ["plan_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_print_plan_lines_plan_id"), table_name="print_plan_lines")
    op.drop_table("print_plan_lines")
    op.drop_index(op.f("ix_print_plans_office_id"), table_name="print_plans")
    op.drop_table("print_plans")
