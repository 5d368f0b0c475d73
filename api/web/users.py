"""用户: admins add users, change roles and location, reset passwords, revoke."""

from __future__ import annotations

HANDLERS: list = []
