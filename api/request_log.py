"""One JSON line per request, a request id through every line of it, and `/metrics`.

`Observed` wraps the whole application (outside Litestar's routing and error handling, so that
it sees every answer: a 404 of no route, a 401 of the authentication middleware, a 500). For
each HTTP request it

- takes the request id from `X-Request-ID` when that is 1 to 64 letters, digits, `.`, `_` or
  `-`, and makes one otherwise (16 hexadecimal digits); answers it in `X-Request-ID`;
- counts the request in the metrics (api/metrics.py) by method, route template and status;
- writes one JSON line to standard error (`request_line`, as `ledger.requests`): time, request
  id, method, route template, status, duration in milliseconds and the signed-in user's id.
  Never a header, a cookie, a query string or a body: no token, session or password can reach
  the log. Written straight to the stream, not through `logging`, whose records cost more than
  the rest of this wrapper together (bench/metrics_overhead.py).

Any line logged while the request is under way (an unexpected error's, by api/errors.py)
carries the same request id (`JsonLines` reads it from `request_id`, a context variable).
`install_logging` writes the `ledger` loggers' lines to standard error as JSON lines too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import re
import sys
import time
from contextvars import ContextVar
from typing import Any, cast

import anyio
import msgspec
from litestar import Litestar
from litestar.types import (
    ASGIApp,
    HTTPResponseStartEvent,
    HTTPScope,
    Message,
    Receive,
    Scope,
    Send,
)

from api import metrics
from api.errors import PROBLEM_JSON, Problem
from ledger.settings import Settings

REQUEST_ID_HEADER = b"x-request-id"
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
request_id: ContextVar[str | None] = ContextVar("ledger_request_id", default=None)
log = logging.getLogger("ledger.requests")


def request_id_of(headers: Any) -> str:
    """The client's `X-Request-ID` when it is short and safe, else a new one."""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            sent = value.decode("latin-1")
            if REQUEST_ID.fullmatch(sent):
                return sent
            break
    return os.urandom(8).hex()


class JsonLines(logging.Formatter):
    """A log record as one JSON object: time (UTC), level, logger, request id (when a request
    is under way), the message, and an error's traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
        }
        found = request_id.get()
        if found:
            entry["request_id"] = found
        entry["message"] = record.getMessage()
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return msgspec.json.encode(entry).decode()


class StandardError(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a line is written (a test's capture, too)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonLines())

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def install_logging() -> None:
    """The `ledger` loggers write JSON lines to standard error at INFO and above (once, however
    many apps a process makes); their records still reach the root logger's handlers."""
    logger = logging.getLogger("ledger")
    if not any(isinstance(handler, StandardError) for handler in logger.handlers):
        logger.addHandler(StandardError())
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


class Observed:
    """The application with request ids, metrics and the request log (see the module)."""

    def __init__(self, app: ASGIApp, metrics_token: str | None) -> None:
        self.app = app
        self.metrics_token = metrics_token
        self.lines = RequestLines()
        self.under_way = 0  # requests of this app not yet answered

    async def __call__(self, asked: Scope, receive: Receive, send: Send) -> None:
        if asked["type"] != "http":
            await self.app(asked, receive, send)
            return
        scope = cast("HTTPScope", asked)
        started = time.perf_counter()
        identifier = request_id_of(scope["headers"])
        token = request_id.set(identifier)
        scope.setdefault("state", {})["request_id"] = identifier
        answered = [500]  # the status sent; 500 if the app fails before answering
        header = (REQUEST_ID_HEADER, identifier.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered[0] = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        metrics_asked = scope["path"] == metrics.METRICS_PATH
        self.under_way += 1
        try:
            if metrics_asked:
                await self.answer_metrics(scope, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("request failed before it was answered")
            raise
        finally:
            seconds = time.perf_counter() - started
            route = metrics.METRICS_PATH if metrics_asked else scope.get("path_template")
            metrics.observe_request(scope["method"], route, answered[0], seconds)
            self.under_way -= 1
            line = request_line(scope, identifier, route, answered[0], seconds)
            self.lines.add(line, others_under_way=self.under_way > 0)
            request_id.reset(token)

    async def answer_metrics(self, scope: HTTPScope, send: Send) -> None:
        asked = dict(scope["headers"])
        refusal = metrics.metrics_refusal(self.metrics_token, asked, scope.get("client"))
        headers: list[tuple[bytes, bytes]] = [(b"cache-control", b"no-store")]
        if scope["method"] not in ("GET", "HEAD"):
            status, body = 405, problem(405, "method_not_allowed", "只能用 GET 读取指标")
            headers += [(b"allow", b"GET, HEAD"), (b"content-type", PROBLEM_JSON.encode())]
        elif refusal == 401:
            status, body = 401, problem(401, "unauthenticated", "需要指标令牌 (metrics token)")
            headers += [(b"www-authenticate", b"Bearer"), (b"content-type", PROBLEM_JSON.encode())]
        elif refusal is not None:
            status, body = refusal, problem(refusal, "forbidden", "只能从本机读取指标")
            headers.append((b"content-type", PROBLEM_JSON.encode()))
        else:
            accept = asked.get(b"accept", b"").decode("latin-1")
            status = 200
            body, media_type = await anyio.to_thread.run_sync(metrics.exposition, accept)
            headers.append((b"content-type", media_type.encode("latin-1")))
        headers.append((b"content-length", str(len(body)).encode()))
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": status,
            "headers": headers,
        }
        await send(start)
        content = b"" if scope["method"] == "HEAD" else body
        await send({"type": "http.response.body", "body": content, "more_body": False})


def problem(status: int, code: str, detail: str) -> bytes:
    title = code.replace("_", " ")
    return msgspec.json.encode(Problem(f"urn:ledger:problem:{code}", title, status, code, detail))


def request_line(
    scope: HTTPScope, identifier: str, route: str | None, status: int, seconds: float
) -> str:
    """The request's line, in the shape of `JsonLines`' (level INFO, logger ledger.requests)."""
    line = {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "level": "INFO",
        "logger": "ledger.requests",
        "request_id": identifier,
        "method": scope["method"],
        "route": route or metrics.UNMATCHED,
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "user_id": getattr(scope.get("user"), "id", None),
    }
    return encode(line).decode() + "\n"


encode = msgspec.json.Encoder().encode


class RequestLines:
    """The request lines, written to standard error at once when no other request is under way,
    else together: when `lines_max` wait or `delay_seconds` after the first of them (a write
    per request, each a system call that lets the handlers' threads take the interpreter from
    the event loop, cost the server more than all the rest of this module under load:
    bench/metrics_overhead.py)."""

    lines_max = 64
    delay_seconds = 0.1

    def __init__(self) -> None:
        self.waiting: list[str] = []
        self.flush_due = False

    def add(self, line: str, others_under_way: bool) -> None:
        self.waiting.append(line)
        if not others_under_way or len(self.waiting) >= self.lines_max:
            self.flush()
        elif not self.flush_due:
            self.flush_due = True
            asyncio.get_running_loop().call_later(self.delay_seconds, self.flush)

    def flush(self) -> None:
        self.flush_due = False
        if self.waiting:
            text, self.waiting = "".join(self.waiting), []
            sys.stderr.write(text)


def observe(app: Litestar, settings: Settings, engine: str) -> None:
    """Wrap `app` in `Observed`, count its process among the workers while it serves, and
    write the `ledger` loggers' lines as JSON."""
    install_logging()
    stop = metrics.start_process(engine)
    observed = Observed(app.asgi_handler, settings.metrics_token)
    app.on_shutdown.extend([observed.lines.flush, stop])
    app.asgi_handler = observed
