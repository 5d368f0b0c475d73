"""Audit use cases: full verification of the stored ledger and the chain digest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import msgspec

from ledger.db import closes, queries
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database
from ledger.rules import Code, LedgerError
from ledger.services.requests import as_utc
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
    from_sequence: int = 0  # 0: from genesis; else the period close it started from
    since_period_end: dt.date | None = None


class PeriodClose(msgspec.Struct, frozen=True):
    """月结: the ledger closed through `period_end`, at chain position sequence / hash."""

    period_end: dt.date
    sequence: int
    hash: str
    accounts: int
    closed_at: dt.datetime


def _period_close(row: closes.CloseRow) -> PeriodClose:
    return PeriodClose(row.period_end, row.sequence, row.hash, row.accounts, as_utc(row.closed_at))


def close_period(
    store: LedgerStore, period_end: dt.date, actor: int | None, today: dt.date
) -> PeriodClose:
    """Close the books through `period_end`: record the chain head and every account's balance;
    from then on nothing may be posted on or before that day."""
    if period_end >= today:
        raise LedgerError(
            Code.invalid_field,
            f"只能对已结束的账期月结：{period_end} 尚未过去 (the period has not ended)",
            "period_end",
        )
    head = store.chain_head()  # held until commit: postings wait, then see the close
    last = store.closed_through()
    if last is not None and period_end <= last:
        raise LedgerError(
            Code.period_closed, f"已月结至 {last} (already closed through {last})", "period_end"
        )
    store.flush()
    return _period_close(closes.record_close(store, period_end, head[0], head[1], actor))


def period_closes(database: Database) -> list[PeriodClose]:
    with database.read() as connection:
        return [_period_close(row) for row in closes.closes(connection)]


def verify_ledger(
    database: Database,
    *,
    progress: Callable[[int], None] | None = None,
    since_close: bool = False,
) -> VerificationReport:
    """Re-check all six invariants over the whole stored ledger, from genesis — checking every
    period close on the way — or, with `since_close`, only what was posted after the last close,
    starting from its recorded chain head and balances."""
    with database.read(snapshot=True) as connection, connection.begin():
        head = queries.chain_digest(connection)
        recorded = closes.closes(connection)
        start = recorded[-1] if since_close and recorded else None
        if start is None:
            verifier = Verifier()
            pending = list(recorded)
        else:
            balances = closes.closing_balances(connection, start.id, touched_after=start.sequence)
            reversed_before = queries.reversals_through(connection, start.sequence)
            verifier = Verifier(start.sequence, start.hash, balances, reversed_before)
            pending = []
        after = start.sequence if start else 0

        def check_due() -> None:
            while pending and pending[0].sequence <= verifier.last_sequence:
                close = pending.pop(0)
                verifier.check_close(
                    close.period_end.isoformat(),
                    close.sequence,
                    close.hash,
                    closes.closing_balances(connection, close.id),
                )

        check_due()
        stream = queries.stored_transactions(connection, after=after)
        for number, transaction in enumerate(stream, start=1):
            verifier.feed(transaction)
            check_due()
            if progress is not None and number % 10_000 == 0:
                progress(10_000)
        if start is None:
            stored = queries.stored_balances(connection)
        else:  # accounts untouched since the close: only rows unlike the close need reading
            stored, unchanged = closes.balances_to_check(connection, start.id, start.sequence)
            verifier.assume_unchanged(unchanged)
        findings = verifier.finish(stored, head)
        findings += check_packs(queries.pack_totals(connection))
        findings += [
            Finding(
                5,
                "close_beyond_chain",
                f"period close {close.period_end} (#{close.sequence})",
                "the close names a chain position the ledger does not reach",
                str(close.sequence),
                str(verifier.last_sequence),
            )
            for close in pending
        ]
    return VerificationReport(
        ok=not findings,
        transactions_checked=verifier.transactions_checked,
        postings_checked=verifier.postings_checked,
        digest_sequence=head[0],
        digest_hash=head[1],
        findings=tuple(findings),
        from_sequence=after,
        since_period_end=start.period_end if start else None,
    )
