"""What verification checks besides the chain pass: what period closes kept, the checkpoints
handed out, and reference data against its versions. Run in the verification's snapshot.

- Closes, from genesis: each close's count of kept balances, its movements (close_movements and
  close_item_movements) recomputed from the previous close and the postings of its period, and
  no transaction recorded after it dated on or before its end. (Its balances and chain position
  are checked by the chain pass, `Verifier.check_close`.) Since a close: the rows that
  verification reads — the close's chain position against the chain, the closing balances it
  starts from against the postings' recorded balances at that position, its count of balances —
  and no later transaction dated into it.
- Checkpoints (`N:HASH`, printed by `ledger digest` and by every close): transaction N exists
  and its hash starts with HASH; the chain pass proves the chain from there to the head.
- Reference data: every item, location, batch and user equals its last version; every
  location's path follows its parents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ledger.db import close_checks, versions
from ledger.history import (
    Checkpoint,
    check_checkpoints,
    check_close_rows,
    check_location_paths,
    check_reference,
    close_accounts_finding,
    close_subject,
)
from ledger.model import VirtualLocation
from ledger.verify import Finding

if TYPE_CHECKING:
    from sqlalchemy import Connection  # the read connection ledger.db hands out


def history_findings(
    connection: Connection,
    *,
    since_close_id: int | None,
    root_path: str | None,
    checkpoints: Sequence[Checkpoint],
    head_sequence: int,
    movements: bool = True,
) -> list[Finding]:
    """since_close_id: the close a verification since a close starts from (None: from genesis).
    root_path: the root verified alone (None: the whole ledger). movements: recompute each
    close's movements (False: a check over arrays found them all as the postings say)."""
    findings = close_findings(connection, since_close_id, root_path, movements)
    if checkpoints:
        stored = close_checks.transaction_hashes(connection, [c.sequence for c in checkpoints])
        findings += check_checkpoints(checkpoints, stored, head_sequence)
    findings += reference_findings(connection, root_path)
    return findings


def close_findings(
    connection: Connection,
    since_close_id: int | None,
    root_path: str | None,
    recompute_movements: bool = True,
) -> list[Finding]:
    every = close_checks.positions(connection)
    relevant = [
        close for close in every if root_path is None or close.root_path in (None, root_path)
    ]
    findings: list[Finding] = []
    if since_close_id is None:
        checked = relevant
        movements = close_checks.MovementCheck(connection)
        for close in relevant:
            subject = close_subject(close.period_end, close.sequence)
            findings += _accounts(connection, close, subject)
            if not recompute_movements:
                continue
            moves, items = movements.differences(
                close, close_checks.previous_of(close, every), close.root_path or root_path
            )
            findings += check_close_rows(subject, "close_movements", moves)
            findings += check_close_rows(subject, "close_item_movements", items)
    else:
        checked = [close for close in every if close.id == since_close_id]
        for close in checked:
            subject = close_subject(close.period_end, close.sequence)
            findings += _accounts(connection, close, subject)
            stored = close_checks.transaction_hashes(connection, [close.sequence])
            found = stored.get(close.sequence)
            if found != close.hash:
                findings.append(
                    Finding(
                        5,
                        "close_digest_mismatch",
                        subject,
                        "the chain at the close's sequence differs from the digest it recorded",
                        f"#{close.sequence} {close.hash}",
                        f"#{close.sequence} {found or 'none'}",
                    )
                )
            findings += check_close_rows(
                subject,
                "closing_balances",
                close_checks.closing_balance_differences(connection, close, close.sequence),
            )
    for close, sequence, number, day in close_checks.closed_period_postings(connection, checked):
        findings.append(
            Finding(
                5,
                "posted_into_closed_period",
                f"transaction {number} (#{sequence})",
                f"recorded after the close of {close.period_end} (#{close.sequence}) but dated "
                f"within it: a closed period changed, or the close's period end was altered",
                f"after {close.period_end}",
                str(day),
            )
        )
    return findings


def _accounts(connection: Connection, close: close_checks.ClosePosition, subject: str) -> list:
    kept = close_checks.counted_accounts(connection, close)
    return [] if kept == close.accounts else [close_accounts_finding(subject, close.accounts, kept)]


def reference_findings(connection: Connection, root_path: str | None) -> list[Finding]:
    """Reference data against its versions; verifying one root, the other roots' locations and
    users are left out (items and batches are shared by every root, and so are global admins)."""
    rows, paths = versions.current_rows(connection)
    users = versions.user_rows(connection)
    if root_path is not None:
        shared = {location.value for location in VirtualLocation}

        def outside(path: str) -> bool:
            return not path.startswith(root_path) and path.split("/")[1] not in shared

        elsewhere = {code for code, _, path in paths if outside(path)}
        rows = [row for row in rows if row.object_type != "location" or row.key not in elsewhere]
        paths = [row for row in paths if row[0] not in elsewhere]
        users = [(row, path) for row, path in users if not outside(path)]
    rows += [row for row, _ in users]
    findings = check_reference(rows, versions.all_versions(connection))
    if root_path is not None:  # a missing object cannot be placed: only a global view names it
        findings = [f for f in findings if f.code != "reference_object_missing"]
    return findings + check_location_paths(paths)
