"""Rejections: the closed set of reasons the ledger refuses a command, and the checks every
command shares (the limits they check are `ledger.limits`).

A rejection is the user's mistake or a rule of the office; it carries a stable `code` that the
API returns as-is, a message a clerk can act on (in Chinese, with the English code beside it) and
the offending field where there is one. A broken *invariant* is different: it is a bug, raised as
`InvariantBroken`, and stops the operation loudly.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, TypeVar

from ledger.limits import date_max, date_min, quantity_per_line_max

T = TypeVar("T")


class Code(StrEnum):
    """Rejection codes, one meaning each (docs/errors.md says which). Never renamed: clients
    match on them. `invalid_field` is only a value of the wrong form (empty, malformed, out of
    range, as a schema would say; `field` names it): a rule of the office, a name not in its
    list, a state or a lookup has a code of its own."""

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
    stock_minimum_negative = "stock_minimum_negative"
    norm_months_invalid = "norm_months_invalid"
    norm_scope_invalid = "norm_scope_invalid"
    norm_date_in_past = "norm_date_in_past"
    demand_year_invalid = "demand_year_invalid"
    demand_growth_invalid = "demand_growth_invalid"
    exceeds_on_hand = "exceeds_on_hand"
    exceeds_available = "exceeds_available"
    exceeds_reserved = "exceeds_reserved"
    batch_expired = "batch_expired"
    batch_expiry_required = "batch_expiry_required"
    batch_conflict = "batch_conflict"
    expiry_not_tracked = "expiry_not_tracked"
    date_in_future = "date_in_future"
    date_before_last_movement = "date_before_last_movement"
    date_range_invalid = "date_range_invalid"
    reversal_already_exists = "reversal_already_exists"
    reversal_of_reversal = "reversal_of_reversal"
    not_a_shipment = "not_a_shipment"
    shipment_already_confirmed = "shipment_already_confirmed"
    received_exceeds_shipped = "received_exceeds_shipped"
    line_not_in_shipment = "line_not_in_shipment"
    reason_required = "reason_required"
    unknown_write_off_reason = "unknown_write_off_reason"
    unknown_shortage_reason = "unknown_shortage_reason"
    no_shortage_to_confirm = "no_shortage_to_confirm"
    idempotency_key_reused = "idempotency_key_reused"
    idempotency_key_in_progress = "idempotency_key_in_progress"
    too_many_lines = "too_many_lines"
    duplicate_line = "duplicate_line"
    weights_invalid = "weights_invalid"
    print_plan_target_invalid = "print_plan_target_invalid"
    print_plan_population_missing = "print_plan_population_missing"
    print_plan_empty = "print_plan_empty"
    print_plan_source_outside = "print_plan_source_outside"
    print_plan_fully_shipped = "print_plan_fully_shipped"
    unknown_print_plan = "unknown_print_plan"
    unknown_request = "unknown_request"
    request_state = "request_state"
    exceeds_requested = "exceeds_requested"
    exceeds_approved = "exceeds_approved"
    shipment_not_in_request = "shipment_not_in_request"
    shipments_in_transit = "shipments_in_transit"
    item_not_requested = "item_not_requested"
    supplier_not_above_requester = "supplier_not_above_requester"
    fefo_override_reason_required = "fefo_override_reason_required"
    label_invalid = "label_invalid"
    label_unencodable = "label_unencodable"
    pack_not_here = "pack_not_here"
    pack_opened = "pack_opened"
    unknown_scan_document = "unknown_scan_document"
    scan_document_state = "scan_document_state"
    nothing_to_undo = "nothing_to_undo"
    nothing_scanned = "nothing_scanned"
    unknown_scan_purpose = "unknown_scan_purpose"
    location_not_supplier = "location_not_supplier"
    shipment_addressed_elsewhere = "shipment_addressed_elsewhere"
    unknown_labelled_pack = "unknown_labelled_pack"
    item_has_no_packs = "item_has_no_packs"
    too_many_packs = "too_many_packs"
    unknown_stocktake = "unknown_stocktake"
    stocktake_state = "stocktake_state"
    outside_stocktake = "outside_stocktake"
    not_a_count_document = "not_a_count_document"
    scan_document_already_counted = "scan_document_already_counted"
    period_closed = "period_closed"
    period_not_ended = "period_not_ended"
    location_in_other_city = "location_in_other_city"
    chain_head_mismatch = "chain_head_mismatch"
    duplicate_key = "duplicate_key"
    body_differs_from_path = "body_differs_from_path"
    root_required = "root_required"
    unknown_grouping = "unknown_grouping"
    shortage_unconfirmed = "shortage_unconfirmed"
    approval_preview_stale = "approval_preview_stale"
    # What a request itself may carry (checked at the edge, before any work is done).
    invalid_request = "invalid_request"
    malformed_json = "malformed_json"
    invalid_encoding = "invalid_encoding"
    invalid_character = "invalid_character"
    unsupported_media_type = "unsupported_media_type"
    body_too_large = "body_too_large"
    body_too_deep = "body_too_deep"
    array_too_long = "array_too_long"
    text_too_long = "text_too_long"
    integer_required = "integer_required"
    integer_out_of_range = "integer_out_of_range"
    date_out_of_range = "date_out_of_range"
    quantity_too_large = "quantity_too_large"
    location_level = "location_level"
    location_path_too_long = "location_path_too_long"
    # Verification and versions of reference data.
    invalid_checkpoint = "invalid_checkpoint"
    reference_unchanged = "reference_unchanged"
    reference_not_as_versioned = "reference_not_as_versioned"
    version_before_last = "version_before_last"
    base_unit_in_use = "base_unit_in_use"
    duplicate_pack_name = "duplicate_pack_name"
    expiry_before_movements = "expiry_before_movements"
    location_move_across_roots = "location_move_across_roots"
    opening_exists = "opening_exists"
    # Users.
    unknown_user = "unknown_user"
    user_revoked = "user_revoked"
    last_admin = "last_admin"
    sign_in_failed = "sign_in_failed"
    sign_in_locked = "sign_in_locked"
    password_too_short = "password_too_short"
    login_taken = "login_taken"
    password_wrong = "password_wrong"
    csrf_failed = "csrf_failed"
    read_only_replica = "read_only_replica"
    unknown_role = "unknown_role"
    role_not_allowed_at_level = "role_not_allowed_at_level"
    global_admin_only = "global_admin_only"
    # Settings and the command line.
    invalid_setting = "invalid_setting"
    invalid_usage = "invalid_usage"
    no_ledger = "no_ledger"
    database_url_unsupported = "database_url_unsupported"
    database_error = "database_error"
    output_unwritable = "output_unwritable"
    ledger_not_empty = "ledger_not_empty"
    output_exists = "output_exists"
    backup_invalid = "backup_invalid"
    backup_tools_missing = "backup_tools_missing"
    backup_failed = "backup_failed"
    label_keys_invalid = "label_keys_invalid"
    import_invalid = "import_invalid"
    import_file_unreadable = "import_file_unreadable"
    tls_file_unreadable = "tls_file_unreadable"
    tls_file_invalid = "tls_file_invalid"
    tls_key_mismatch = "tls_key_mismatch"
    internal_error = "internal_error"


class LedgerError(Exception):
    """A refused command: a stable code, a clerk-readable message, and the offending field."""

    def __init__(
        self,
        code: Code,
        message: str,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field
        # What a client needs to act on the refusal (e.g. the missing lines of a shortage):
        # plain JSON values, answered as extension members of the problem details.
        self.details = details


class InvariantBroken(Exception):
    """A ledger invariant failed while writing: a bug. The database transaction is rolled back."""


def require(condition: bool, message: str) -> None:
    """Check an invariant; unlike `assert` this is never compiled away."""
    if not condition:
        raise InvariantBroken(message)


def check_same_request(found: tuple[str, str], asked: tuple[str, str]) -> None:
    """An idempotency key answers only the request it was first sent with: (operation, digest of
    the content) stored against (operation, digest) asked; refused as idempotency_key_reused."""
    if found != asked:
        raise LedgerError(
            Code.idempotency_key_reused,
            "该幂等键已用于内容不同的请求 (idempotency key already used for a different request)",
            "idempotency_key",
        )


def present(value: T | None, message: str) -> T:
    """`value`, which an invariant says is there (InvariantBroken when it is None)."""
    if value is None:
        raise InvariantBroken(message)
    return value


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
            Code.quantity_too_large,
            f"数量过大，最多 {quantity_per_line_max} (quantity above {quantity_per_line_max}): "
            f"{quantity}",
            field,
        )


def check_date(value: dt.date, field: str) -> None:
    """A date the ledger can hold: between `date_min` and `date_max`."""
    if not date_min <= value <= date_max:
        raise LedgerError(
            Code.date_out_of_range,
            f"日期 {value} 超出范围 {date_min} 至 {date_max} (date outside {date_min}..{date_max})",
            field,
        )


def check_text(value: str, field: str, length_max: int, required: bool = True) -> None:
    if not isinstance(value, str) or (required and not value.strip()):
        raise LedgerError(Code.invalid_field, f"{field} 不能为空 (required)", field)
    if len(value) > length_max:
        raise LedgerError(
            Code.text_too_long,
            f"{field} 过长：{len(value)} 个字符，最多 {length_max} 个 "
            f"(too long: at most {length_max} characters)",
            field,
        )


# bidirectional formatting characters (LRE…RLO, LRI…PDI, the marks): U+202E turns text around
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def check_one_line(value: str, field: str, label: str = "") -> None:
    """A one-line text (a title): no control character (a line break, a tab, NUL …), line or
    paragraph separator, or bidirectional override, which would make it print otherwise than
    it reads."""
    for ch in value:
        code = ord(ch)
        if code < 0x20 or 0x7F <= code < 0xA0 or ch in "\u2028\u2029" or ch in BIDI_CONTROLS:
            raise LedgerError(
                Code.invalid_character,
                f"{label or field} 不能含有换行、制表等控制字符或文字方向控制字符（U+{code:04X}），"
                f"请删除后重填 (control or bidi character U+{code:04X})",
                field,
            )
