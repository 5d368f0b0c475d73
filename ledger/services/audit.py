"""Audit use cases: full verification of the stored ledger, the chain digest, period closes.

Roots are separate ledgers in one database. A period close (月结) is made for one root (a city:
a location without parent) and closes its subtree only. Verification covers the whole ledger,
or — for a root's auditor — one root: the hash chain is one for the whole database, so every
transaction is read, but only the root's own transactions and accounts are checked and named
(see `Verifier`'s scope), and what is wrong with other roots' transactions is only counted.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import msgspec

from ledger.db import balance_queries, closes, journal_queries, oplog
from ledger.db.journal_columns import ColumnsUnavailable, SnapshotMoved
from ledger.db.moments import as_utc
from ledger.db.store import LedgerStore
from ledger.db.unit_of_work import Database
from ledger.history import Checkpoint, check_packs, format_checkpoint
from ledger.posting import in_closed_period
from ledger.rules import Code, LedgerError
from ledger.services.history_checks import history_findings
from ledger.services.total_findings import movement_total_findings
from ledger.services.verify_fast import FastPass
from ledger.services.work import day
from ledger.verify import Finding, Verifier
from ledger.verify_journal import UnusualColumns
from ledger.verify_records import StoredBalance

if TYPE_CHECKING:
    from sqlalchemy import Connection  # the read connection ledger.db hands out

SNAPSHOT_TRIES = 3  # fast verifications started again when a write lands between two readers


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
    # The root (city) verified: its own transactions and the accounts at its locations, the
    # chain through every root's; None: the whole ledger.
    root_code: str | None = None
    # The verified head as a checkpoint to keep outside the database (`N:HASH`, 16 hex
    # characters), and the checkpoints given to prove (each found, or named in `findings`).
    checkpoint: str = ""
    checkpoints: tuple[str, ...] = ()


class PeriodClose(msgspec.Struct, frozen=True):
    """月结: the root's books closed through `period_end`, at chain position sequence / hash.

    accounts: the balances the close kept (the root's accounts and the shared virtual ones).
    root_code: the root (city) whose subtree it closed; None for a close made before roots
    were separate, which applies to every root.
    checkpoint: the close's chain position as `N:HASH` (16 hex characters), printed on the
    close report to be kept outside the database: `ledger verify --checkpoint` proves later
    that the ledger still holds it.
    """

    period_end: dt.date
    sequence: int
    hash: str
    accounts: int
    closed_at: dt.datetime
    root_code: str | None = None
    checkpoint: str = ""


def _period_close(row: closes.CloseRow, root_codes: dict[int, str]) -> PeriodClose:
    return PeriodClose(
        row.period_end,
        row.sequence,
        row.hash,
        row.accounts,
        as_utc(row.closed_at),
        root_codes[row.root_id] if row.root_id is not None else None,
        format_checkpoint(row.sequence, row.hash),
    )


def root_to_close(connection: Connection, root_code: str | None, what: str) -> closes.Root:
    """The root named by `root_code`, or — when none is named — the only root of the ledger.
    Refused (`root_required`) when several roots leave it open or the code is not a root."""
    roots = closes.roots(connection)
    if root_code is None:
        if len(roots) == 1:
            return roots[0]
        names = "、".join(root.code for root in roots) or "无"
        raise LedgerError(
            Code.root_required,
            f"账中有多个市级库点（{names}），请指定{what}的市 (name the root)"
            if roots
            else f"账中还没有市级库点，无从{what} (the ledger has no root location)",
            "root_code",
        )
    found = next((root for root in roots if root.code == root_code), None)
    if found is None and not closes.location_exists(connection, root_code):
        raise LedgerError(
            Code.unknown_location,
            f"没有编码为 {root_code!r} 的库点 (unknown location)",
            "root_code",
        )
    if found is None:
        raise LedgerError(
            Code.root_required,
            f"{root_code!r} 不是市级库点（没有上级的库点），{what}须指定市 (not a root location)",
            "root_code",
        )
    return found


def close_period(
    store: LedgerStore,
    period_end: dt.date,
    actor: int | None,
    today: dt.date,
    root_code: str | None = None,
) -> PeriodClose:
    """Close a root's books through `period_end`: record the chain head and the balances of its
    subtree; from then on nothing at its locations may be posted on or before that day. Other
    roots are not touched. root_code: the root (None: the ledger's only root)."""
    if period_end >= today:
        raise LedgerError(
            Code.period_not_ended,
            f"只能对已结束的账期月结：{period_end} 尚未过去 (the period has not ended)",
            "period_end",
        )
    root = root_to_close(store.connection, root_code, "月结")
    head = store.chain_head()  # held until commit: postings wait, then see the close
    last = store.closed_through(store.location(root.code))
    if in_closed_period(period_end, last):
        raise LedgerError(
            Code.period_closed,
            f"{root.code} 已月结至 {last} (already closed through {last})",
            "period_end",
        )
    store.flush()
    row = closes.record_close(store, period_end, head[0], head[1], actor, root)
    close = _period_close(row, {root.id: root.code})
    oplog.record(
        store,
        "period.close",
        "period_close",
        f"{root.code}/{period_end.isoformat()}",
        user_id=actor,
        before={"closed_through": last.isoformat() if last else None},
        after={"closed_through": period_end.isoformat(), "sequence": head[0], "hash": head[1]},
        location_path=store.location(root.code).path,
    )
    return close


def close_books(
    database: Database,
    period_end: dt.date,
    actor: int | None = None,
    today: dt.date | None = None,
    root_code: str | None = None,
) -> PeriodClose:
    """月结 as a use case: `close_period` in its own unit of work."""
    today = day(today)
    return database.write(lambda store: close_period(store, period_end, actor, today, root_code))


def period_closes(database: Database, root_code: str | None = None) -> list[PeriodClose]:
    """The closes that apply to the root `root_code` (its own and those of every root), oldest
    first; None: every close."""
    with database.read() as connection:
        roots = closes.roots(connection)
        root_codes = {root.id: root.code for root in roots}
        root_id = None
        if root_code is not None:
            root_id = root_to_close(connection, root_code, "查看月结").id
        return [_period_close(row, root_codes) for row in closes.closes(connection, root_id)]


def root_code_of(database: Database, root_code: str | None, what: str) -> str:
    """The code of the root `root_code` names or, when it names none, of the ledger's only root
    (`root_to_close`: `what` is the work that needs it, for the refusal)."""
    with database.read() as connection:
        return root_to_close(connection, root_code, what).code


def transactions_to_verify(
    database: Database, since_close: bool = False, root_code: str | None = None
) -> int:
    """How many transactions `verify_ledger` with these arguments reads (for a progress bar).
    An unknown root, or — since the last close — a ledger of several roots with none named, is
    refused here, before the verification starts."""
    with database.read() as connection:
        total, _ = journal_queries.counts(connection)
        root = root_to_close(connection, root_code, "核验") if root_code else None
        if since_close and root is None and len(closes.roots(connection)) > 1:
            root_to_close(connection, None, "自上次月结以来核验")
        last = closes.last_close(connection, root.id if root else None) if since_close else None
        if last is not None:
            total = closes.transactions_after(connection, last.sequence)
    return total


def verify_ledger(
    database: Database,
    *,
    progress: Callable[[int], None] | None = None,
    since_close: bool = False,
    root_code: str | None = None,
    checkpoints: Sequence[Checkpoint] = (),
    fast: bool | None = None,
) -> VerificationReport:
    """Re-check all six invariants over the whole stored ledger, from genesis — checking every
    period close on the way — or, with `since_close`, only what was posted after the last close,
    starting from its recorded chain head and balances.

    root_code: verify one root (what its auditor may see): the chain through every transaction,
    the root's own transactions, the accounts at its locations and the closes that apply to it;
    findings on other roots' transactions are counted in one `other_roots` finding, never
    named. Since a close, a verification of the whole ledger needs a close of the whole ledger:
    with several roots, name one (`root_required`).

    fast: the pass over the transactions computed over columns (ledger/verify_fast.py), the
    same findings as the reference `Verifier` fed one transaction at a time (False); None: as
    LEDGER_VERIFY says (`reference`, or fast by default). Where the columns cannot be read
    (SQLite in memory) or hold what the fast path does not take, the reference runs."""
    if fast is None:
        fast = os.environ.get("LEDGER_VERIFY", "fast") != "reference"
    for _ in range(SNAPSHOT_TRIES):
        try:
            return _verify(database, progress, since_close, root_code, checkpoints, fast)
        except SnapshotMoved:  # a write committed between two readers' snapshots
            continue
    return _verify(database, progress, since_close, root_code, checkpoints, False)


def _verify(
    database: Database,
    progress: Callable[[int], None] | None,
    since_close: bool,
    root_code: str | None,
    checkpoints: Sequence[Checkpoint],
    fast: bool,
) -> VerificationReport:
    with database.read(snapshot=True) as connection, connection.begin():
        head = journal_queries.chain_digest(connection)
        root, scope = _verification_scope(connection, root_code, since_close)
        recorded = closes.closes(connection, root.id if root else None)
        start = recorded[-1] if since_close and recorded else None
        verifier, pending = _verifier(connection, recorded, start, scope)
        close_locations = _close_locations(connection, scope)
        after = start.sequence if start else 0
        pending, fast_pass = _chain_pass(
            connection, head, verifier, pending, after, close_locations, progress, fast
        )
        root_path = root.path if root else None
        stored = _stored_balances(connection, verifier, start, root, scope)
        findings = verifier.finish(stored, head)
        findings += _pack_and_close_findings(connection, verifier, pending, scope)
        findings += history_findings(  # closes, checkpoints, reference data
            connection,
            since_close_id=start.id if start else None,
            root_path=root_path,
            checkpoints=checkpoints,
            head_sequence=head[0],
            movements=fast_pass is None or not fast_pass.movements_agree(root_path),
        )
        findings += movement_total_findings(  # the period summary's day/month/year totals
            connection, start.sequence if start else None, root.path if root else None
        )
    return VerificationReport(
        ok=not findings,
        transactions_checked=verifier.transactions_checked,
        postings_checked=verifier.postings_checked,
        digest_sequence=head[0],
        digest_hash=head[1],
        findings=tuple(findings),
        from_sequence=after,
        since_period_end=start.period_end if start else None,
        root_code=root.code if root else None,
        checkpoint=format_checkpoint(*head),
        checkpoints=tuple(str(checkpoint) for checkpoint in checkpoints),
    )


def _chain_pass(
    connection: Connection,
    head: tuple[int, str],
    verifier: Verifier,
    pending: list[closes.CloseRow],
    after: int,
    close_locations: Callable[[closes.CloseRow], frozenset[str] | None],
    progress: Callable[[int], None] | None,
    fast: bool,
) -> tuple[list[closes.CloseRow], FastPass | None]:
    """Feed the verifier every transaction after `after`, checking each close in `pending` on
    the way; the closes the chain does not reach are returned, and the fast pass if it ran.
    fast: over columns where they can be read (ledger/verify_fast.py), else one transaction at
    a time."""
    if fast:
        try:
            fast_pass = FastPass(connection, head, verifier, after, close_locations)
            remaining = fast_pass.run(pending)
        except (ColumnsUnavailable, UnusualColumns):
            pass  # the reference below reads and reports it
        else:
            if progress is not None:
                progress(closes.transactions_after(connection, after))
            return remaining, fast_pass

    def check_due() -> None:
        while pending and pending[0].sequence <= verifier.last_sequence:
            close = pending.pop(0)
            verifier.check_close(
                close.period_end.isoformat(),
                close.sequence,
                close.hash,
                closes.closing_balances(connection, close.id),
                locations=close_locations(close),
            )

    pending = list(pending)
    check_due()
    stream = journal_queries.stored_transactions(connection, after=after)
    for number, transaction in enumerate(stream, start=1):
        verifier.feed(transaction)
        check_due()
        if progress is not None and number % 10_000 == 0:
            progress(10_000)
    return pending, None


def _verifier(
    connection: Connection,
    recorded: list[closes.CloseRow],
    start: closes.CloseRow | None,
    scope: frozenset[str] | None,
) -> tuple[Verifier, list[closes.CloseRow]]:
    """The verifier, from genesis (every recorded close still to check on the way) or from the
    close `start` (its chain head and balances; no close left to check)."""
    if start is None:
        verifier = Verifier(scope=scope)
        pending = list(recorded)
    else:
        balances = closes.closing_balances(connection, start.id, touched_after=start.sequence)
        if scope is not None:
            balances = {a: value for a, value in balances.items() if a[0] in scope}
        reversed_before = journal_queries.reversals_through(connection, start.sequence)
        verifier = Verifier(start.sequence, start.hash, balances, reversed_before, scope)
        pending = []
    verifier.version_starts = journal_queries.chain_version_starts(connection)
    verifier.user_ids = journal_queries.user_ids(connection)
    return verifier, pending


def _stored_balances(
    connection: Connection,
    verifier: Verifier,
    start: closes.CloseRow | None,
    root: closes.Root | None,
    scope: frozenset[str] | None,
) -> Iterable[StoredBalance]:
    """The stored balances to compare with the replay: all of them (in scope), or since a close
    only the rows unlike the close (the untouched accounts the verifier assumes unchanged)."""
    if start is None:
        every = balance_queries.stored_balances(connection)
        if scope is None:
            return every
        return [row for row in every if row.location_code in scope]
    stored, unchanged = closes.balances_to_check(
        connection, start.id, start.sequence, root.path if root else None
    )
    verifier.assume_unchanged(unchanged)
    return stored


def _pack_and_close_findings(
    connection: Connection,
    verifier: Verifier,
    pending: list[closes.CloseRow],
    scope: frozenset[str] | None,
) -> list[Finding]:
    """Pack totals against stock, closes past the end of the chain, other roots' findings."""
    packs = balance_queries.pack_totals(connection)
    if scope is not None:
        packs = [row for row in packs if row.location_code in scope]
    findings = check_packs(packs)
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
    if verifier.elsewhere:
        findings.append(_other_roots_finding(verifier.elsewhere))
    return findings


def _verification_scope(
    connection: Connection, root_code: str | None, since_close: bool
) -> tuple[closes.Root | None, frozenset[str] | None]:
    """(the root verified, the codes of its physical locations), or (None, None) for the whole
    ledger."""
    if root_code is not None:
        root = root_to_close(connection, root_code, "核验")
        return root, closes.physical_codes_under(connection, root.path)
    if since_close and len(closes.roots(connection)) > 1:
        # A close keeps one root's balances: no close starts the whole ledger.
        root_to_close(connection, None, "自上次月结以来核验")
    return None, None


def _close_locations(
    connection: Connection, scope: frozenset[str] | None
) -> Callable[[closes.CloseRow], frozenset[str] | None]:
    """For each close checked, the locations whose accounts to compare: in a verification of
    one root, the root's; of the whole ledger, those the close kept — its root's and the shared
    virtual ones (None: every account, for a close of every root or in a ledger of one root)."""
    if scope is not None:
        return lambda close: scope
    roots = closes.roots(connection)
    if len(roots) <= 1:
        return lambda close: None
    kept: dict[int, frozenset[str]] = {}
    shared = closes.virtual_codes(connection)
    paths = {root.id: root.path for root in roots}

    def locations(close: closes.CloseRow) -> frozenset[str] | None:
        if close.root_id is None:
            return None
        if close.root_id not in kept:
            under = closes.physical_codes_under(connection, paths[close.root_id])
            kept[close.root_id] = under | shared
        return kept[close.root_id]

    return locations


def _other_roots_finding(count: int) -> Finding:
    return Finding(
        5,
        "other_roots",
        "其他市的单据 (other roots' transactions)",
        f"the hash chain, shared by every root, has {count} finding(s) on transactions of "
        "other roots; they are not shown here: a global admin's verification names them",
        "0",
        str(count),
    )
