"""报表: every report with its filters, on screen, printable, downloadable."""

from __future__ import annotations

HANDLERS: list = []
