"""movements per kind kept at each period close

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 02:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Every posting dated on or before a close's last day at a physical location, summed per
# account, transaction kind and direction (the same figures record_close keeps from now on).
BACKFILL = """
INSERT INTO close_movements (close_id, location_id, item_id, batch_id, kind, incoming, quantity)
SELECT :close_id, p.location_id, p.item_id, p.batch_id, t.kind, p.quantity > 0,
       SUM(ABS(p.quantity))
FROM transactions t
JOIN postings p ON p.transaction_id = t.id
JOIN locations l ON l.id = p.location_id
WHERE t.occurred_on > '0001-01-01' AND t.occurred_on <= :period_end AND l.physical
GROUP BY p.location_id, p.item_id, p.batch_id, t.kind, p.quantity > 0
"""
BY_ITEM = """
INSERT INTO close_item_movements (close_id, location_id, item_id, kind, incoming, quantity)
SELECT close_id, location_id, item_id, kind, incoming, SUM(quantity) FROM close_movements
WHERE close_id = :close_id GROUP BY close_id, location_id, item_id, kind, incoming
"""


def upgrade() -> None:
    # Only the close is a foreign key: the rows are sums of postings, whose keys are checked;
    # checking each again made a close several times slower on PostgreSQL.
    op.create_table(
        "close_movements",
        sa.Column("close_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("incoming", sa.Boolean(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["close_id"],
            ["period_closes.id"],
            name=op.f("fk_close_movements_close_id_period_closes"),
        ),
        sa.PrimaryKeyConstraint(
            "close_id",
            "location_id",
            "item_id",
            "kind",
            "incoming",
            "batch_id",
            name=op.f("pk_close_movements"),
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "close_item_movements",
        sa.Column("close_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("incoming", sa.Boolean(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["close_id"],
            ["period_closes.id"],
            name=op.f("fk_close_item_movements_close_id_period_closes"),
        ),
        sa.PrimaryKeyConstraint(
            "close_id",
            "location_id",
            "item_id",
            "kind",
            "incoming",
            name=op.f("pk_close_item_movements"),
        ),
        sqlite_with_rowid=False,
    )
    connection = op.get_bind()
    for close_id, period_end in connection.execute(
        sa.text("SELECT id, period_end FROM period_closes ORDER BY period_end")
    ).all():
        connection.execute(sa.text(BACKFILL), {"close_id": close_id, "period_end": period_end})
        connection.execute(sa.text(BY_ITEM), {"close_id": close_id})


def downgrade() -> None:
    op.drop_table("close_item_movements")
    op.drop_table("close_movements")
