"""库存: stock on hand over the location tree with subtree roll-ups, by item and batch, as of a date; the stock card (明细账); packs of a batch and where they are."""

from __future__ import annotations

HANDLERS: list = []
