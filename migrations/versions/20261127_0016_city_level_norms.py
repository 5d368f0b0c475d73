"""level norms per city (库存定额 of one city's level)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27 07:10:00

- stock_norms.root_id: the city (root location) whose places of `level` a level norm is for;
  NULL keeps the earlier meaning, the places of that level in every city of the database. Only
  a level norm names a city (a location's norm is its city's already). Existing rows keep NULL. A
  downgrade is refused while a city's level norm exists (it would become every city's).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stock_norms") as batch:
        batch.add_column(sa.Column("root_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_stock_norms_root_id_locations"), "locations", ["root_id"], ["id"]
        )
        batch.create_check_constraint(
            op.f("ck_stock_norms_root_for_level"), "root_id IS NULL OR level IS NOT NULL"
        )


def downgrade() -> None:
    city_norms = (
        op.get_bind()
        .execute(sa.text("SELECT count(*) FROM stock_norms WHERE root_id IS NOT NULL"))
        .scalar()
    )
    if city_norms:
        raise RuntimeError(
            "cannot downgrade below 0016: some level norms are one city's, and the older schema "
            "would apply them to every city"
        )
    with op.batch_alter_table("stock_norms") as batch:
        batch.drop_constraint(op.f("ck_stock_norms_root_for_level"), type_="check")
        batch.drop_constraint(op.f("fk_stock_norms_root_id_locations"), type_="foreignkey")
        batch.drop_column("root_id")
