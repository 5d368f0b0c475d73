"""出入库: receipts, issues, distributions, returns, write-offs and reversals (红冲) as forms."""

from __future__ import annotations

HANDLERS: list = []
