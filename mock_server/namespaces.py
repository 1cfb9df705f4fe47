"""Isolated states per client: the namespace registry and the middleware that picks a request's state.

A request carrying `X-Mock-Namespace: NAME` (or `?__namespace=NAME`, removed from the query before
the API sees it, so the API's spec needs no such parameter) works on namespace NAME: a copy-on-write
`Overlay` over the base data, made on first use. Without either, the request works on the shared
state. The registry holds at most `max_namespaces`; one unused for `ttl` seconds is forgotten.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import anyio.to_thread
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.error_responses import error_body, send_error
from mock_server.fixtures import fixture_format
from mock_server.overlay import BaseData, Overlay
from mock_server.resources import MockApi
from mock_server.rules import Rules

HEADER = "x-mock-namespace"
QUERY = "__namespace"
NAME = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")
CONTROL_PREFIX = "/__mock"


class NamespaceError(Exception):
    """A namespace cannot be used; `status` and `headers` say how to answer."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


@dataclass
class _Namespace:
    overlay: Overlay
    store: Rules
    created: float = field(default_factory=time.time)
    last_used: float = field(default_factory=time.monotonic)
    last_used_wall: float = field(default_factory=time.time)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


class Namespaces:
    """The namespaces in use, bounded in number and idle lifetime."""

    def __init__(
        self,
        base: Callable[[], BaseData],
        api: MockApi,
        *,
        max_namespaces: int,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base = base  # asked at each use: the state may replace its base data
        self.api = api
        self.max_namespaces = max_namespaces
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._namespaces: dict[str, _Namespace] = {}

    def _expire(self, now: float) -> None:
        for name in [n for n, ns in self._namespaces.items() if now - ns.last_used > self.ttl]:
            del self._namespaces[name]

    def _make(self, name: str, base: BaseData) -> _Namespace:
        now = self._clock()
        self._expire(now)
        if name not in self._namespaces and len(self._namespaces) >= self.max_namespaces:
            oldest = min(ns.last_used for ns in self._namespaces.values())
            retry = max(0, int(oldest + self.ttl - now) + 1)
            raise NamespaceError(
                503,
                f"All {self.max_namespaces} namespaces are in use (--max-namespaces): delete one "
                f"(DELETE /__mock/namespaces/NAME) or wait {retry} s for the least recently "
                "used one to expire (--namespace-ttl).",
                {"Retry-After": str(retry)},
            )
        overlay = Overlay(base)
        namespace = _Namespace(overlay, Rules(overlay, self.api))
        self._namespaces[name] = namespace
        return namespace

    def use_api(self, api: MockApi) -> None:
        """Serve every namespace, and those made from now on, through `api` (an edited spec)."""
        with self._lock:
            self.api = api
            for namespace in self._namespaces.values():
                namespace.store = Rules(namespace.overlay, api)

    def overlays(self) -> list[tuple[str, Overlay]]:
        """Each namespace in use, by name, with its records."""
        with self._lock:
            return [(name, ns.overlay) for name, ns in self._namespaces.items()]

    def get(self, name: str) -> _Namespace:
        """Namespace `name`, made from the base data on first use; NamespaceError when full."""
        base = self._base()  # outside the lock: the first read of a reopened base takes others
        with self._lock:
            namespace = self._namespaces.get(name)
            now = self._clock()
            if namespace is None or now - namespace.last_used > self.ttl:
                self._namespaces.pop(name, None)
                namespace = self._make(name, base)
            namespace.last_used = now
            namespace.last_used_wall = time.time()
            return namespace

    def replace(self, name: str, base: BaseData | None = None) -> _Namespace:
        """Start namespace `name` afresh from `base` (default: the base data), in one step."""
        base = base or self._base()  # outside the lock, as in `get`
        with self._lock:
            self._namespaces.pop(name, None)
            return self._make(name, base)

    def delete(self, name: str) -> bool:
        with self._lock:
            self._expire(self._clock())
            return self._namespaces.pop(name, None) is not None

    def __len__(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return len(self._namespaces)

    def describe(self) -> list[dict[str, Any]]:
        """Every namespace in use, by name: times, changed records, counts."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            items = sorted(self._namespaces.items())
        out = []
        for name, ns in items:
            with ns.overlay.reading():
                counts = ns.overlay.counts()
                changed = ns.overlay.changed()
            expires = ns.last_used_wall + self.ttl
            out.append(
                {
                    "name": name,
                    "created_at": _iso(ns.created),
                    "last_used_at": _iso(ns.last_used_wall),
                    "expires_at": _iso(expires),
                    "changed_records": changed,
                    "counts": {
                        key: counts.get(table, 0)
                        for key, table in fixture_format(self.api).keys.items()
                    },
                }
            )
        return out


def namespace_of(scope: Scope) -> str | None:
    """The namespace a request names (header first, then the query), or None for the shared state."""
    value = Headers(scope=scope).get(HEADER)
    if not value:
        for key, item in parse_qsl(scope.get("query_string", b"").decode("latin-1"), True):
            if key == QUERY and item:
                value = item
                break
    return value or None


def _without_namespace_query(query_string: bytes) -> bytes:
    text = query_string.decode("latin-1")
    if QUERY not in text:
        return query_string
    pairs = [(k, v) for k, v in parse_qsl(text, keep_blank_values=True) if k != QUERY]
    return urlencode(pairs).encode("latin-1")


def namespace_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Connexion error handler: a NamespaceError in a handler, in the API's error shape."""
    assert isinstance(exc, NamespaceError)
    return ConnexionResponse(
        status_code=exc.status,
        mimetype="application/json",
        body=json.dumps(error_body(exc.status, str(exc))),
        headers=exc.headers,
    )


class NamespaceMiddleware:
    """ASGI middleware: give each request the store of the namespace it names, or the shared one.

    The registry is the lifespan's (`scope["state"]["mock"].namespaces`). Control API requests
    only learn the name: they decide themselves whether to make the namespace.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        name = namespace_of(scope)
        state = dict(scope.get("state") or {})
        scope = {**scope, "query_string": _without_namespace_query(scope.get("query_string", b""))}
        if name is not None and not NAME.match(name):
            await send_error(
                send, 400, "A namespace name is 1 to 64 characters: letters, digits, '.-_~'."
            )
            return
        state["namespace"] = name
        mock = state.get("mock")
        if mock is not None:
            # The shared state's current rules: an edited spec (--reload) replaces them.
            state["store"] = mock.store
        if name is not None and mock is not None and not scope["path"].startswith(CONTROL_PREFIX):
            if not mock.base_ready:
                # Seconds at 100,000 sessions: on a worker thread, not on the event loop.
                await anyio.to_thread.run_sync(lambda: mock.base)
            try:
                state["store"] = mock.namespaces.get(name).store
            except NamespaceError as exc:
                await send_error(send, exc.status, str(exc), exc.headers)
                return
        await self.app({**scope, "state": state}, receive, send)
