"""Reversal (红冲): the mirror of an earlier voucher, once, never of a reversal, and of a
shipment only after its confirmation is reversed."""

from __future__ import annotations

import datetime as dt

from ledger import commands as c
from ledger.model import AccountKey, Transaction, TransactionKind
from ledger.posting import Leg, mirror_legs
from ledger.rules import Code, LedgerError
from ledger.services.checks import business_date, check_memo
from ledger.services.movements import SHIPMENT_KINDS
from ledger.services.ports import Store


def reverse(store: Store, command: c.Reverse, today: dt.date) -> Transaction:
    on = business_date(command.occurred_on, today)
    check_memo(command.memo)
    original = store.transaction_by_number(command.transaction_number, lock=True)
    if original.kind is TransactionKind.reversal:
        raise LedgerError(
            Code.reversal_of_reversal,
            f"{original.number} 本身是红冲单，不能再红冲 (cannot reverse a reversal)",
            "transaction_number",
        )
    existing = store.reversal_of(original.sequence)
    if existing is not None:
        raise LedgerError(
            Code.reversal_already_exists,
            f"{original.number} 已被 {existing} 红冲 (already reversed)",
            "transaction_number",
        )
    if original.kind in SHIPMENT_KINDS:
        confirmation = store.active_confirmation(original.sequence)
        if confirmation is not None:
            raise LedgerError(
                Code.shipment_already_confirmed,
                f"{original.number} 已由 {confirmation} 签收，请先红冲签收单 (reverse the confirmation first)",
                "transaction_number",
            )
    if on < original.occurred_on:
        raise LedgerError(
            Code.date_before_last_movement,
            f"红冲日期 {on} 早于原单日期 {original.occurred_on}",
            "occurred_on",
        )
    legs = []
    for posting in original.postings:
        location = store.location(posting.location_code)
        item = store.item(posting.item_code)
        batch = store.batch(item, posting.batch_number)
        legs.append(
            Leg(AccountKey(location.id, item.id, batch.id), posting.quantity, location.physical)
        )
    counterparty = (
        store.location(original.counterparty_code) if original.counterparty_code else None
    )
    memo = command.memo or f"红冲 {original.number}"
    return store.post(
        TransactionKind.reversal,
        on,
        store.location(original.location_code),
        mirror_legs(legs),
        counterparty=counterparty,
        reverses=original,
        memo=memo,
    )
