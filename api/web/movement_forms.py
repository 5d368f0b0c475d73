"""The movement forms' data: which forms there are, their lines as the page names them
(`item_0`, `batch_0`, `unit_0`, `qty_0`, `expires_0` …), the command a posted form makes, and
a refusal of that command put beside the input at fault."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from ledger import commands as c
from ledger.limits import lines_per_transaction_max
from ledger.model import Item, Role
from ledger.rules import Code, LedgerError

Command = c.Receive | c.Issue | c.Distribute | c.Return | c.WriteOff


class Kind(NamedTuple):
    """A movement form: its path (/movements/<slug>), its Chinese name, and what it asks."""

    slug: str
    title: str
    outgoing: bool  # lines are taken from stock here (a batch picker of what is here)
    refuses_expired: bool  # expired batches may not leave this way (issue, distribution)
    hint: str


KINDS: dict[str, Kind] = {
    kind.slug: kind
    for kind in (
        Kind("receipt", "入库", False, False, "从供货方（印刷厂、生产企业、上级配送）收到的货。"),
        Kind("issue", "出库", True, True, "发往下级库点，对方签收后入账。"),
        Kind("distribution", "发放", True, True, "发给群众（如宣传活动、入户发放）。"),
        Kind("return", "退回", True, False, "退回上级库点。"),
        Kind("write-off", "报损", True, False, "过期、破损、召回、丢失等原因核销库存。"),
    )
}

ROLE = Role.clerk

# What each input is called on the page, for messages that name a command's field.
LABELS = {
    "item_code": "物资",
    "batch_number": "批号",
    "quantity": "数量",
    "unit": "单位",
    "expires_on": "有效期至",
    "produced_on": "生产/印制日期",
    "occurred_on": "业务日期",
    "memo": "摘要",
    "reason": "报损原因",
    "destination_code": "接收库点",
}
# A command's line field -> the page's input of that row.
LINE_INPUTS = {
    "item_code": "item",
    "batch_number": "batch",
    "quantity": "qty",
    "unit": "unit",
    "expires_on": "expires",
    "produced_on": "expires",
}
FORM_FIELDS = ("occurred_on", "memo", "reason", "destination_code")
LINE_FIELD = re.compile(r"^lines\[(\d+)\](?:\.(\w+))?$")


@dataclass
class Row:
    """One line of the form as typed (all text)."""

    index: int
    item: str = ""
    batch: str = ""
    unit: str = ""
    qty: str = ""
    expires: str = ""

    def blank(self) -> bool:
        return not (self.item or self.batch or self.qty or self.expires)

    def name(self, part: str) -> str:
        return f"{part}_{self.index}"


def text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def row_count(data: dict[str, Any]) -> int:
    """How many lines the form shows (its hidden `rows`), at least one."""
    raw = text(data, "rows")
    count = int(raw) if raw.isdecimal() and len(raw) <= 4 else 1
    return min(max(count, 1), lines_per_transaction_max)


def rows_of(data: dict[str, Any], count: int | None = None) -> list[Row]:
    count = row_count(data) if count is None else count
    return [
        Row(
            index,
            text(data, f"item_{index}"),
            text(data, f"batch_{index}"),
            text(data, f"unit_{index}"),
            text(data, f"qty_{index}"),
            text(data, f"expires_{index}"),
        )
        for index in range(count)
    ]


def parse_date(value: str, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise LedgerError(
            Code.invalid_field, f"日期应写成 YYYY-MM-DD，如 2026-06-30：{value!r}", field
        ) from None


def parse_quantity(row: Row, item: Item, field: str) -> int:
    """The typed quantity as a whole number of the chosen unit (packs or base units)."""
    raw = row.qty.replace(",", "").replace("，", "").strip()
    if not raw:
        raise LedgerError(Code.invalid_field, "请填写数量", field)
    if re.fullmatch(r"[+-]?\d{1,12}", raw):
        return int(raw)
    unit = row.unit or item.base_unit
    if unit != item.base_unit and re.fullmatch(r"\d*\.\d+|\d+\.\d*", raw):
        raise LedgerError(
            Code.quantity_not_whole_packs,
            f"数量须为整{unit}：{raw} {unit} 不是整数，零散的请改按{item.base_unit}填写",
            field,
        )
    raise LedgerError(Code.invalid_field, f"数量必须是整数：{raw!r}", field)


def _line(kind: Kind, row: Row, item: Item, at: int) -> c.ReceiptLine | c.LineSpec:
    field = f"lines[{at}]"
    quantity = parse_quantity(row, item, f"{field}.quantity")
    unit = row.unit or None
    if kind.slug == "receipt":
        if not row.batch:
            raise LedgerError(Code.invalid_field, "请填写批号", f"{field}.batch_number")
        expires = parse_date(row.expires, f"{field}.expires_on")
        return c.ReceiptLine(item.code, row.batch, quantity, unit, expires_on=expires)
    return c.LineSpec(item.code, quantity, row.batch or None, unit)


def lines_of(kind: Kind, rows: list[Row], items: dict[str, Item], line_rows: list[int]) -> list:
    """The command's lines from the rows that are filled in; `line_rows` gets the row of each
    line as it is read (so that a refusal of line i is put beside row line_rows[i])."""
    lines: list = []
    for row in rows:
        if row.blank():
            continue
        at = len(lines)
        line_rows.append(row.index)
        item = items.get(row.item)
        if item is None:
            raise LedgerError(Code.invalid_field, "请选择物资", f"lines[{at}].item_code")
        lines.append(_line(kind, row, item, at))
    if not lines:
        raise LedgerError(
            Code.invalid_field, "至少填写一行：选择物资并填写数量", "lines[0].item_code"
        )
    return lines


def command_of(kind: Kind, location_code: str, data: dict[str, Any], lines: list) -> Command:
    """The command the form asks for (the API's command of the same kind)."""
    on = parse_date(text(data, "occurred_on"), "occurred_on")
    memo = text(data, "memo")
    if kind.slug == "receipt":
        return c.Receive(location_code, tuple(lines), on, memo)
    if kind.slug == "issue":
        destination = text(data, "destination_code")
        if not destination:
            raise LedgerError(Code.invalid_field, "请选择接收库点", "destination_code")
        return c.Issue(location_code, destination, tuple(lines), on, memo)
    if kind.slug == "distribution":
        return c.Distribute(location_code, tuple(lines), on, memo)
    if kind.slug == "return":
        return c.Return(location_code, tuple(lines), on, memo)
    reason = text(data, "reason")
    if not reason:
        raise LedgerError(Code.invalid_field, "请选择报损原因", "reason")
    return c.WriteOff(location_code, tuple(lines), reason, on, memo)


def input_of(error: LedgerError, line_rows: list[int], lines: list, items: dict[str, Item]) -> str:
    """The page's input a refusal is about: `lines[1].quantity` is the quantity of the row the
    second line came from; a balance's refusal (`quantity`, naming the account) the row of that
    item and batch; "" when it names no input of the form."""
    field = error.field or ""
    if field in FORM_FIELDS:
        return field
    found = LINE_FIELD.match(field)
    if found is not None:
        at, part = int(found.group(1)), found.group(2)
        if at >= len(line_rows):  # the blank form's first line
            return f"{LINE_INPUTS.get(part or 'item_code', 'item')}_0"
        return f"{LINE_INPUTS.get(part or 'batch_number', 'qty')}_{line_rows[at]}"
    if field == "quantity":
        for at, line in enumerate(lines):
            item = items.get(line.item_code)
            named = item is not None and f"·{item.name}·" in error.message
            batch = line.batch_number
            if named and (batch is None or f"批次{batch}" in error.message):
                return f"qty_{line_rows[at]}"
        if len(line_rows) == 1:
            return f"qty_{line_rows[0]}"
    return ""


def readable(message: str, field: str | None) -> str:
    """A refusal's message with a command's field name (`lines[0].batch_number`) replaced by
    what the page calls the input (批号)."""
    if not field or field not in message:
        return message
    last = field.rsplit(".", 1)[-1]
    label = LABELS.get(last)
    return message.replace(field, label) if label else message


def unit_options(item: Item | None) -> list[tuple[str, str]]:
    """The units a line may count in: the base unit, then each pack with its size."""
    if item is None:
        return []
    options = [(item.base_unit, item.base_unit)]
    options += [
        (pack.name, f"{pack.name}（{pack.base_units:,} {item.base_unit}）") for pack in item.packs
    ]
    return options
