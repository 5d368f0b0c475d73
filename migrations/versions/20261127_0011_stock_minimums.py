"""stock minimums (最低库存) for the home page

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 00:11:00

- stock_minimums: per location and item, the least it should hold in base units (never
  negative), who set it and when; the home page (首页) lists the places holding less.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stock_minimums",
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("minimum", sa.BigInteger(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("minimum >= 0", name=op.f("ck_stock_minimums_minimum_not_negative")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_stock_minimums_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_stock_minimums_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["set_by"], ["users.id"], name=op.f("fk_stock_minimums_set_by_users")
        ),
        sa.PrimaryKeyConstraint("location_id", "item_id", name=op.f("pk_stock_minimums")),
    )


def downgrade() -> None:
    op.drop_table("stock_minimums")
