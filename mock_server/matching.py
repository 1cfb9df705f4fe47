"""The spec operation a request is for: matched once per request, then read from the scope.

Several layers ask which operation a request is for (network steering, answer steering); each
used to match the path against every route of the spec again. `MatchOperation`, outermost,
matches once and leaves the result in the scope's extensions for `operation_of`.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from openapi.model import Operation, Spec

OPERATION = "mock.operation"
"""The scope's `extensions` key under which `MatchOperation` leaves the matched operation."""


class MatchOperation:
    """ASGI middleware: note the operation of the spec that serves the request (or None)."""

    def __init__(self, app: ASGIApp, spec: Spec) -> None:
        self.app = app
        self.spec = spec

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            extensions = scope.setdefault("extensions", {})
            extensions[OPERATION] = self.spec.match(scope["method"], scope["path"])
        await self.app(scope, receive, send)


def operation_of(scope: Scope, spec: Spec) -> Operation | None:
    """The operation `MatchOperation` noted for the request; matched here if it did not run."""
    extensions = scope.get("extensions") or {}
    if OPERATION in extensions:
        operation: Operation | None = extensions[OPERATION]
        return operation
    return spec.match(scope["method"], scope["path"])
