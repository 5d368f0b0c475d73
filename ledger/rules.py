"""Rejections and limits: the closed set of reasons the ledger refuses a command.

A rejection is the user's mistake or a rule of the office; it carries a stable `code` that the
API returns as-is, a message a clerk can act on (in Chinese, with the English code beside it) and
the offending field where there is one. A broken *invariant* is different: it is a bug, raised as
`InvariantBroken`, and stops the operation loudly.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Rejection codes. Never renamed: clients match on them."""

    unknown_item = "unknown_item"
    unknown_batch = "unknown_batch"
    unknown_location = "unknown_location"
    unknown_pack = "unknown_pack"
    unknown_transaction = "unknown_transaction"
    unknown_reservation = "unknown_reservation"
    item_exists = "item_exists"
    location_exists = "location_exists"
    invalid_field = "invalid_field"
    quantity_must_be_positive = "quantity_must_be_positive"
    quantity_not_whole_packs = "quantity_not_whole_packs"
    locations_must_be_different = "locations_must_be_different"
    location_must_be_physical = "location_must_be_physical"
    location_has_no_parent = "location_has_no_parent"
    exceeds_on_hand = "exceeds_on_hand"
    exceeds_available = "exceeds_available"
    exceeds_reserved = "exceeds_reserved"
    batch_expired = "batch_expired"
    batch_expiry_required = "batch_expiry_required"
    batch_conflict = "batch_conflict"
    date_in_future = "date_in_future"
    date_before_last_movement = "date_before_last_movement"
    reversal_already_exists = "reversal_already_exists"
    reversal_of_reversal = "reversal_of_reversal"
    not_a_shipment = "not_a_shipment"
    shipment_already_confirmed = "shipment_already_confirmed"
    received_exceeds_shipped = "received_exceeds_shipped"
    line_not_in_shipment = "line_not_in_shipment"
    reason_required = "reason_required"
    idempotency_key_reused = "idempotency_key_reused"
    too_many_lines = "too_many_lines"
    duplicate_line = "duplicate_line"
    weights_invalid = "weights_invalid"
    unknown_request = "unknown_request"
    request_state = "request_state"
    exceeds_requested = "exceeds_requested"
    exceeds_approved = "exceeds_approved"
    shipment_not_in_request = "shipment_not_in_request"
    shipments_in_transit = "shipments_in_transit"
    fefo_override_reason_required = "fefo_override_reason_required"
    label_invalid = "label_invalid"
    label_unencodable = "label_unencodable"
    pack_not_here = "pack_not_here"
    pack_opened = "pack_opened"
    unknown_scan_document = "unknown_scan_document"
    scan_document_state = "scan_document_state"
    nothing_to_undo = "nothing_to_undo"
    nothing_scanned = "nothing_scanned"
    too_many_packs = "too_many_packs"
    unknown_stocktake = "unknown_stocktake"
    stocktake_state = "stocktake_state"
    outside_stocktake = "outside_stocktake"
    period_closed = "period_closed"
    root_required = "root_required"
    # Settings and the command line.
    invalid_setting = "invalid_setting"
    invalid_usage = "invalid_usage"
    no_ledger = "no_ledger"
    database_url_unsupported = "database_url_unsupported"
    database_error = "database_error"
    output_unwritable = "output_unwritable"
    ledger_not_empty = "ledger_not_empty"
    label_keys_invalid = "label_keys_invalid"
    internal_error = "internal_error"


class LedgerError(Exception):
    """A refused command: a stable code, a clerk-readable message, and the offending field."""

    def __init__(self, code: Code, message: str, field: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field


class InvariantBroken(Exception):
    """A ledger invariant failed while writing: a bug. The database transaction is rolled back."""


def require(condition: bool, message: str) -> None:
    """Check an invariant; unlike `assert` this is never compiled away."""
    if not condition:
        raise InvariantBroken(message)


# Limits (TigerBeetle style: a bound on everything, qualifier last).
lines_per_transaction_max = 200
postings_per_transaction_max = 2 * lines_per_transaction_max + 2
transactions_per_batch_max = 10_000
quantity_per_line_max = 2_000_000_000  # fits a 32-bit signed integer with room to sum
memo_length_max = 500
code_length_max = 40
name_length_max = 200
idempotency_key_length_max = 200
packs_per_batch_max = 100_000  # labels one receipt may cut
scans_per_document_max = 10_000
retries_max = 8


def check_quantity(quantity: int, field: str = "quantity") -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise LedgerError(
            Code.invalid_field, f"数量必须是整数 (quantity must be an integer): {quantity!r}", field
        )
    if quantity <= 0:
        raise LedgerError(
            Code.quantity_must_be_positive,
            f"数量必须大于零 (quantity must be positive): {quantity}",
            field,
        )
    if quantity > quantity_per_line_max:
        raise LedgerError(
            Code.invalid_field,
            f"数量过大 (quantity above {quantity_per_line_max}): {quantity}",
            field,
        )


def check_text(value: str, field: str, length_max: int, required: bool = True) -> None:
    if not isinstance(value, str) or (required and not value.strip()):
        raise LedgerError(Code.invalid_field, f"{field} 不能为空 (required)", field)
    if len(value) > length_max:
        raise LedgerError(
            Code.invalid_field, f"{field} 过长 (at most {length_max} characters)", field
        )
