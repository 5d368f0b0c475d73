"""stock norms (库存定额) and the suggested quantity of a request line

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 06:00:00

- stock_norms: dated minimum and maximum stock in months of consumption, for a level of the
  tree (all its places, every item) or for one location (every item, or one item); rows are
  only ever added: the norm in force on a day is the newest row valid from it or before.
- allocation_request_lines.suggested: the suggested request quantity (base units) the ledger
  computed when the line was written, kept beside the asked quantity for the approver.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stock_norms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=True),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("min_months", sa.SmallInteger(), nullable=False),
        sa.Column("max_months", sa.SmallInteger(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(level IS NULL) <> (location_id IS NULL)", name=op.f("ck_stock_norms_scope")
        ),
        sa.CheckConstraint(
            "level IS NULL OR item_id IS NULL", name=op.f("ck_stock_norms_level_all_items")
        ),
        sa.CheckConstraint(
            "min_months >= 0 AND max_months >= min_months AND max_months > 0",
            name=op.f("ck_stock_norms_months"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_stock_norms_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_stock_norms_location_id_locations")
        ),
        sa.ForeignKeyConstraint(["set_by"], ["users.id"], name=op.f("fk_stock_norms_set_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_norms")),
    )
    with op.batch_alter_table("allocation_request_lines") as batch:
        batch.add_column(sa.Column("suggested", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("allocation_request_lines") as batch:
        batch.drop_column("suggested")
    op.drop_table("stock_norms")
