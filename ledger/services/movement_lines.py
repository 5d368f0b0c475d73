"""A movement's lines as batches: named batches as given, the rest picked FEFO
(`ledger.picking`); a receipt's batch found or registered; the legs between two locations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from ledger import commands as c
from ledger.entries import BatchEntry, ItemEntry, LocationEntry
from ledger.model import Batch
from ledger.picking import pick_batches
from ledger.posting import Leg, Move, legs_of_moves
from ledger.rules import Code, LedgerError, check_date
from ledger.services.checks import base_units, check_code, check_lines, refuse_expired
from ledger.services.picking import stock_candidates
from ledger.services.ports import Store


def resolve_lines(
    store: Store,
    location: LocationEntry,
    lines: Sequence[c.LineSpec],
    on: dt.date,
    refuse_expired_batches: bool,
    reserved: dict[tuple[int, int], int] | None = None,
) -> list[tuple[ItemEntry, BatchEntry, int]]:
    """Each line as (item, batch, base units): named batches as given, the rest picked FEFO
    (`ledger.picking`: batches reserved for this movement first; expired ones only when
    `refuse_expired_batches` is off, for returns and write-offs)."""
    check_lines(lines)
    reserved = reserved or {}
    resolved: list[tuple[ItemEntry, BatchEntry, int]] = []
    named: set[tuple[str, str]] = set()
    for index, line in enumerate(lines):
        field = f"lines[{index}]"
        item = store.item(line.item_code, f"{field}.item_code")
        quantity = base_units(item.item, line.quantity, line.unit, f"{field}.quantity")
        if line.batch_number is not None:
            if (line.item_code, line.batch_number) in named:
                raise LedgerError(
                    Code.duplicate_line,
                    f"{item.item.name} 批次 {line.batch_number} 在单据中出现两次 (duplicate line)",
                    field,
                )
            named.add((line.item_code, line.batch_number))
            batch = store.batch(item, line.batch_number, f"{field}.batch_number")
            if refuse_expired_batches:
                refuse_expired(batch, item, on, f"{field}.batch_number")
            resolved.append((item, batch, quantity))
            continue
        ours = {
            batch_id: qty for (item_id, batch_id), qty in reserved.items() if item_id == item.id
        }
        candidates = stock_candidates(store, location.id, item.id, ours, lock=True)
        taken: dict[int, int] = {}  # by earlier lines of this movement, by batch id
        for earlier_item, earlier_batch, earlier_quantity in resolved:
            if earlier_item.id == item.id:
                taken[earlier_batch.id] = taken.get(earlier_batch.id, 0) + earlier_quantity
        left = [
            candidate._replace(available=candidate.available - taken.get(batch.id, 0))
            for batch, candidate in candidates
        ]
        try:
            picks = pick_batches(
                left, quantity, on, not refuse_expired_batches, reserved_first=True
            )
        except LedgerError as error:
            raise LedgerError(
                error.code, f"{item.item.name}: {error.message}", f"{field}.quantity"
            ) from None
        by_number = {candidate.batch_number: batch for batch, candidate in candidates}
        resolved.extend((item, by_number[pick.batch_number], pick.quantity) for pick in picks)
    return resolved


def moves_between(
    source: LocationEntry,
    destination: LocationEntry,
    lines: Iterable[tuple[ItemEntry, BatchEntry, int]],
    consumed: dict[tuple[int, int], int] | None = None,
) -> list[Leg]:
    consumed = consumed or {}
    seen: set[tuple[int, int]] = set()
    moves = []
    for item, batch, quantity in lines:
        pair = (item.id, batch.id)
        if pair in seen:
            raise LedgerError(
                Code.duplicate_line,
                f"{item.item.name} 批次 {batch.batch.number} 在单据中出现两次 (duplicate line)",
                "lines",
            )
        seen.add(pair)
        moves.append(
            Move(
                source.id,
                source.physical,
                destination.id,
                destination.physical,
                item.id,
                batch.id,
                quantity,
                min(quantity, consumed.get(pair, 0)),
            )
        )
    return legs_of_moves(moves)


def merge_picks(
    lines: list[tuple[ItemEntry, BatchEntry, int]],
) -> list[tuple[ItemEntry, BatchEntry, int]]:
    """Lines for the same batch (a named line and a FEFO pick of it) become one."""
    merged: dict[tuple[int, int], list] = {}
    for item, batch, quantity in lines:
        entry = merged.setdefault((item.id, batch.id), [item, batch, 0])
        entry[2] += quantity
    return [tuple(entry) for entry in merged.values()]  # (item, batch, quantity)


def receipt_batch(store: Store, item: ItemEntry, line: c.ReceiptLine, field: str) -> BatchEntry:
    check_code(line.batch_number, f"{field}.batch_number")
    for name in ("produced_on", "expires_on"):
        if getattr(line, name) is not None:
            check_date(getattr(line, name), f"{field}.{name}")
    batch = store.find_batch(item, line.batch_number)
    if batch is None:
        if item.item.expiry_tracked and line.expires_on is None:
            raise LedgerError(
                Code.batch_expiry_required,
                f"{item.item.name} 需要填写有效期至 (expiry date required)",
                f"{field}.expires_on",
            )
        if not item.item.expiry_tracked and line.expires_on is not None:
            raise LedgerError(
                Code.expiry_not_tracked,
                f"{item.item.name} 不管理有效期 (item has no expiry)",
                f"{field}.expires_on",
            )
        return store.add_batch(
            item, Batch(item.item.code, line.batch_number, line.produced_on, line.expires_on)
        )
    known = batch.batch
    if (line.expires_on is not None and line.expires_on != known.expires_on) or (
        line.produced_on is not None and line.produced_on != known.produced_on
    ):
        raise LedgerError(
            Code.batch_conflict,
            f"批次 {known.number} 已登记：生产/印制日期 {known.produced_on}，有效期至 {known.expires_on}，"
            f"与本次填写不一致 (batch recorded with other dates)",
            f"{field}.expires_on",
        )
    return batch
