"""`ledger import template KIND --out FILE.xlsx`: an empty workbook for each import, with the
headers, a second sheet 说明 that explains every column in Chinese, and drop-down lists or
checks (data validation) where a cell has few right answers."""

from __future__ import annotations

import io

from ledger.limits import opening_lines_per_transaction_max
from ledger.rules import Code, LedgerError

LEVEL_WORDS = ("市", "区县", "乡镇", "村")
# The units an office counts in; anything else is a typing mistake until added here.
BASE_UNITS = (
    "张",
    "本",
    "册",
    "份",
    "套",
    "幅",
    "只",
    "个",
    "盒",
    "板",
    "支",
    "片",
    "粒",
    "瓶",
    "袋",
    "贴",
)
PACK_UNITS = (*BASE_UNITS, "捆", "箱", "包", "件", "扎", "沓", "刀", "令", "卷", "桶")

EXPLAIN = {
    "locations": [
        ("编码", "code", "必填", "库点编码，最好用行政区划代码，如 510121；只用字母、数字和 - _ ."),
        ("名称", "name", "必填", "库点名称，如 金堂县、赵家镇、平水村"),
        (
            "上级编码",
            "parent_code",
            "市以外必填",
            "上级库点的编码；上级可以已在账本中，也可以写在本文件中",
        ),
        (
            "级别",
            "level",
            "必填",
            "市、区县、乡镇 或 村；村的上级是乡镇，乡镇的上级是区县，区县的上级是市",
        ),
        (
            "人口",
            "population",
            "选填",
            "不小于 0 的整数；分配计划中不填权重时按人口分配。不填则不改动账本中已有的人口",
        ),
    ],
    "items": [
        ("编码", "code", "必填", "物资编码，如 NH2014；只用字母、数字和 - _ ."),
        ("名称", "name", "必填", "物资名称，如 2014年慰问独生子女家庭户单张年画"),
        ("类别", "category", "必填", "宣传品 或 药具"),
        ("品种", "variety", "选填", "如 年画、挂图、避孕套；不填则用类别"),
        ("单位", "unit", "必填", "数量的基本单位：" + "、".join(BASE_UNITS)),
        (
            "包装",
            "packs",
            "选填",
            "包装与基本单位的换算，如 捆=500; 箱=10000；一套4张的挂图：单位 张，包装 套=4",
        ),
        ("有效期管理", "tracks_expiry", "选填", "是 或 否（不填为否）；药具一般填 是"),
    ],
    "opening-balances": [
        (
            "库点编码",
            "location_code",
            "必填",
            "账本中已有的库点（市、区县、乡镇或村）；每个库点生成一张期初建账单（QC 字号），"
            f"每张最多 {opening_lines_per_transaction_max} 行",
        ),
        ("物资编码", "item_code", "必填", "账本中已有的物资，如 NH2014、BYT"),
        ("批号", "batch_number", "必填", "药具的批号，或宣传品的印次，如 2014-01"),
        (
            "有效期至",
            "expires_on",
            "有效期管理的物资必填",
            "如 2027-06-30；不管理有效期的物资（宣传品）不填；已过期的批次照实填写，之后报损",
        ),
        ("数量", "quantity", "必填", "正整数，按“单位”一列计"),
        (
            "单位",
            "unit",
            "选填",
            "不填为物资的基本单位；也可填包装，如 捆、盒、套，导入时换算成基本单位",
        ),
        ("生产日期", "produced_on", "选填", "生产日期或印制日期，如 2026-03-01"),
    ],
}
SHEET_TITLES = {"locations": "库点", "items": "物资", "opening-balances": "期初余额"}
CHOICES = {
    "级别": list(LEVEL_WORDS),
    "类别": ["宣传品", "药具"],
    "单位": list(BASE_UNITS),
    "有效期管理": ["是", "否"],
}
DATE_COLUMNS = ("有效期至", "生产日期")
# Typed as text, so that Excel keeps 510121101001 whole and 2014-01 a batch number, not a date.
TEXT_COLUMNS = ("编码", "上级编码", "库点编码", "物资编码", "批号")
rows_validated_max = 100_000


def template(kind: str) -> bytes:
    """An empty workbook with the headers, a second sheet explaining each column, and lists
    to choose from for 级别 / 类别 / 单位 / 有效期管理 (dates and quantities are checked as
    such in the opening-balance template; its 单位 may also be a pack, so it has no list)."""
    from openpyxl import Workbook
    from openpyxl.worksheet.datavalidation import DataValidation

    if kind not in EXPLAIN:
        raise LedgerError(
            Code.invalid_usage,
            f"模板只有 {'、'.join(EXPLAIN)}，不是 {kind!r}",
            "kind",
        )
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLES[kind]
    columns = EXPLAIN[kind]
    sheet.append([chinese for chinese, *_ in columns])
    for index, (chinese, *_rest) in enumerate(columns):
        letter = chr(ord("A") + index)
        cells = f"{letter}2:{letter}{rows_validated_max}"
        sheet.column_dimensions[letter].width = 16
        if chinese in TEXT_COLUMNS:
            sheet.column_dimensions[letter].number_format = "@"
        validation = None
        if chinese in CHOICES and not (kind == "opening-balances" and chinese == "单位"):
            validation = DataValidation(
                type="list",
                formula1='"' + ",".join(CHOICES[chinese]) + '"',
                allow_blank=chinese == "有效期管理",
                error=f"请从下拉列表中选：{'、'.join(CHOICES[chinese])}",
            )
        elif chinese in DATE_COLUMNS:
            validation = DataValidation(
                type="date",
                operator="between",
                formula1="DATE(2000,1,1)",
                formula2="DATE(2099,12,31)",
                allow_blank=True,
                error="请填写日期，如 2027-06-30",
            )
        elif chinese == "数量":
            validation = DataValidation(
                type="whole",
                operator="greaterThan",
                formula1="0",
                error="数量应是正整数",
            )
        if validation is not None:
            validation.showErrorMessage = True
            validation.errorTitle = f"{chinese}不对"
            validation.add(cells)
            sheet.add_data_validation(validation)
    help_sheet = book.create_sheet("说明")
    help_sheet.append(["列名", "英文列名", "是否必填", "说明"])
    for row in columns:
        help_sheet.append(list(row))
    help_sheet.column_dimensions["C"].width = 18
    help_sheet.column_dimensions["D"].width = 90
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
