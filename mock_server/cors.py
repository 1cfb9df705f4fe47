"""Cross-origin access: browsers on another origin may call the mock (CORS, on by default).

A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered here, 204,
on any path, declared or not: browsers send no credential with it, so it must never reach the
API's 401 or 405. Every other answer to a request with an allowed `Origin`, errors included, gets
that origin back (not `*`, so that credentialed requests work too), `Vary: Origin`, and the list of
response headers a script may read. Starlette's `CORSMiddleware` answers preflights 200 and sends
`*` to uncredentialed requests; front-end tooling expects 204 and the echoed origin.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.error_responses import send_error

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
            await send_error(send, 403, message)
            return
        requested = headers.get("access-control-request-headers", "").strip()
        allow_headers = requested or ", ".join(DEFAULT_ALLOWED_HEADERS)
        answer = {
            "access-control-allow-origin": origin,
            "access-control-allow-credentials": "true",
            "access-control-allow-methods": self.methods,
            "access-control-allow-headers": allow_headers,
            "access-control-max-age": str(PREFLIGHT_MAX_AGE),
            "vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        }
        raw = [(k.encode(), v.encode("latin-1")) for k, v in answer.items()]
        await send({"type": "http.response.start", "status": 204, "headers": raw})
        await send({"type": "http.response.body", "body": b""})
