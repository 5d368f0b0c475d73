"""凭证: any voucher (transaction) by number, printable; a list to find them."""

from __future__ import annotations

HANDLERS: list = []
