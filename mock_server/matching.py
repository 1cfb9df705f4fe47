"""The spec operation a request is for: matched once per request, then read from the scope; and
the control API paths Connexion's router cannot match.

Several layers ask which operation a request is for (network steering, answer steering); each
used to match the path against every route of the spec again. `MatchOperation`, outermost,
matches once and leaves the result in the scope's extensions for `operation_of`.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from openapi.model import Operation, Spec, path_pattern

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


class LineBreaksInControlPaths:
    """ASGI middleware: a control API path holding a line break gets the answer its spec gives.

    Connexion serves the control API under a Starlette `Mount` whose pattern (`.*`) stops at a
    line break, so `PUT /__mock/snapshots/%0Aabc` matched no route and answered an undocumented
    404. A path parameter matches one segment whatever it holds (`openapi.model.path_pattern`):
    such a path is a bad name (400, as Connexion answers a name with any other control character),
    or a method the path does not serve (405). Other paths go on, to the 404 they deserve.
    """

    def __init__(self, app: ASGIApp, spec: Spec) -> None:
        self.app = app
        self.spec = spec
        self.prefix = spec.base_path
        self._paths = [path_pattern(path) for path, _ in spec.path_methods()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if "\n" in path and path.startswith(self.prefix + "/"):
            if any(pattern.match(path) for pattern in self._paths):
                if self.spec.match(scope["method"], path[len(self.prefix) :]) is None:
                    raise HTTPException(405)
                raise HTTPException(400, "A name in the path holds a line break; names cannot.")
        await self.app(scope, receive, send)
