"""Connection limits: how long a client may take to send a request, and how many may be open.

uvicorn closes an idle keep-alive connection, but waits forever for the first byte of a request,
for headers sent a byte at a time (slowloris) and for a body that never completes; every such
connection holds a file descriptor until the process runs out and new clients are reset. Its
`limit_concurrency` answers a plain-text 503, not the API's error shape. This protocol, a subclass
of uvicorn's httptools protocol (the one `uvicorn[standard]` runs), adds a deadline for the headers
(from the connection or from the request's first byte) and one for the body, and answers
connections beyond the bound with the Yii2 503 before closing them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mock_server.error_responses import error_body

logger = logging.getLogger(__name__)


def _too_many() -> bytes:
    body = json.dumps(
        error_body(503, "The server has too many open connections; retry in a moment.")
    ).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nretry-after: 1\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header and body deadlines and a connection bound."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 500

    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            logger.warning("refused a connection: %d are open already", self.max_connections)
            transport.write(_too_many())
            transport.close()
            return
        self._arm(self.header_timeout, "sent no complete request headers")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self.header_timeout, "sent no complete request headers")

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self.body_timeout, "sent no complete request body")

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire, seconds, what)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self, seconds: float, what: str) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            logger.info("closed a connection that %s within %g s", what, seconds)
            self.transport.close()


def guarded_protocol(
    *, header_timeout: float, body_timeout: float, max_connections: int
) -> type[Any]:
    """A protocol class for `uvicorn.Config(http=...)` with these limits."""
    return type(
        "GuardedProtocol",
        (GuardedProtocol,),
        {
            "header_timeout": header_timeout,
            "body_timeout": body_timeout,
            "max_connections": max_connections,
        },
    )
