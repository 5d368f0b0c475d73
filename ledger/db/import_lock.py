"""One spreadsheet import at a time: an import takes this lock at the start of its database
transaction, before it reads what the ledger holds to plan its writes, so that a second import
of the same file (a double-click, a retried upload without an Idempotency-Key) plans on the
first one's committed rows — its openings come back as skipped, its locations and items as
unchanged — instead of being refused as a conflicting opening.

PostgreSQL: a transaction-level advisory lock (released at commit or rollback; READ COMMITTED
gives each later statement a snapshot that includes what the previous holder committed).
SQLite: nothing to do, a write transaction already holds the database (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from sqlalchemy import text

from ledger.db.store import LedgerStore

IMPORT_LOCK_KEY = 0x6C65_6467_6572_01  # 'ledger' + 1: the imports' advisory lock


def hold_import_lock(store: LedgerStore) -> None:
    """Wait until no other import's transaction is open, and keep the lock to this one's end."""
    if store.connection.dialect.name == "postgresql":
        store.connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY}
        )
