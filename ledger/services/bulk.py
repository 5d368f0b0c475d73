"""Many movements at once, for building big ledgers fast (the synthetic city, benchmarks).

`load_in_bulk` posts the commands through the bulk loader (`ledger.db.bulk`): the same journal,
posting engine, numbering, period check and hash chain as the use cases, so the ledger is the
one `execute_many` would have written, without the per-command checks and reads. It starts
only on an empty ledger (reference data may be there) and writes no pack labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ledger.db.bulk import BulkLoader
from ledger.db.unit_of_work import Database


def load_in_bulk(database: Database, batches: Iterable[Sequence[Any]]) -> int:
    """Post every batch of commands, in order, in one database transaction committed at the
    end. Returns the transactions written."""
    loader = BulkLoader(database)
    for commands in batches:
        loader.add(commands)
    return loader.finish()
