"""Media types at the edge: what request bodies the mock reads, and how answers are labelled.

Media types are case-insensitive (RFC 9110 8.3.1), but Connexion picks its body parser by exact
string, so `APPLICATION/JSON` used to reach the handlers as raw bytes (a 500). The media type is
lower-cased here before Connexion looks at it. A body with no `Content-Type` at all is refused
with 415 rather than guessed at, as is a body in a `Content-Encoding` the mock does not decode:
silently reading gzip bytes as JSON would only turn into a confusing 400. Every answer says
`X-Content-Type-Options: nosniff`, so a browser never reinterprets an error body as HTML.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestMediaType:
    """ASGI middleware: lower-cased media types; 415 for a body without a type or in an encoding."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise HTTPException(
                415,
                f"The request body is in Content-Encoding {encoding!s}, which this server does "
                "not decode; send it uncompressed.",
            )
        content_type = headers.get("content-type")
        if content_type is None:
            if _has_body(headers):
                raise HTTPException(
                    415,
                    "The request body has no Content-Type; send it with "
                    "Content-Type: application/json.",
                )
        else:
            media, sep, parameters = content_type.partition(";")
            normalised = media.strip().lower() + sep + parameters
            if normalised != content_type:
                raw = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-type"]
                raw.append((b"content-type", normalised.encode("latin-1")))
                scope = {**scope, "headers": raw}
        await self.app(scope, receive, send)


def _has_body(headers: Headers) -> bool:
    length = headers.get("content-length", "0").strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return True
    return not length.isdigit() or int(length) > 0


class NoSniff:
    """ASGI middleware: `X-Content-Type-Options: nosniff` on every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_labelled(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Content-Type-Options"] = "nosniff"
            await send(message)

        await self.app(scope, receive, send_labelled)
