"""month and year movement totals per location × item

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 07:00:00

- item_movement_totals: movement_totals of the months and years (grains 2 and 3) summed over
  batches, per physical location × item, kind and direction; what the 收发存汇总表 by location
  × item reads. Kept by the posting path from now on, and summed here from the totals stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BACKFILL = """
INSERT INTO item_movement_totals (grain, starts_on, location_id, item_id, kind, incoming, quantity)
SELECT grain, starts_on, location_id, item_id, kind, incoming, SUM(quantity)
FROM movement_totals WHERE grain IN (2, 3)
GROUP BY grain, starts_on, location_id, item_id, kind, incoming
"""


def upgrade() -> None:
    op.create_table(
        "item_movement_totals",
        sa.Column("grain", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("location_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("incoming", sa.Boolean(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("grain IN (2, 3)", name=op.f("ck_item_movement_totals_grain")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_item_movement_totals_quantity_positive")),
        sa.PrimaryKeyConstraint(
            "grain",
            "starts_on",
            "location_id",
            "item_id",
            "kind",
            "incoming",
            name=op.f("pk_item_movement_totals"),
        ),
        sqlite_with_rowid=False,
    )
    op.get_bind().execute(sa.text(BACKFILL))


def downgrade() -> None:
    op.drop_table("item_movement_totals")
