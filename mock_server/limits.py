"""Request bodies: refused with 413 over the size limit; a chunked body is buffered first.

Connexion decides whether a request has a body from `Content-Length` alone, so a chunked body
(no `Content-Length`) would be taken for no body at all. Buffering it here, within the limit, and
stating its length makes chunked and sized bodies behave alike.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """ASGI middleware: 413 when Content-Length, or the bytes actually received, exceed the limit:
    `max_bytes`, or the limit `larger` gives the path (a fixture import is a whole data set)."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.max_bytes)
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > limit:
                raise _too_large(limit)
            await self.app(scope, receive, send)
            return
        if "chunked" not in headers.get("transfer-encoding", "").lower():
            await self.app(scope, receive, send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if len(body) > limit:
                raise _too_large(limit)
            more = message.get("more_body", False)
        raw_headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"transfer-encoding"]
        raw_headers.append((b"content-length", str(len(body)).encode()))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app({**scope, "headers": raw_headers}, replay, send)


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"The request body is larger than {limit} bytes.")
