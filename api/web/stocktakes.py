"""盘点: open with scope and cut-off, enter counts, the reconciliation, recount, approve."""

from __future__ import annotations

HANDLERS: list = []
