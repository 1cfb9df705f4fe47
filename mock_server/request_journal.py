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


class Recorded:
    """One journaled request as it was seen: raw bytes, turned into its entry only when read.

    Masking credentials, decoding headers and formatting the time cost more than the rest of a
    view's path through this module; most entries are never read before they are dropped, so
    that work is done once, on the first read (`entry`), rather than on every request.
    """

    __slots__ = (
        "id",
        "wall",
        "method",
        "path",
        "query_string",
        "headers",
        "body",
        "seen_body",
        "status",
        "response_headers",
        "duration_ms",
        "_entry",
    )

    def __init__(self, scope: Scope) -> None:
        self.id = 0
        self.wall = time.time()
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.query_string: bytes = scope.get("query_string", b"")
        self.headers: list[tuple[bytes, bytes]] = list(scope.get("headers", []))
        self.body = bytearray()
        self.seen_body = False
        self.status = 0
        self.response_headers: list[tuple[bytes, bytes]] = []
        self.duration_ms = 0.0
        self._entry: tuple[dict[str, Any], datetime] | None = None

    def entry(self) -> tuple[dict[str, Any], datetime]:
        """The journal entry (credentials masked) and the time it was received."""
        if self._entry is None:
            received = datetime.fromtimestamp(self.wall, UTC)
            stamp = received.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            entry: dict[str, Any] = {
                "id": self.id,
                "time": stamp,
                "method": self.method,
                "path": self.path,
                "query": _query(self.query_string),
                "headers": _headers(self.headers),
                "body": None,
                "body_truncated": False,
                "status": self.status,
                "response_headers": _headers(self.response_headers),
                "duration_ms": self.duration_ms,
                "namespace": namespace_of(
                    {"headers": self.headers, "query_string": self.query_string}
                ),
            }
            if self.seen_body:
                entry["body"] = bytes(self.body[:MAX_BODY]).decode("utf-8", errors="replace")
                entry["body_truncated"] = len(self.body) > MAX_BODY
            # The time as the entry shows it (milliseconds), so that filters agree with it.
            self._entry = (entry, datetime.fromisoformat(stamp))
        return self._entry


class RequestJournal:
    """The last `capacity` requests, oldest first. Written and read on the server's event loop."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: deque[Recorded] = deque(maxlen=capacity)
        self._ids = itertools.count(1)
        self._arrived = asyncio.Event()
        self._waiting = 0

    def __len__(self) -> int:
        return len(self._entries)

    def next_id(self) -> int:
        return next(self._ids)

    def add(self, recorded: Recorded) -> None:
        self._entries.append(recorded)
        if self._waiting:
            # Wake every waiter, then give later ones a fresh event to wait on.
            self._arrived.set()
            self._arrived = asyncio.Event()

    def clear(self) -> None:
        self._entries.clear()

    def entries(self, filters: Filters, limit: int | None = None) -> list[dict[str, Any]]:
        found = [
            entry
            for entry, received in (r.entry() for r in self._entries)
            if filters.keep(entry, received)
        ]
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
            self._waiting += 1
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                return self.entries(filters, limit)
            finally:
                self._waiting -= 1


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
        recorded = Recorded(scope)
        body = recorded.body

        def keep(message: Message) -> None:
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                recorded.seen_body = recorded.seen_body or bool(chunk)
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
                recorded.status = message["status"]
                recorded.response_headers = list(message.get("headers", []))
            await send(message)

        try:
            await self.app(
                scope, receive if not ahead and not more else receive_and_keep, send_and_note
            )
        finally:
            recorded.duration_ms = round((time.perf_counter() - started) * 1000, 3)
            recorded.id = self.journal.next_id()
            self.journal.add(recorded)
