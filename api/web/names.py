"""Chinese names for what the ledger stores as codes: what a page shows instead of `draft`,
`issue` or `county`. The core's own tables are used where it has them."""

from __future__ import annotations

from ledger.commands import ShortageReason
from ledger.model import (
    WRITE_OFF_REASON_NAMES,
    ItemKind,
    LocationLevel,
    ScanDocumentStatus,
    TransactionKind,
    VirtualLocation,
)
from ledger.packs import PackState
from ledger.requests import STATUS_NAMES as REQUEST_STATUSES
from ledger.requests import RequestEventAction
from ledger.services.scan_models import PURPOSE_NAMES
from ledger.services.stocktake_scope import STATUS_NAMES as STOCKTAKE_STATUS_NAMES
from ledger.services.users import ROLE_NAMES

KIND_NAMES: dict[str, str] = {
    TransactionKind.receipt: "入库",
    TransactionKind.issue: "出库",
    TransactionKind.transfer: "调拨",
    TransactionKind.confirmation: "签收",
    TransactionKind.distribution: "发放",
    TransactionKind.return_: "退回",
    TransactionKind.write_off: "报损",
    TransactionKind.stocktake: "盘点调整",
    TransactionKind.reversal: "红冲",
    TransactionKind.opening: "期初建账",
}
LEVEL_NAMES: dict[str, str] = {
    LocationLevel.city: "市",
    LocationLevel.county: "区(市)县",
    LocationLevel.township: "乡镇/街道",
    LocationLevel.village: "村/社区",
    LocationLevel.virtual: "虚拟库点",
}
ITEM_KIND_NAMES: dict[str, str] = {ItemKind.printed: "宣传品", ItemKind.contraceptive: "计生药具"}
REQUEST_STATUS_NAMES: dict[str, str] = REQUEST_STATUSES
REQUEST_EVENT_NAMES: dict[str, str] = {
    RequestEventAction.created: "新建",
    RequestEventAction.edited: "修改",
    RequestEventAction.submitted: "提交",
    RequestEventAction.cancelled: "撤销",
    RequestEventAction.rejected: "驳回",
    RequestEventAction.approved: "批准",
    RequestEventAction.closed: "关闭",
    RequestEventAction.shipped: "发货",
    RequestEventAction.received: "签收",
}
SHORTAGE_REASON_NAMES: dict[str, str] = {
    ShortageReason.lost_in_transit: "运输丢失",
    ShortageReason.damaged: "破损",
    ShortageReason.short_shipped: "发货短少",
    ShortageReason.other: "其他",
}
SCAN_STATUS_NAMES: dict[str, str] = {
    ScanDocumentStatus.open: "进行中",
    ScanDocumentStatus.posted: "已过账",
    ScanDocumentStatus.cancelled: "已作废",
}
VIRTUAL_NAMES: dict[str, str] = {
    VirtualLocation.supplier: "供货方",
    VirtualLocation.in_transit: "在途",
    VirtualLocation.distributed: "已发放",
    VirtualLocation.scrapped: "已报损",
    VirtualLocation.adjustment: "盘点调整",
    VirtualLocation.opening: "期初",
}
PACK_STATE_NAMES: dict[str, str] = {
    PackState.sealed: "完好未拆",
    PackState.opened: "已拆包",
    PackState.in_transit: "在途",
    PackState.announced: "待到货",
    PackState.gone: "已出库",
}

# Every table, for templates: {{ names.kind[t.kind] }}.
NAMES = {
    "kind": KIND_NAMES,
    "level": LEVEL_NAMES,
    "item_kind": ITEM_KIND_NAMES,
    "request_status": REQUEST_STATUS_NAMES,
    "request_event": REQUEST_EVENT_NAMES,
    "stocktake_status": STOCKTAKE_STATUS_NAMES,
    "scan_status": SCAN_STATUS_NAMES,
    "scan_purpose": PURPOSE_NAMES,
    "write_off_reason": WRITE_OFF_REASON_NAMES,
    "shortage_reason": SHORTAGE_REASON_NAMES,
    "role": ROLE_NAMES,
    "virtual": VIRTUAL_NAMES,
    "pack_state": PACK_STATE_NAMES,
}


def name_of(table: str, code: object) -> str:
    """The Chinese name of a code, or the code itself when the table has none."""
    return NAMES[table].get(str(code), str(code))
