"""Checks of what surrounds the hash chain, run by `verify` beside the `Verifier`'s pass over
the transactions: labelled packs against the books, what a period close kept, checkpoints kept
outside the database, and reference data against its versions. Pure, like `ledger.verify`;
docs/verify.md lists the finding codes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import msgspec

from ledger.chain import GENESIS_HASH
from ledger.verify import Finding


def check_packs(totals: Iterable) -> list[Finding]:
    """Labelled packs against the books (invariant 4): the stored sealed totals equal what the
    pack rows add up to, and a warehouse's sealed packs never hold more than its balance."""
    findings = []
    for row in totals:
        subject = f"{row.location_code}/{row.item_code}/{row.batch_number}"
        if row.stored_quantity != row.counted_quantity:
            findings.append(
                Finding(
                    4,
                    "pack_total_mismatch",
                    subject,
                    "stored sealed-pack total differs from the pack rows",
                    str(row.counted_quantity),
                    str(row.stored_quantity),
                )
            )
        if row.physical and row.counted_quantity > (row.on_hand or 0):
            findings.append(
                Finding(
                    4,
                    "packs_exceed_stock",
                    subject,
                    "sealed packs hold more than the balance on hand",
                    f"<= {row.on_hand or 0}",
                    str(row.counted_quantity),
                )
            )
    return findings


# ---- what a period close kept ------------------------------------------------------------------


def close_subject(period_end: dt.date | str, sequence: int) -> str:
    return f"period close {period_end} (#{sequence})"


def close_accounts_finding(subject: str, recorded: int, kept: int) -> Finding:
    return Finding(
        5,
        "close_accounts_mismatch",
        subject,
        "the close row's count of kept balances differs from the balance rows it has",
        str(recorded),
        str(kept),
    )


def check_close_rows(
    subject: str,
    table: str,
    differences: Iterable[tuple[str, int | None, int | None]],
) -> list[Finding]:
    """What a close kept against what the postings say: `differences` are (row, expected,
    found) for every row of `table` that differs (None: no such row)."""
    return [
        Finding(
            5,
            f"{table.removesuffix('s')}_mismatch",
            f"{subject}: {row}",
            f"{table} differs from what the postings say",
            "none" if expected is None else str(expected),
            "none" if found is None else str(found),
        )
        for row, expected, found in differences
    ]


# ---- checkpoints ---------------------------------------------------------------------------------

CHECKPOINT_HEX_SHOWN = 16  # hex characters printed: 64 bits of the hash
CHECKPOINT_HEX_MIN = 16  # the shortest prefix `verify --checkpoint` accepts
_HEX = frozenset("0123456789abcdef")


class Checkpoint(msgspec.Struct, frozen=True):
    """A chain position kept outside the database: transaction `sequence` has a hash starting
    with `hash` (16 to 64 lowercase hex characters; the whole hash when all 64 are given)."""

    sequence: int
    hash: str

    def __str__(self) -> str:
        return f"{self.sequence}:{self.hash}"


def format_checkpoint(sequence: int, digest: str, length: int = CHECKPOINT_HEX_SHOWN) -> str:
    """`N:HASH`, the hash cut to `length` hex characters (the whole hash with 64)."""
    return f"{sequence}:{digest[:length]}"


def parse_checkpoint(text: str, field: str = "checkpoint") -> Checkpoint:
    """`N:HASH` (as `ledger digest` and a period close print it) or refuse with a clear error."""
    from ledger.rules import Code, LedgerError

    raw = text.strip()
    number, separator, digest = raw.partition(":")
    digest = digest.strip().lower()
    if (
        not separator
        or not number.strip().isascii()
        or not number.strip().isdigit()
        or not CHECKPOINT_HEX_MIN <= len(digest) <= 64
        or not set(digest) <= _HEX
    ):
        raise LedgerError(
            Code.invalid_checkpoint,
            f"核验点 {raw[:80]!r} 格式不对：应为 序号:哈希，哈希取前 {CHECKPOINT_HEX_MIN} 到 64 位"
            f"十六进制字符，例如 1024:3f2a9c0e1b7d6a54 (a checkpoint is N:HASH with "
            f"{CHECKPOINT_HEX_MIN} to 64 hex characters)",
            field,
        )
    sequence = int(number)
    if sequence < 1:
        raise LedgerError(
            Code.invalid_checkpoint,
            "核验点序号从 1 开始：第 0 号是链的起点，不是单据 (sequence 0 is the genesis)",
            field,
        )
    if sequence > 2**63 - 1:
        raise LedgerError(
            Code.invalid_checkpoint, f"核验点序号 {number[:30]} 过大 (sequence too large)", field
        )
    return Checkpoint(sequence, digest)


def check_checkpoints(
    checkpoints: Iterable[Checkpoint],
    stored: dict[int, str],
    head_sequence: int,
    genesis: str = GENESIS_HASH,
) -> list[Finding]:
    """Each checkpoint against the stored hash of its transaction (`stored`, by sequence; the
    chain itself is checked by the pass that reads it): the transaction must exist and its hash
    start with the checkpoint's."""
    findings = []
    for checkpoint in checkpoints:
        subject = f"checkpoint {checkpoint}"
        found = genesis if checkpoint.sequence == 0 else stored.get(checkpoint.sequence)
        if found is None:
            findings.append(
                Finding(
                    5,
                    "checkpoint_missing",
                    subject,
                    f"the ledger no longer holds transaction #{checkpoint.sequence} (it ends at "
                    f"#{head_sequence}): the end of the chain was cut off",
                    f"#{checkpoint.sequence} {checkpoint.hash}",
                    f"#{head_sequence} (head)" if checkpoint.sequence > head_sequence else "none",
                )
            )
        elif not found.startswith(checkpoint.hash):
            findings.append(
                Finding(
                    5,
                    "checkpoint_mismatch",
                    subject,
                    f"transaction #{checkpoint.sequence} has another hash: the chain was "
                    f"rewritten from there or before",
                    checkpoint.hash,
                    found[: len(checkpoint.hash)],
                )
            )
    return findings


# ---- reference data ------------------------------------------------------------------------------


class ReferenceRow(msgspec.Struct, frozen=True, array_like=True):
    """A current item, location or batch: its storage id, its key (code, or ITEM/BATCH) and
    the canonical content of its versioned fields (`ledger.reference`)."""

    object_type: str
    object_id: int
    key: str
    content: str


class ReferenceVersion(msgspec.Struct, frozen=True, array_like=True):
    object_type: str
    object_id: int
    version: int
    content: str


def check_reference(
    current: Iterable[ReferenceRow], versions: Iterable[ReferenceVersion]
) -> list[Finding]:
    """Every current row equals its last version; versions run 1, 2, … without a gap; every
    versioned object still exists. (Reference data changes only by a new version.)"""
    history: dict[tuple[str, int], list[ReferenceVersion]] = {}
    for version in versions:
        history.setdefault((version.object_type, version.object_id), []).append(version)
    findings = []
    for row in current:
        subject = f"{row.object_type} {row.key}"
        kept = history.pop((row.object_type, row.object_id), None)
        if not kept:
            findings.append(
                Finding(
                    5,
                    "reference_unversioned",
                    subject,
                    "has no version: it was inserted outside the ledger",
                    "version 1",
                    row.content,
                )
            )
            continue
        kept.sort(key=lambda version: version.version)
        numbers = [version.version for version in kept]
        if numbers != list(range(1, len(kept) + 1)):
            findings.append(
                Finding(
                    5,
                    "reference_version_gap",
                    subject,
                    "its versions do not run 1, 2, 3 …: a version was removed",
                    ", ".join(str(n) for n in range(1, numbers[-1] + 1)),
                    ", ".join(str(n) for n in numbers),
                )
            )
        last = kept[-1]
        if last.content != row.content:
            findings.append(
                Finding(
                    5,
                    "reference_changed_in_place",
                    subject,
                    f"differs from its last version ({last.version}): changed without a new "
                    f"version",
                    last.content,
                    row.content,
                )
            )
    for (object_type, object_id), kept in sorted(history.items()):
        findings.append(
            Finding(
                5,
                "reference_object_missing",
                f"{object_type} id {object_id}",
                "has versions but no longer exists",
                max(kept, key=lambda version: version.version).content,
                "none",
            )
        )
    return findings


def check_location_paths(locations: Iterable[tuple[str, str | None, str]]) -> list[Finding]:
    """Each location's path is its parent's path and its code: (code, parent code, path)."""
    rows = list(locations)
    paths = {code: path for code, _, path in rows}
    findings = []
    for code, parent, path in rows:
        expected = f"/{code}/" if parent is None else f"{paths.get(parent, '?')}{code}/"
        if path != expected:
            findings.append(
                Finding(
                    5,
                    "location_path_mismatch",
                    f"location {code}",
                    "its stored path does not follow its parents: subtree reads would put it "
                    "elsewhere",
                    expected,
                    path,
                )
            )
    return findings
