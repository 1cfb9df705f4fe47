"""Cross-origin access: browsers on another origin may call the mock (CORS, on by default).

A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered here, 204,
on any path, declared or not: browsers send no credential with it, so it must never reach the
API's 401 or 405. Every other answer to a request with an allowed `Origin`, errors included, gets
that origin back (not `*`, so that credentialed requests work too), `Vary: Origin`, and the list of
response headers a script may read. Starlette's `CORSMiddleware` answers preflights 200 and sends
`*` to uncredentialed requests; front-end tooling expects 204 and the echoed origin.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.errors import error_body

PREFLIGHT_MAX_AGE = 600
"""Seconds a browser may reuse a preflight; short, so that a restart with other flags shows soon."""

DEFAULT_ALLOWED_HEADERS = ("Authorization", "Content-Type", "Prefer")
"""Named in a preflight answer when the browser asked for no particular header."""


class CORSMiddleware:
    """ASGI middleware: preflights answered, cross-origin answers made readable to the page."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        origins: Iterable[str],
        methods: Iterable[str],
        expose_headers: Iterable[str],
    ) -> None:
        self.app = app
        allowed = {o.strip().rstrip("/").lower() for o in origins}
        self.any_origin = "*" in allowed
        self.origins = frozenset(allowed - {"*"})
        self.methods = ", ".join(sorted({m.upper() for m in methods} | {"OPTIONS"}))
        self.expose = ", ".join(dict.fromkeys(expose_headers))

    def allows(self, origin: str) -> bool:
        return self.any_origin or origin.rstrip("/").lower() in self.origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(origin, headers, send)
            return
        if not self.allows(origin):
            # The browser hides the answer from the page; the server still answers it as usual.
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out["Access-Control-Allow-Origin"] = origin
                out["Access-Control-Allow-Credentials"] = "true"
                out["Access-Control-Expose-Headers"] = self.expose
                out.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, origin: str, headers: Headers, send: Send) -> None:
        if not self.allows(origin):
            message = (
                f"The origin {origin} may not call this mock; start it with "
                f"--cors-origin {origin} (or leave --cors-origin out to allow every origin)."
            )
            body = json.dumps(error_body(403, message)).encode()
            await _answer(send, 403, body, [(b"content-type", b"application/json")])
            return
        requested = headers.get("access-control-request-headers", "").strip()
        allow_headers = requested or ", ".join(DEFAULT_ALLOWED_HEADERS)
        await _answer(
            send,
            204,
            b"",
            [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-credentials", b"true"),
                (b"access-control-allow-methods", self.methods.encode()),
                (b"access-control-allow-headers", allow_headers.encode("latin-1")),
                (b"access-control-max-age", str(PREFLIGHT_MAX_AGE).encode()),
                (
                    b"vary",
                    b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
                ),
            ],
        )


async def _answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    raw = [*headers]
    if status != 204:
        raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
