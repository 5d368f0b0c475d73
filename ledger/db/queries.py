"""Read queries, by area: balances (balance_queries.py), the journal (journal_queries.py),
reference-data listings (reference_queries.py), and reads straight from the driver
(raw_reads.py). Reads never lock and never write.

This module names them all in one place for the callers written before the split; new code
imports from the module of its area.
"""

from __future__ import annotations

from ledger.db.balance_queries import (
    BalanceLine,
    PackTotals,
    account_balance_as_of,
    balances,
    balances_from_postings,
    balances_from_running,
    open_reservations,
    pack_totals,
    stored_balance_totals,
    stored_balances,
)
from ledger.db.journal_queries import (
    chain_digest,
    chain_version_starts,
    checkpoint_head,
    counts,
    reversals_through,
    stored_transactions,
    transaction_sequences,
    user_ids,
)
from ledger.db.raw_reads import account_codes, driver_tuples
from ledger.db.reference_queries import (
    LocationRecord,
    batch_keys,
    item_codes,
    locations,
    populations,
)

__all__ = [
    "BalanceLine",
    "LocationRecord",
    "PackTotals",
    "account_balance_as_of",
    "account_codes",
    "balances",
    "balances_from_postings",
    "balances_from_running",
    "batch_keys",
    "chain_digest",
    "chain_version_starts",
    "checkpoint_head",
    "counts",
    "driver_tuples",
    "item_codes",
    "locations",
    "open_reservations",
    "pack_totals",
    "populations",
    "reversals_through",
    "stored_balance_totals",
    "stored_balances",
    "stored_transactions",
    "transaction_sequences",
    "user_ids",
]
