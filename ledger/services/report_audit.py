"""Audit reports: the stocktake report, printable vouchers, and the audit sample."""

from __future__ import annotations

import datetime as dt

from ledger.commands import SHORTAGE_REASON_NAMES
from ledger.db import balance_queries
from ledger.db.store import LedgerStore
from ledger.limits import audit_sample_size_max
from ledger.model import WRITE_OFF_REASON_NAMES, TransactionKind
from ledger.rules import Code, LedgerError
from ledger.services.report_common import VOUCHER_TITLES
from ledger.services.report_formats import Column, Report
from ledger.services.stocktake_approval import reconciliation as stocktake_reconciliation


def stocktake_report(store: LedgerStore, number: str, threshold: float) -> Report:
    """盘点报告: the reconciliation with 盘盈/盘亏 per line and signature fields."""
    result = stocktake_reconciliation(store, number, threshold)
    rows = tuple(
        (
            line.location_code,
            line.location_name,
            line.item_name,
            line.batch_number,
            line.unit,
            line.book,
            line.counted,
            line.difference,
            line.after_cut_off,
            line.outcome_name,
        )
        for line in result.lines
    )
    rates = "；".join(f"{r.location_name} {r.rate * 100:.2f}%" for r in result.by_location)
    return Report(
        "stocktake",
        "盘点报告（帐物相符核对表）",
        f"盘点单 {result.number}　截止 {result.cut_off}　帐物相符率 {result.rate * 100:.2f}%"
        f"（标准 ≥ {threshold * 100:g}%，{'达标' if result.passed else '未达标'}）",
        (
            Column("location_code", "库点编码"),
            Column("location_name", "库点"),
            Column("item_name", "物资名称"),
            Column("batch_number", "批次"),
            Column("unit", "单位"),
            Column("book", "账面数", "int"),
            Column("counted", "实盘数", "int"),
            Column("difference", "盈亏数", "int"),
            Column("after_cut_off", "截止后变动", "int"),
            Column("outcome", "结果"),
        ),
        rows,
        notes=(f"各库点帐物相符率：{rates}",) if rates else (),
        signatures=("盘点人", "监盘人", "审核人"),
    )


def reason_name(kind: TransactionKind, reason: str) -> str:
    """A voucher's reason in words: 报损原因, 短少原因 on a confirmation, 盘点 …"""
    if kind is TransactionKind.write_off:
        return WRITE_OFF_REASON_NAMES.get(reason, reason)
    if kind is TransactionKind.confirmation:
        if reason == "short_delivery":  # recorded before the reason was asked for
            return "短少"
        return SHORTAGE_REASON_NAMES.get(reason, reason)  # type: ignore[call-overload]
    if kind is TransactionKind.stocktake and reason == "stocktake":
        return "盘点盈亏"
    return reason


def voucher(store: LedgerStore, number: str) -> Report:
    """A printable voucher (入库单, 出库单, 调拨单, 发放单, 报损单, 盘点单 …) for one transaction."""
    transaction = store.transaction_by_number(number)
    location = store.location(transaction.location_code).location
    counterparty = (
        store.location(transaction.counterparty_code).location.name
        if transaction.counterparty_code
        else ""
    )
    rows = []
    for posting in transaction.postings:
        item = store.item(posting.item_code).item
        rows.append(
            (
                store.location(posting.location_code).location.name,
                item.name,
                posting.batch_number,
                posting.quantity,
                item.base_unit,
            )
        )
    subtitle = f"单号 {transaction.number}　日期 {transaction.occurred_on}　单位 {location.name}"
    if counterparty:
        subtitle += f"　对方 {counterparty}"
    notes = [f"摘要：{transaction.memo}"] if transaction.memo else []
    if transaction.reason:
        notes.append(f"原因：{reason_name(transaction.kind, transaction.reason)}")
    receiver = transaction.receiver
    if transaction.kind in (TransactionKind.issue, TransactionKind.transfer):
        confirmation = store.active_confirmation(transaction.sequence)
        if confirmation is not None:  # the shipment's 签收人 signed its confirmation
            receiver = store.transaction_by_number(confirmation).receiver
            notes.append(f"签收单：{confirmation}")
    return Report(
        "voucher",
        VOUCHER_TITLES[transaction.kind],
        subtitle,
        (
            Column("location", "库点"),
            Column("item_name", "物资名称"),
            Column("batch_number", "批次"),
            Column("quantity", "数量（正为收、负为发）", "int"),
            Column("unit", "单位"),
        ),
        tuple(rows),
        notes=tuple(notes),
        signatures=(
            f"制单人：{transaction.maker}",
            f"审核人：{transaction.approver or ''}",
            f"签收人：{receiver or ''}",
        ),
    )


def audit_sample(store: LedgerStore, under: str, size: int, seed: int, today: dt.date) -> Report:
    """抽查: a reproducible random sample of `size` accounts in stock under a node, stratified by
    level (county, township, village: each level's share of the sample follows its share of
    the accounts, at least one where it has any), as a count sheet with an empty 实盘数 column."""
    import random

    if not 1 <= size <= audit_sample_size_max:
        raise LedgerError(
            Code.invalid_field,
            f"抽查数量须在 1 到 {audit_sample_size_max} 之间 (size 1–{audit_sample_size_max})",
            "size",
        )
    top = store.location(under, "under")
    lines = balance_queries.balances(store.connection, under_path=top.path)
    strata: dict[str, list] = {}
    for line in lines:
        level = store.location(line.location_code).location.level.value
        strata.setdefault(level, []).append(line)
    total = sum(len(group) for group in strata.values())
    rng = random.Random(seed)
    chosen = []
    order = ("city", "county", "township", "village")
    shares = {
        level: max(1, round(size * len(strata[level]) / total)) if strata.get(level) else 0
        for level in order
    }
    wanted = min(size, total)
    while sum(shares.values()) > wanted:  # rounding up the small strata overshot
        biggest = max(shares, key=lambda level: shares[level])
        shares[biggest] -= 1
    while sum(shares.values()) < wanted:  # or rounding down fell short
        roomiest = max(order, key=lambda level: len(strata.get(level, [])) - shares[level])
        shares[roomiest] += 1
    for level in order:
        group = sorted(
            strata.get(level, []), key=lambda b: (b.location_code, b.item_code, b.batch_number)
        )
        chosen += rng.sample(group, min(shares[level], len(group)))
    rows = tuple(
        (
            line.location_code,
            line.location_name,
            store.location(line.location_code).location.level.value,
            line.item_name,
            line.batch_number,
            line.unit,
            line.on_hand,
            None,
        )
        for line in sorted(chosen, key=lambda b: (b.location_code, b.item_code, b.batch_number))
    )
    return Report(
        "audit-sample",
        "抽查盘点表",
        f"{top.location.name}及下级　抽查 {len(rows)} 个账户（共 {total} 个）　随机种子 {seed}　{today}",
        (
            Column("location_code", "库点编码"),
            Column("location_name", "库点"),
            Column("level", "层级"),
            Column("item_name", "物资名称"),
            Column("batch_number", "批次"),
            Column("unit", "单位"),
            Column("book", "账面数", "int"),
            Column("counted", "实盘数", "int"),
        ),
        rows,
        notes=("同一随机种子得到同一样本；各层级按账户数比例抽取。",),
        signatures=("盘点人", "监盘人", "审核人"),
    )
