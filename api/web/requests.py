"""申领: allocation requests — create, edit, submit, approve in part or reject, ship with the FEFO suggestion, confirm arrival with shortages explicit; the timeline."""

from __future__ import annotations

HANDLERS: list = []
