"""movement totals per day, month and year for the period summary

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 03:30:00

- movement_totals: per physical account, transaction kind and direction, the sum of |quantity|
  of the postings dated in each day (grain 1), month (2) and year (3); kept by the posting path
  from now on, and computed here from the postings already stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = "grain, starts_on, location_id, item_id, kind, incoming, batch_id, quantity"
DAYS = f"""
INSERT INTO movement_totals ({COLUMNS})
SELECT 1, t.occurred_on, p.location_id, p.item_id, t.kind, p.quantity > 0, p.batch_id,
       SUM(ABS(p.quantity))
FROM postings p
JOIN transactions t ON t.id = p.transaction_id
JOIN locations l ON l.id = p.location_id
WHERE l.physical
GROUP BY t.occurred_on, p.location_id, p.item_id, t.kind, p.quantity > 0, p.batch_id
"""
# Each month's totals from its days, each year's from its months.
PERIODS = f"""
INSERT INTO movement_totals ({COLUMNS})
SELECT :grain, {{start}}, location_id, item_id, kind, incoming, batch_id, SUM(quantity)
FROM movement_totals WHERE grain = :within
GROUP BY {{start}}, location_id, item_id, kind, incoming, batch_id
"""
SQLITE_START = {
    "month": "substr(starts_on, 1, 8) || '01'",
    "year": "substr(starts_on, 1, 5) || '01-01'",
}
POSTGRESQL_START = {
    "month": "CAST(date_trunc('month', starts_on) AS DATE)",
    "year": "CAST(date_trunc('year', starts_on) AS DATE)",
}


def upgrade() -> None:
    # No foreign keys: the rows are sums of postings, whose keys are checked (as close_movements).
    op.create_table(
        "movement_totals",
        sa.Column("grain", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("location_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("incoming", sa.Boolean(), nullable=False),
        sa.Column("batch_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("grain IN (1, 2, 3)", name=op.f("ck_movement_totals_grain")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_movement_totals_quantity_positive")),
        sa.PrimaryKeyConstraint(
            "grain",
            "starts_on",
            "location_id",
            "item_id",
            "kind",
            "incoming",
            "batch_id",
            name=op.f("pk_movement_totals"),
        ),
        sqlite_with_rowid=False,
    )
    connection = op.get_bind()
    starts = SQLITE_START if connection.dialect.name == "sqlite" else POSTGRESQL_START
    connection.execute(sa.text(DAYS))
    for grain, within, period in ((2, 1, "month"), (3, 2, "year")):
        connection.execute(
            sa.text(PERIODS.format(start=starts[period])), {"grain": grain, "within": within}
        )


def downgrade() -> None:
    op.drop_table("movement_totals")
