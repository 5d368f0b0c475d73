"""Bearer-token authentication and the subtree rules of who may see and touch what.

Roles: admin (everything in its city), clerk (movements at its location), requester (its own
requests and receipts addressed to it), approver (requests from its subtree), auditor
(read-only across its subtree). A user may hold several roles at its location (a county clerk
who also approves) and may then do what each of them may; a user holding admin is an admin.
Everybody reads only inside their subtree; virtual locations are visible to users at the top
of the tree.

Roots are separate. Each root location (a city: a location without parent) is its own ledger,
even when several share one database: nobody's subtree crosses from one root into another. An
admin at any location of a city is that city's admin: its reach is the city's whole subtree,
never another city's. A **global admin** — an `admin` user made with `ledger users add --role
admin --global` (stored at a virtual location, none of the cities) — reaches every root. The
virtual locations (supplier, in-transit, distributed, scrapped, adjustment) are shared by every
root: their names are visible at the top of each tree, but a virtual account's balance holds
every root's movements, so only a global admin reads it as stored; everybody else reads their
own root's share of it (see `balances`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import anyio
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from api.errors import Forbidden
from ledger.db import oplog
from ledger.rules import LedgerError
from ledger.services.users import User, authenticate

PUBLIC_PATHS = ["^/health$", "^/schema", "^/scan"]


token_cache_seconds = 2.0  # a token revoked by another process stops working within this long
token_cache_size_max = 10_000


class BearerAuthentication(AbstractAuthenticationMiddleware):
    """Looks the token's hash up in the database; a hit is remembered for a couple of seconds
    so that a busy client costs one lookup per `token_cache_seconds`, not one per request.

    A change of a user made through this process (revoked, token reset, roles or location
    changed) takes effect at once: `forget_user` drops the user's entries, and an entry read
    from the database before the change is never used after it."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("missing bearer token")
        state = connection.app.state
        cache: dict = state.setdefault("token_cache", {})
        changed: dict = state.setdefault("users_changed", {})
        now = time.monotonic()
        cached = cache.get(token)
        if cached is not None and cached[1] > now and cached[2] > changed.get(cached[0].id, -1.0):
            return AuthenticationResult(user=cached[0], auth=token)
        user = authenticate(state.database, token)
        if user is None:
            cache.pop(token, None)
            # a write: off the event loop, so a held SQLite write lock stalls only this request
            await anyio.to_thread.run_sync(failed_sign_in, connection, token, now)
            raise NotAuthorizedException("unknown or revoked token")
        if len(cache) >= token_cache_size_max:
            cache.clear()
        cache[token] = (user, now + token_cache_seconds, now)  # (user, until, read at)
        return AuthenticationResult(user=user, auth=token)


def forget_user(state, user_id: int) -> None:
    """The user changed (revoked, new token, other roles or place): this process stops using
    what it remembered of it at once, including a lookup that was under way during the
    change."""
    cache: dict = state.setdefault("token_cache", {})
    changed: dict = state.setdefault("users_changed", {})
    if len(changed) >= token_cache_size_max:
        changed.clear()
        cache.clear()
    changed[user_id] = time.monotonic()
    for token, (user, *_) in list(cache.items()):
        if user.id == user_id:
            cache.pop(token, None)


failed_sign_in_log_interval_seconds = 60.0  # one log entry per client and minute at most


def failed_sign_in(connection: ASGIConnection, token: str, now: float) -> None:
    """Log a refused token (操作日志 `sign_in.failed`): the client's address and a fingerprint
    of the token (never the token), at most once a minute per address, with how many refusals
    that entry stands for — a client trying tokens in a loop cannot flood the log."""
    client = connection.client.host if connection.client else "unknown"
    seen: dict = connection.app.state.setdefault("failed_sign_ins", {})
    first, count = seen.get(client, (None, 0))
    count += 1
    if first is not None and now - first < failed_sign_in_log_interval_seconds:
        seen[client] = (first, count)
        return
    if len(seen) >= token_cache_size_max:
        seen.clear()
    seen[client] = (now, 0)
    fingerprint = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:12]
    connection.app.state.database.write(
        lambda store: oplog.record(
            store,
            "sign_in.failed",
            "client",
            client,
            user_id=None,
            actor="未知令牌 (unknown token)",
            after={"token_sha256_prefix": fingerprint, "refusals": count},
        )
    )


def roles(*allowed: str):
    """A guard: only users holding one of these roles (admin always) reach the handler."""

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        user: User = connection.user
        if not user.has("admin") and not any(user.has(role) for role in allowed):
            held = "、".join(sorted(user.roles))
            raise Forbidden(f"角色 {held} 无权执行此操作 (role not allowed)")

    return guard


def is_global(user: User) -> bool:
    """A global admin: reaches every root (the only one who does)."""
    return user.is_global


def root_path(user: User) -> str:
    """The path of the root (city) the user belongs to: '/510100/'."""
    return "/" + user.location_path.split("/")[1] + "/"


def root_code(user: User) -> str | None:
    """The code of the user's root; None for a global admin (no root of its own)."""
    return None if user.is_global else user.location_path.split("/")[1]


def scope_path(user: User) -> str | None:
    """The subtree the user reaches, as a path prefix: its own location's for every role but
    admin, its city's for an admin; None (everything) for a global admin."""
    if user.is_global:
        return None
    if user.has("admin"):
        return root_path(user)
    return user.location_path


def in_subtree(user: User, path: str) -> bool:
    scope = scope_path(user)
    return scope is None or path.startswith(scope)


def at_top(user: User) -> bool:
    """At the top of a tree: a user at a root, any admin (its reach is its root's), a global
    admin."""
    return user.has("admin") or user.is_root


def can_see(user: User, path: str, physical: bool = True) -> bool:
    if not physical:  # a shared virtual place (its name; see the module's note on balances)
        return at_top(user)
    return in_subtree(user, path)


def require_visible(user: User, path: str, physical: bool = True, what: str = "") -> None:
    """Refuse what the user may not see. `what` (the place's name) is shown only for a place
    of the user's own city: another city's names are its own business."""
    if not can_see(user, path, physical):
        if physical:
            require_same_root(user, path)
        raise Forbidden(f"{what or '该库点'} 不在您的管辖范围内 (outside your subtree)")


def require_at(
    user: User,
    location_code: str,
    role: str,
    what: str = "",
    locate: Callable[[str], Any] | None = None,
) -> None:
    """The user holds `role` at exactly this location (or is an admin whose city holds it).

    locate: finds a location by code (its `.path` is read). An admin of a city is allowed only
    where it shows the location in its city (without it, refused: every caller passes it); a
    global admin is allowed anywhere. A refusal names the location only inside the user's city.
    """
    if user.has("admin"):
        if user.is_global or (locate is not None and in_subtree(user, locate(location_code).path)):
            return
        raise Forbidden(OUTSIDE_ROOT)
    if not user.has(role) or user.location_code != location_code:
        path = None
        if locate is not None:
            with suppress(LedgerError):  # an unknown code: the message below only repeats it
                path = locate(location_code).path
        if path is not None:
            require_same_root(user, path)
        raise Forbidden(
            f"只有{location_code}的{role}可以{what} (only the {role} at {location_code})"
        )


OUTSIDE_ROOT = "不在您所在市的账内 (outside your root)"


def require_same_root(user: User, path: str) -> None:
    """Refuse, naming nothing, a location of another root (city) than the user's: a refusal
    about it must not tell the other city's codes or names."""
    if not user.is_global and not path.startswith(root_path(user)):
        raise Forbidden(OUTSIDE_ROOT)
