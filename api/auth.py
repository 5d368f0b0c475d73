"""Who is asking: a bearer token (API clients) or a web session's cookie (the workspace and
/scan in a browser), and the log of refused tokens.

A request that comes with a session cookie and changes something (any method but GET, HEAD and
OPTIONS) must carry the session's CSRF token: the `X-CSRF-Token` header (htmx and the pages'
scripts send it) or a form's `_csrf` field; otherwise it is refused with 403 `csrf_failed`.
What each user may then do is api/policy.py's.
"""

from __future__ import annotations

import secrets
import time

import anyio
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from ledger.rules import Code, LedgerError
from ledger.services.sign_ins import record_failed_sign_in
from ledger.services.users import authenticate
from ledger.services.web_sign_in import Session, session_of

# Paths anybody reaches: the sign-in page (`/` answers it when nobody is signed in), the
# health check, the API's documentation and the app's own scripts and styles.
PUBLIC_PATHS = [
    "^/$",
    "^/sign-in$",
    "^/health$",
    "^/schema",
    "^/static/",
    "^/scan-sw\\.js$",
    "^/scan\\.webmanifest$",
]
SESSION_COOKIE = "ledger_session"
CSRF_FIELD = "_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


token_cache_seconds = 2.0  # a token revoked by another process stops working within this long
token_cache_size_max = 10_000


class Authentication(AbstractAuthenticationMiddleware):
    """A bearer token when the request has an Authorization header, else the session of its
    cookie (`by_session`).

    Looks the token's hash up in the database; a hit is remembered for a couple of seconds
    so that a busy client costs one lookup per `token_cache_seconds`, not one per request.

    A change of a user made through this process (revoked, token reset, roles or location
    changed) takes effect at once: `forget_user` drops the user's entries, and an entry read
    from the database before the change is never used after it."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        if "authorization" not in connection.headers:
            cookie = connection.cookies.get(SESSION_COOKIE)
            if cookie:
                return await self.by_session(connection, cookie)
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

    async def by_session(self, connection: ASGIConnection, cookie: str) -> AuthenticationResult:
        state = connection.app.state
        session = await anyio.to_thread.run_sync(
            session_of, state.database, cookie, state.settings.session_idle_minutes
        )
        if session is None:
            raise NotAuthorizedException("no session")
        if Request(connection.scope).method not in SAFE_METHODS:
            await check_csrf(connection, session)
        return AuthenticationResult(user=session.user, auth=session)


async def check_csrf(connection: ASGIConnection, session: Session) -> None:
    """A change made with a session cookie carries the session's CSRF token: the header, or —
    for a workspace page's form — the form's `_csrf` field, which the body guard checks once it
    has read the form (`CSRF_EXPECTED` in the request's state, api/guard.py)."""
    sent = connection.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = connection.headers.get("content-type", "").split(";")[0].strip().lower()
        handler = connection.scope.get("route_handler")
        if content_type in FORM_TYPES and handler is not None and handler.opt.get("web"):
            connection.scope["state"][CSRF_EXPECTED] = session.csrf_token
            return
    check_csrf_token(sent, session.csrf_token)


CSRF_EXPECTED = "ledger_csrf_expected"


def check_csrf_token(sent: object, expected: str) -> None:
    if not isinstance(sent, str) or not secrets.compare_digest(sent, expected):
        raise LedgerError(
            Code.csrf_failed,
            "页面已过期或不是本系统的页面提交的，请刷新页面后重试 (CSRF check failed)",
        )


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
