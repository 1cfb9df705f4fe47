"""The request journal: the last N requests to the API and their answers, credentials masked.

It is what makes a wrong payload visible (a form sending `perPage` instead of `per-page`, which the
API silently ignores): `JournalMiddleware` records every request outside the control API with its
query, headers, body, status, answer headers, duration and namespace into a bounded
`RequestJournal`, which the control API filters, clears and long-polls.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.namespaces import CONTROL_PREFIX, namespace_of

MAX_BODY = 64 * 1024
MASK = "***"
_SECRET_HEADERS = {"cookie", "proxy-authorization", "x-mock-admin-token", "set-cookie"}
_SECRET_QUERY = {"access-token"}


def _masked_header(name: str, value: str) -> str:
    if name == "authorization":
        scheme, _, credential = value.partition(" ")
        # Keep the scheme: "Bearer ***" still tells which kind of credential was sent.
        return f"{scheme} {MASK}" if credential else MASK
    return MASK if name in _SECRET_HEADERS else value


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in raw:
        name = key.decode("latin-1").lower()
        text = _masked_header(name, value.decode("latin-1"))
        out[name] = f"{out[name]}, {text}" if name in out else text
    return out


def _query(query_string: bytes) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        out.setdefault(key, []).append(MASK if key in _SECRET_QUERY else value)
    return out


def _has_body(scope: Scope) -> bool:
    for key, value in scope.get("headers", []):
        name = key.lower()
        if name == b"content-length":
            return value.strip() not in (b"", b"0")
        if name == b"transfer-encoding":
            return True
    return False


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Filters:
    """What `RequestJournal.entries` keeps; None everywhere keeps everything."""

    method: str | None = None
    path: str | None = None
    status: str | None = None
    namespace: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: int | None = None

    def keep(self, entry: dict[str, Any], received: datetime) -> bool:
        if self.after is not None and entry["id"] <= self.after:
            return False
        if self.method is not None and entry["method"] != self.method.upper():
            return False
        if self.path is not None and not fnmatch.fnmatchcase(entry["path"], self.path):
            return False
        if self.status is not None:
            status = str(entry["status"])
            if self.status.endswith("xx") and status[0] != self.status[0]:
                return False
            if not self.status.endswith("xx") and status != self.status:
                return False
        if self.namespace is not None and entry["namespace"] != self.namespace:
            return False
        if self.since is not None and received < self.since:
            return False
        return self.until is None or received < self.until


class RequestJournal:
    """The last `capacity` requests, oldest first. Written and read on the server's event loop."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: deque[tuple[dict[str, Any], datetime]] = deque(maxlen=capacity)
        self._ids = itertools.count(1)
        self._arrived = asyncio.Event()

    def __len__(self) -> int:
        return len(self._entries)

    def next_id(self) -> int:
        return next(self._ids)

    def add(self, entry: dict[str, Any]) -> None:
        self._entries.append((entry, datetime.fromisoformat(entry["time"])))
        # Wake every waiter, then give later ones a fresh event to wait on.
        self._arrived.set()
        self._arrived = asyncio.Event()

    def clear(self) -> None:
        self._entries.clear()

    def entries(self, filters: Filters, limit: int | None = None) -> list[dict[str, Any]]:
        found = [entry for entry, received in self._entries if filters.keep(entry, received)]
        return found[-limit:] if limit else found

    async def wait_for(
        self, filters: Filters, limit: int | None, timeout: float
    ) -> list[dict[str, Any]]:
        """`entries`, waiting up to `timeout` seconds for a first match when there is none yet."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.entries(filters, limit)
            remaining = deadline - time.monotonic()
            if found or remaining <= 0:
                return found
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                return self.entries(filters, limit)


class JournalMiddleware:
    """ASGI middleware: journal each API request (not the control API's) with its answer."""

    def __init__(self, app: ASGIApp, journal: RequestJournal) -> None:
        self.app = app
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        entry: dict[str, Any] = {
            "id": 0,
            "time": _now(),
            "method": scope["method"],
            "path": scope["path"],
            "query": _query(scope.get("query_string", b"")),
            "headers": _headers(scope.get("headers", [])),
            "body": None,
            "body_truncated": False,
            "status": 0,
            "response_headers": {},
            "duration_ms": 0.0,
            "namespace": namespace_of(scope),
        }
        body = bytearray()
        seen_body = False

        def keep(message: Message) -> None:
            nonlocal seen_body
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                seen_body = seen_body or bool(chunk)
                if len(body) <= MAX_BODY:
                    body.extend(chunk[: MAX_BODY + 1 - len(body)])

        # Read the body's start before the app does: a request refused before its body is read
        # (401, 415) still shows what it sent. At most MAX_BODY is read ahead; the rest streams.
        ahead: list[Message] = []
        more = _has_body(scope)
        while more and len(body) <= MAX_BODY:
            message = await receive()
            keep(message)
            ahead.append(message)
            more = message["type"] == "http.request" and message.get("more_body", False)

        async def receive_and_keep() -> Message:
            if ahead:
                return ahead.pop(0)
            message = await receive()
            keep(message)
            return message

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
                entry["response_headers"] = _headers(message.get("headers", []))
            await send(message)

        try:
            await self.app(scope, receive_and_keep, send_and_note)
        finally:
            if seen_body:
                entry["body"] = bytes(body[:MAX_BODY]).decode("utf-8", errors="replace")
                entry["body_truncated"] = len(body) > MAX_BODY
            entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
            entry["id"] = self.journal.next_id()
            self.journal.add(entry)
