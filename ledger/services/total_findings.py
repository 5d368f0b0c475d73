"""What verification finds in the movement totals (ledger/db/total_checks.py): each total the
posting path keeps that differs from the postings, or is missing, or has no postings behind it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.db import total_checks
from ledger.verify import Finding

if TYPE_CHECKING:
    from sqlalchemy import Connection  # the read connection ledger.db hands out


def movement_total_findings(
    connection: Connection, after: int | None, root_path: str | None
) -> list[Finding]:
    """after: the sequence of the close a verification since a close starts from (the totals
    of the days recorded after it are recomputed); None: from genesis, all of them. root_path:
    one root's locations."""
    return [
        Finding(
            4,
            "movement_total_mismatch",
            f"movement total {subject}",
            "the stored movement total differs from the sum of the postings it covers: the "
            "period summary reads it",
            "none" if expected is None else str(expected),
            "none" if found is None else str(found),
        )
        for subject, expected, found in total_checks.differences(connection, after, root_path)
    ]
