"""Chinese names for what the audit pages show: verification findings (codes of
docs/verify.md), the six invariants (DESIGN §3), and the operations log's actions and object
types. A code without a name here is shown as it is."""

from __future__ import annotations

from api.web.names import REQUEST_EVENT_NAMES

INVARIANT_NAMES: dict[int, str] = {
    1: "借贷平衡",
    2: "结存不为负",
    3: "过期批次不出库",
    4: "结存与分录一致",
    5: "记录未被改动",
    6: "预留不超过结存",
}

FINDING_NAMES: dict[str, str] = {
    "unbalanced_transaction": "单据同一物资批次的分录合计不为零",
    "too_few_postings": "单据的分录少于两条",
    "negative_balance": "实物库点的结存为负",
    "expired_batch_moved": "过期批次被出库、调拨或发放",
    "running_balance_mismatch": "分录记下的结存与此前分录之和不符",
    "balance_mismatch": "存储的结存与分录之和不符",
    "balance_missing": "有分录却没有结存记录",
    "closing_balance_mismatch": "月结保存的结存与分录不符",
    "pack_total_mismatch": "整包合计与整包记录不符",
    "packs_exceed_stock": "整包数量超过在库结存",
    "sequence_gap": "单据序号缺号：有单据被删除",
    "chain_broken": "哈希链断开：单据或链被改动",
    "hash_mismatch": "单据内容与其哈希不符：单据被改动",
    "chain_version_unknown": "单据声称的编码版本不存在",
    "chain_version_mismatch": "单据的编码版本不是其序号时所用的",
    "chain_version_downgraded": "单据的编码版本被降级",
    "people_not_hashed": "单据所列制单人、审核人或签收人未纳入哈希",
    "reversed_twice": "同一单据被红冲两次",
    "posting_date_mismatch": "分录日期与单据日期不符",
    "chain_head_mismatch": "记录的链头不是最后一笔单据",
    "close_digest_mismatch": "月结所记的链位置哈希不符",
    "close_beyond_chain": "月结所记的链位置超出账的末尾",
    "close_accounts_mismatch": "月结所记的结存账户数与结存行数不符",
    "close_movement_mismatch": "月结的分类发生额与分录不符",
    "close_item_movement_mismatch": "月结的库点×物资发生额与分录不符",
    "posted_into_closed_period": "月结之后有单据记入已结账期",
    "checkpoint_missing": "账中已没有核验点所指的单据：链尾被截去",
    "checkpoint_mismatch": "核验点所指单据的哈希不同：链从此处或之前被改写",
    "reference_changed_in_place": "基础资料（物资、库点、批次或用户）被直接改动，与最近版本不符",
    "reference_unversioned": "基础资料没有版本记录：在台账之外插入",
    "reference_version_gap": "基础资料的版本不连续：有版本被删除",
    "reference_object_missing": "有版本记录的对象已不存在",
    "unknown_user": "单据所列用户不存在",
    "location_path_mismatch": "库点路径与其上级不符",
    "reserved_exceeds_on_hand": "预留数量超过在库结存",
    "reserved_mismatch": "存储的预留数量与未结预留不符",
    "other_roots": "其他市的单据有问题（只计数，不列出）",
}

ACTION_NAMES: dict[str, str] = {
    "sign_in": "登录",
    "sign_in.failed": "登录失败",
    "sign_in.locked": "登录锁定",
    "sign_out": "退出登录",
    "user.add": "新增用户",
    "user.change": "修改用户",
    "user.revoke": "吊销用户",
    "user.reset_token": "重置访问令牌",
    "user.sign_in": "设置登录名或密码",
    "period.close": "月结",
    "item.add": "新增物资",
    "item.change": "修改物资",
    "batch.change": "修改批次",
    "location.add": "新增库点",
    "location.change": "修改库点",
    "location.population": "修改人口数",
    "stocktake.open": "开始盘点",
    "stocktake.close": "结束盘点",
    "stocktake.recount": "退回重盘",
    "stocktake.approve": "审核盘点",
    "stocktake.zero_uncounted": "未盘记为零",
    "import.items": "导入物资",
    "import.locations": "导入库点",
    "import.opening-balances": "导入期初结存",
    "scan_document.post": "扫码单过账",
    "scan_document.cancel": "扫码单作废",
    "label_key.rotate": "更换标签签名密钥",
    "stock_minimum.set": "设置最低库存",
    "print_plan.save": "保存印制计划",
    **{f"request.{event}": f"申领单{name}" for event, name in REQUEST_EVENT_NAMES.items()},
}

# The action filter's choices: a whole family (a prefix) or one action.
ACTION_CHOICES: tuple[tuple[str, str], ...] = (
    ("", "全部操作"),
    ("sign_in", "登录（含失败、锁定）"),
    ("sign_in.failed", "登录失败"),
    ("sign_in.locked", "登录锁定"),
    ("sign_out", "退出登录"),
    ("user", "用户管理（全部）"),
    ("user.add", "新增用户"),
    ("user.change", "修改用户"),
    ("user.revoke", "吊销用户"),
    ("period.close", "月结"),
    ("stocktake", "盘点（全部）"),
    ("request", "申领单（全部）"),
    ("import", "导入（全部）"),
    ("scan_document", "扫码单（全部）"),
    ("item", "物资（全部）"),
    ("batch", "批次（全部）"),
    ("location", "库点（全部）"),
    ("label_key", "标签密钥"),
)

OBJECT_TYPE_NAMES: dict[str, str] = {
    "user": "用户",
    "login": "登录名",
    "client": "访问令牌",
    "period_close": "月结",
    "item": "物资",
    "batch": "批次",
    "location": "库点",
    "stocktake": "盘点单",
    "request": "申领单",
    "import": "导入",
    "scan_document": "扫码单",
    "label_key": "标签密钥",
}


def action_name(action: str) -> str:
    """The action in Chinese where it has a name; otherwise the code itself."""
    return ACTION_NAMES.get(action, action)
