"""Audit use cases: full verification of the stored ledger and the chain digest."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from ledger.db import queries
from ledger.db.unit_of_work import Database
from ledger.verify import Finding, Verifier, check_packs


class VerificationReport(msgspec.Struct, frozen=True):
    """What `verify` found: ok when there are no findings.

    digest_sequence / digest_hash: the chain head that was verified; anyone holding them can
    later prove that nothing up to that point changed.
    """

    ok: bool
    transactions_checked: int
    postings_checked: int
    digest_sequence: int
    digest_hash: str
    findings: tuple[Finding, ...]


def verify_ledger(
    database: Database, progress: Callable[[int], None] | None = None
) -> VerificationReport:
    """Re-check all six invariants over the whole stored ledger, from genesis."""
    verifier = Verifier()
    with database.read(snapshot=True) as connection, connection.begin():
        head = queries.chain_digest(connection)
        for number, transaction in enumerate(queries.stored_transactions(connection), start=1):
            verifier.feed(transaction)
            if progress is not None and number % 10_000 == 0:
                progress(10_000)
        findings = verifier.finish(queries.stored_balances(connection), head)
        findings += check_packs(queries.pack_totals(connection))
    return VerificationReport(
        ok=not findings,
        transactions_checked=verifier.transactions_checked,
        postings_checked=verifier.postings_checked,
        digest_sequence=head[0],
        digest_hash=head[1],
        findings=tuple(findings),
    )
