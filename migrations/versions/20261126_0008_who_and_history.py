"""who made each voucher, the operations log, versions of reference data, closes per root,
stocktake scope

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 16:20:00

- transactions: chain_version (existing rows keep version 1, the encoding without people),
  maker_id / approver_id / receiver_id (hashed from version 2 on);
- operations_log and reference_versions, append-only (triggers), with version 1 of every
  existing item, location, batch and user;
- period_closes.root_id: a close applies to one root's subtree (unique per root and day);
  existing closes are given the root when the ledger has exactly one, else stay global (NULL);
- stocktakes.subtree / location_codes: the scope of a count (existing counts were subtree-wide).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

from ledger.db.guards import HISTORY_TABLES, drop_guard_statements, guard_statements
from ledger.model import Batch, Item, ItemKind, Location, LocationLevel, Pack
from ledger.reference import batch_content, item_content, location_content, user_content

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    # A close belongs to one root: the unique day becomes unique per root and day. First, so
    # that on SQLite (see below) nothing of this revision is committed before it.
    with _rebuilding_referenced_table(dialect), op.batch_alter_table("period_closes") as batch:
        batch.add_column(sa.Column("root_id", sa.Integer(), nullable=True))
        batch.drop_constraint("uq_period_closes_period_end", type_="unique")
        batch.create_unique_constraint(
            batch.f("uq_period_closes_root_id"), ["root_id", "period_end"]
        )
        batch.create_foreign_key(
            batch.f("fk_period_closes_root_id_locations"), "locations", ["root_id"], ["id"]
        )
    op.add_column(
        "transactions",
        sa.Column("chain_version", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
    )
    for column in ("maker_id", "approver_id", "receiver_id"):
        op.add_column("transactions", sa.Column(column, sa.Integer(), nullable=True))

    op.create_table(
        "operations_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_key", sa.String(length=200), nullable=False),
        sa.Column("root_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["root_id"], ["locations.id"], name=op.f("fk_operations_log_root_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_operations_log_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operations_log")),
    )
    op.create_index(
        "ix_operations_log_root_id_id", "operations_log", ["root_id", "id"], unique=False
    )
    op.create_index(
        "ix_operations_log_object", "operations_log", ["object_type", "object_key"], unique=False
    )
    op.create_table(
        "reference_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reference_versions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_versions")),
        sa.UniqueConstraint(
            "object_type", "object_id", "version", name=op.f("uq_reference_versions_object_type")
        ),
    )
    op.create_table(
        "chain_versions",
        sa.Column("version", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("first_sequence", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_chain_versions")),
    )
    head = bind.execute(sa.text("SELECT sequence FROM chain_head WHERE id = 1")).scalar() or 0
    bind.execute(
        sa.text("INSERT INTO chain_versions (version, first_sequence) VALUES (1, 1), (2, :first)"),
        {"first": head + 1},
    )
    _first_versions(bind)
    for statement in guard_statements(dialect, HISTORY_TABLES):
        op.execute(statement)

    roots = bind.execute(
        sa.text("SELECT id FROM locations WHERE physical = :yes AND parent_id IS NULL"),
        {"yes": True},
    ).all()
    if len(roots) == 1:
        bind.execute(sa.text("UPDATE period_closes SET root_id = :root"), {"root": roots[0][0]})

    with op.batch_alter_table("stocktakes") as batch:
        batch.add_column(
            sa.Column("subtree", sa.Boolean(), server_default=sa.text("true"), nullable=False)
        )
        batch.add_column(
            sa.Column("location_codes", sa.Text(), server_default=sa.text("''"), nullable=False)
        )


def _first_versions(bind) -> None:
    """Version 1 of every item, location, batch and user, in force from the ledger's first
    day."""
    first_day = bind.execute(sa.text("SELECT MIN(occurred_on) FROM transactions")).scalar()
    if isinstance(first_day, str):
        first_day = dt.date.fromisoformat(first_day)
    valid_from = first_day or dt.datetime.now(dt.UTC).date()
    recorded_at = dt.datetime.now(dt.UTC)
    rows: list[dict] = []

    def version(object_type: str, object_id: int, content: str) -> None:
        rows.append(
            {
                "object_type": object_type,
                "object_id": object_id,
                "version": 1,
                "valid_from": valid_from,
                "recorded_at": recorded_at,
                "user_id": None,
                "content": content,
            }
        )

    packs: dict[int, list[Pack]] = {}
    for item_id, name, base_units in bind.execute(
        sa.text("SELECT item_id, name, base_units FROM item_packs ORDER BY item_id, position")
    ):
        packs.setdefault(item_id, []).append(Pack(name, base_units))
    items = {}
    for row in bind.execute(
        sa.text("SELECT id, code, name, kind, category, base_unit, expiry_tracked FROM items")
    ):
        item = Item(
            code=row.code,
            name=row.name,
            kind=ItemKind(row.kind),
            category=row.category,
            base_unit=row.base_unit,
            packs=tuple(packs.get(row.id, ())),
            expiry_tracked=bool(row.expiry_tracked),
        )
        items[row.id] = item
        version("item", row.id, item_content(item))
    for row in bind.execute(
        sa.text(
            "SELECT l.id, l.code, l.name, l.level, p.code AS parent_code FROM locations l "
            "LEFT OUTER JOIN locations p ON p.id = l.parent_id"
        )
    ):
        location = Location(row.code, row.name, LocationLevel(row.level), row.parent_code)
        version("location", row.id, location_content(location))
    for row in bind.execute(
        sa.text("SELECT id, item_id, number, produced_on, expires_on FROM batches")
    ):
        batch = Batch(
            items[row.item_id].code, row.number, _day(row.produced_on), _day(row.expires_on)
        )
        version("batch", row.id, batch_content(batch))
    for row in bind.execute(
        sa.text(
            "SELECT u.id, u.label, u.role, l.code FROM users u "
            "JOIN locations l ON l.id = u.location_id"
        )
    ):
        version("user", row.id, user_content(row.label, row.role, row.code))
    if rows:
        table = sa.table(
            "reference_versions",
            *(
                sa.column(name)
                for name in (
                    "object_type",
                    "object_id",
                    "version",
                    "valid_from",
                    "recorded_at",
                    "user_id",
                    "content",
                )
            ),
        )
        for start in range(0, len(rows), 5_000):
            bind.execute(sa.insert(table), rows[start : start + 5_000])


@contextmanager
def _rebuilding_referenced_table(dialect: str) -> Iterator[None]:
    """SQLite changes a table's constraints by copying it to a new table and dropping the old;
    with foreign keys on, dropping a table other rows refer to fails. SQLite's own procedure for
    this: commit, foreign keys off (a pragma that has no effect inside a transaction), rebuild,
    check every foreign key, commit, foreign keys on again."""
    if dialect != "sqlite":
        yield
        return
    op.execute("COMMIT")
    op.execute("PRAGMA foreign_keys = OFF")
    op.execute("BEGIN IMMEDIATE")
    try:
        yield
        broken = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"foreign keys broken by the rebuild: {broken[:5]}")
        op.execute("COMMIT")
    except BaseException:
        op.execute("ROLLBACK")
        raise
    finally:
        op.execute("PRAGMA foreign_keys = ON")
        op.execute("BEGIN IMMEDIATE")


def _day(value) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def downgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    # Before 0008 a close applied to the whole ledger, one per day: a ledger with several
    # cities, or with two cities' closes on one day, cannot go back without changing what its
    # closes mean. Refused before anything is touched.
    roots = bind.execute(
        sa.text("SELECT COUNT(*) FROM locations WHERE physical = :yes AND parent_id IS NULL"),
        {"yes": True},
    ).scalar()
    shared_days = bind.execute(
        sa.text(
            "SELECT COUNT(*) FROM (SELECT period_end FROM period_closes "
            "GROUP BY period_end HAVING COUNT(*) > 1) AS days"
        )
    ).scalar()
    if roots > 1 or shared_days:
        raise RuntimeError(
            "cannot downgrade below 0008: the ledger holds several cities (roots) or closes of "
            "several cities on one day, which the older schema cannot tell apart"
        )
    # First, as in upgrade(): on SQLite it commits what ran before it.
    with _rebuilding_referenced_table(dialect), op.batch_alter_table("period_closes") as batch:
        batch.drop_constraint("fk_period_closes_root_id_locations", type_="foreignkey")
        batch.drop_constraint("uq_period_closes_root_id", type_="unique")
        batch.create_unique_constraint("uq_period_closes_period_end", ["period_end"])
        batch.drop_column("root_id")
    with op.batch_alter_table("stocktakes") as batch:
        batch.drop_column("location_codes")
        batch.drop_column("subtree")
    for statement in drop_guard_statements(dialect, HISTORY_TABLES, drop_function=False):
        op.execute(statement)
    op.drop_table("reference_versions")
    op.drop_table("chain_versions")
    op.drop_index("ix_operations_log_object", table_name="operations_log")
    op.drop_index("ix_operations_log_root_id_id", table_name="operations_log")
    op.drop_table("operations_log")
    for column in ("receiver_id", "approver_id", "maker_id", "chain_version"):
        op.drop_column("transactions", column)
