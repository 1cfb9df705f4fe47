"""A 405's `Allow` header lists every method the spec gives the path, not only the first route's.

Connexion adds one Starlette route per path and method; on a method a path does not serve,
Starlette answers 405 with the methods of the first route whose path matched, so a path with
GET and DELETE (the control API's `/requests`) would advertise GET alone. This middleware reads
the methods from the specs themselves and sets `Allow` on every 405 whose path one of them holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openapi.model import Spec, path_pattern


def _routes(specs: Iterable[Spec]) -> list[tuple[re.Pattern[str], str]]:
    routes = []
    for spec in specs:
        for path, methods in spec.path_methods():
            if "GET" in methods and "HEAD" not in methods:
                methods.append("HEAD")  # Starlette serves HEAD wherever it serves GET
            routes.append((path_pattern(path), ", ".join(sorted(methods))))
    return routes


class AllowFromSpec:
    """ASGI middleware: complete the `Allow` header of 405 answers from the specs' paths."""

    def __init__(self, app: ASGIApp, specs: Iterable[Spec]) -> None:
        self.app = app
        self.routes = _routes(specs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                allow = next((a for pattern, a in self.routes if pattern.match(path)), None)
                if allow is not None:
                    headers = [
                        (k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"
                    ]
                    headers.append((b"allow", allow.encode("latin-1")))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_allow)
