"""Reading the operations log (操作日志): for the auditors of a root and for global admins."""

from __future__ import annotations

from ledger.db import oplog
from ledger.db.oplog import EVERY_ENTRY, LogEntry, LogFilter
from ledger.db.roots import root_count
from ledger.db.unit_of_work import Database
from ledger.limits import page_size_max
from ledger.rules import Code, LedgerError


def read_log(
    database: Database,
    root_code: str | None,
    wanted: LogFilter = EVERY_ENTRY,
    *,
    limit: int = 50,
    offset: int = 0,
) -> list[LogEntry]:
    """Entries newest first. root_code: the root whose entries to read; None reads every entry
    (global admins and the command line on the server). Entries tied to no city (a refused
    token, an item added) go with a city's entries only while the ledger holds that one city:
    with several, they are a global admin's."""
    if not 1 <= limit <= page_size_max + 1:
        raise LedgerError(
            Code.invalid_field, f"每页最多 {page_size_max} 条 (limit out of range)", "limit"
        )

    def work(store):
        root_id = store.location(root_code, "root").id if root_code is not None else None
        return oplog.read(
            store.connection,
            root_id=root_id,
            everything=root_code is None,
            with_unscoped=root_code is not None and root_count(store.connection) == 1,
            wanted=wanted,
            limit=limit,
            offset=offset,
        )

    return database.lookup(work)
