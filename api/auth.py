"""Who is asking: bearer-token authentication, and the log of refused tokens.

What each user may then do is api/policy.py's.
"""

from __future__ import annotations

import time

import anyio
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from ledger.services.sign_ins import record_failed_sign_in
from ledger.services.users import authenticate

PUBLIC_PATHS = ["^/health$", "^/schema", "^/scan", "^/static/"]


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
    record_failed_sign_in(connection.app.state.database, client, token, count)
