"""分配方案: split stock over places by weights (population by default), preview, apply."""

from __future__ import annotations

HANDLERS: list = []
