"""Bearer-token authentication and the subtree rules of who may see and touch what.

Roles: admin (everything), clerk (movements at its location), requester (its own requests and
receipts addressed to it), approver (requests from its subtree), auditor (read-only across its
subtree). Everybody reads only inside their subtree; virtual locations are visible to users at
the top of the tree.
"""

from __future__ import annotations

import time

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from api.errors import Forbidden
from ledger.services.users import User, authenticate

PUBLIC_PATHS = ["^/health$", "^/schema", "^/scan"]


token_cache_seconds = 2.0  # a revoked token stops working within this long
token_cache_size_max = 10_000


class BearerAuthentication(AbstractAuthenticationMiddleware):
    """Looks the token's hash up in the database; a hit is remembered for a couple of seconds
    so that a busy client costs one lookup per `token_cache_seconds`, not one per request."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("missing bearer token")
        cache: dict = connection.app.state.setdefault("token_cache", {})
        now = time.monotonic()
        cached = cache.get(token)
        if cached is not None and cached[1] > now:
            return AuthenticationResult(user=cached[0], auth=token)
        user = authenticate(connection.app.state.database, token)
        if user is None:
            cache.pop(token, None)
            raise NotAuthorizedException("unknown or revoked token")
        if len(cache) >= token_cache_size_max:
            cache.clear()
        cache[token] = (user, now + token_cache_seconds)
        return AuthenticationResult(user=user, auth=token)


def roles(*allowed: str):
    """A guard: only these roles (admin always) reach the handler."""

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        user: User = connection.user
        if user.role != "admin" and user.role not in allowed:
            raise Forbidden(f"角色 {user.role} 无权执行此操作 (role not allowed)")

    return guard


def in_subtree(user: User, path: str) -> bool:
    return user.role == "admin" or path.startswith(user.location_path)


def can_see(user: User, path: str, physical: bool = True) -> bool:
    if not physical:
        return user.role == "admin" or user.is_root
    return in_subtree(user, path)


def require_visible(user: User, path: str, physical: bool = True, what: str = "") -> None:
    if not can_see(user, path, physical):
        raise Forbidden(f"{what or '该库点'} 不在您的管辖范围内 (outside your subtree)")


def require_at(user: User, location_code: str, role: str, what: str = "") -> None:
    """The user is `role` at exactly this location (or an admin)."""
    if user.role == "admin":
        return
    if user.role != role or user.location_code != location_code:
        raise Forbidden(
            f"只有{location_code}的{role}可以{what} (only the {role} at {location_code})"
        )
