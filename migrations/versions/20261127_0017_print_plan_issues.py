"""issues made under a print-run plan (印制计划的出库单)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27 08:00:00

- print_plan_issues: one row per issue (出库单) made under a saved print-run plan: the plan, the
  source and the place right below it the issue went to, written in the database transaction
  of the issue. What has been shipped under a plan to a place is these issues' quantities less
  the reversed ones, so an allocation from the plan proposes only what is still due. Plans
  applied before this revision have no rows (their issues were not linked).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "print_plan_issues",
        sa.Column("transaction_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_print_plan_issues_transaction_id_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["print_plans.id"], name=op.f("fk_print_plan_issues_plan_id_print_plans")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["locations.id"], name=op.f("fk_print_plan_issues_source_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_print_plan_issues_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("transaction_id", name=op.f("pk_print_plan_issues")),
    )
    op.create_index(op.f("ix_print_plan_issues_plan_id"), "print_plan_issues", ["plan_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_print_plan_issues_plan_id"), table_name="print_plan_issues")
    op.drop_table("print_plan_issues")
