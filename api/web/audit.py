"""审计: verification, chain checkpoints, period closes, the operations log."""

from __future__ import annotations

HANDLERS: list = []
