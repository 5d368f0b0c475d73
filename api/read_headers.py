"""X-Ledger-Read-From and X-Ledger-Sequence on an answer that read from a chosen database
(`api.common.reads_of`): "replica" or "primary", and the sequence of the last transaction that
database held when the read began — the answer reflects every transaction up to at least it."""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.common import READ_STATE


def read_headers(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            chosen = scope.get("state", {}).get(READ_STATE)
            if message["type"] == "http.response.start" and chosen is not None:
                source, sequence = chosen
                headers = list(message.get("headers", []))
                headers.append((b"x-ledger-read-from", source.encode()))
                headers.append((b"x-ledger-sequence", str(sequence).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, sending)

    return middleware
