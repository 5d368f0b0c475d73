"""The idempotency-key repository of the use cases (table `idempotency_keys`): the stored
result of a command sent again with the same key. (The HTTP layer's keys are in
`http_idempotency`.)"""

from __future__ import annotations

from typing import Any

from ledger.db.session import Session
from ledger.rules import check_same_request

# Straight to the driver: every command with a key reads and writes one row here.
SELECT_KEY = (
    "SELECT operation, request_digest, transaction_id, result FROM idempotency_keys WHERE key = ?"
)
SELECT_KEYS = (
    "SELECT key, operation, request_digest, transaction_id, result FROM idempotency_keys "
    "WHERE key IN ({marks})"
)
PREFETCH_CHUNK = 500
INSERT_KEYS = (
    "INSERT INTO idempotency_keys (key, operation, request_digest, transaction_id, result, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?)"
)


class IdempotencyKeys:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.rows: list[dict] = []  # remembered in this unit of work, written by `flush`
        self.read: dict[str, Any] = {}  # keys read ahead (`prefetch`): their row, or None

    def prefetch(self, keys: list[str]) -> None:
        """Read the rows of many keys at once (the commands of a group commit's batch):
        `idempotent` then asks the database only about other keys."""
        wanted = sorted({key for key in keys if key not in self.read})
        for start in range(0, len(wanted), PREFETCH_CHUNK):
            chunk = wanted[start : start + PREFETCH_CHUNK]
            self.read.update(dict.fromkeys(chunk))
            marks = ", ".join(["?"] * len(chunk))
            for row in self.session.run(SELECT_KEYS.format(marks=marks), tuple(chunk)):
                self.read[row.key] = row

    def idempotent(self, key: str, operation: str, digest: str) -> Any:
        """The stored result for `key` (a row, or the dict remembered in this unit of work), None
        if new; refuses a key reused for other content."""
        row = self.read[key] if key in self.read else self.session.run(SELECT_KEY, (key,)).first()
        found: Any = row
        if row is None:
            found = next((r for r in self.rows if r["key"] == key), None)
            if found is None:
                return None
            operation_found, digest_found = found["operation"], found["request_digest"]
        else:
            operation_found, digest_found = row.operation, row.request_digest
        check_same_request((operation_found, digest_found), (operation, digest))
        return found

    def remember(
        self, key: str, operation: str, digest: str, transaction_id: int | None, result: str
    ) -> None:
        self.rows.append(
            {
                "key": key,
                "operation": operation,
                "request_digest": digest,
                "transaction_id": transaction_id,
                "result": result,
                "created_at": self.session.recorded_at,
            }
        )

    def flush(self) -> None:
        if self.rows:
            write_datetime = self.session.write_datetime
            self.session.run_many(
                INSERT_KEYS,
                [
                    (
                        row["key"],
                        row["operation"],
                        row["request_digest"],
                        row["transaction_id"],
                        row["result"],
                        write_datetime(row["created_at"]),
                    )
                    for row in self.rows
                ],
            )
            self.rows = []
