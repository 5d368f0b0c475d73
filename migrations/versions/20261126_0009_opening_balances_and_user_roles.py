"""opening balances (期初) and several roles per user

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 18:30:00

- the virtual location `opening` (期初): an office's stock on its shelves on the day it starts
  the ledger (建账) comes from it, in transactions of their own kind (`opening`, QC-numbered);
- locations.population (人口, optional): the default weight of an allocation plan's share;
- user_roles: the roles a user holds at its location besides `users.role` (its first role),
  e.g. a county clerk who also approves.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from ledger.db.guards import drop_guard_statements, guard_statements
from ledger.model import Location, LocationLevel
from ledger.reference import location_content

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OPENING = ("opening", "期初")


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("locations", sa.Column("population", sa.BigInteger(), nullable=True))
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'clerk', 'requester', 'approver', 'auditor')",
            name=op.f("ck_user_roles_role"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_user_roles")),
    )
    code, name = OPENING
    bind.execute(
        sa.text(
            "INSERT INTO locations (code, name, level, physical, parent_id, path) "
            "VALUES (:code, :name, 'virtual', :no, NULL, :path)"
        ),
        {"code": code, "name": name, "no": False, "path": f"/{code}/"},
    )
    location_id = bind.execute(
        sa.text("SELECT id FROM locations WHERE code = :code"), {"code": code}
    ).scalar_one()
    # Version 1 of the new location, like every location's since 0008.
    first_day = bind.execute(sa.text("SELECT MIN(occurred_on) FROM transactions")).scalar()
    if isinstance(first_day, str):
        first_day = dt.date.fromisoformat(first_day)
    bind.execute(
        sa.text(
            "INSERT INTO reference_versions "
            "(object_type, object_id, version, valid_from, recorded_at, user_id, content) "
            "VALUES ('location', :id, 1, :valid_from, :recorded_at, NULL, :content)"
        ),
        {
            "id": location_id,
            "valid_from": first_day or dt.datetime.now(dt.UTC).date(),
            "recorded_at": dt.datetime.now(dt.UTC),
            "content": location_content(Location(code, name, LocationLevel.virtual)),
        },
    )


def downgrade() -> None:
    bind = op.get_bind()
    # Before 0009 there was no opening kind and one role per user: a ledger that uses either
    # cannot go back without losing what they say. Refused before anything is touched.
    openings = bind.execute(
        sa.text("SELECT COUNT(*) FROM transactions WHERE kind = 'opening'")
    ).scalar()
    extra_roles = bind.execute(sa.text("SELECT COUNT(*) FROM user_roles")).scalar()
    if openings or extra_roles:
        raise RuntimeError(
            "cannot downgrade below 0009: the ledger holds opening balances (期初) or users "
            "with several roles, which the older schema cannot hold"
        )
    # The virtual location has no postings (no opening transaction): it goes, with its
    # version, so that the ledger is as 0008 left it. reference_versions is append-only; its
    # guard is lifted for this one statement of schema surgery and put back.
    dialect = bind.dialect.name
    guarded = ("reference_versions",)
    for statement in drop_guard_statements(dialect, guarded, drop_function=False):
        op.execute(statement)
    bind.execute(
        sa.text(
            "DELETE FROM reference_versions WHERE object_type = 'location' AND object_id IN "
            "(SELECT id FROM locations WHERE code = :code)"
        ),
        {"code": OPENING[0]},
    )
    for statement in guard_statements(dialect, guarded):
        op.execute(statement)
    bind.execute(sa.text("DELETE FROM locations WHERE code = :code"), {"code": OPENING[0]})
    op.drop_table("user_roles")
    with op.batch_alter_table("locations") as batch:
        batch.drop_column("population")
