"""Answers a client or the operator steers: forced statuses and examples, delays, faults, failures.

The conventions are Prism's where it has one (`Prefer: code=403`, `Prefer: example=empty`, the
`__code` and `__example` query parameters) and WireMock's for faults; `delay` and `fault` have the
same two forms (`Prefer: delay=800`, `?__delay=800`). Preferences this module does not know are
ignored, as RFC 7240 asks; a known one with a bad value is a 400 naming what is allowed.

Two layers, because they sit at two depths of the request path:
- `NetworkSteering`, outermost, acts like the network: the configured latency or `delay` before an
  answer leaves (after the handler is done, so a wait never holds the store's lock), and the faults
  `reset` (the connection is reset, no answer), `empty` (closed, no answer) and `truncate` (half of
  the answer's body, then closed). A fault on a write is decided before the request is handled
  (`reset`, `empty`: nothing changes) or after (`truncate`: the write is applied, its answer lost).
- `AnswerSteering`, after security (a missing credential is still 401 before anything else) and
  before validation: a forced error status is answered from the spec (its example, its headers)
  without touching state; `--fail-rate` does the same for a random share of requests. A forced
  success is never faked: the request is handled as usual, and when it earns that status the
  preference is applied (a success example replaces the body); otherwise its real answer stands.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import struct
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server import query
from mock_server.error_responses import error_body, send_json
from mock_server.matching import operation_of
from mock_server.settings import MAX_DELAY_MS
from openapi.model import Operation, Pagination, Response, Spec

logger = logging.getLogger(__name__)

FAULTS = ("reset", "empty", "truncate")
PREFERENCE_APPLIED = "Preference-Applied"


class PreferenceError(ValueError):
    """A steering preference has a value the mock cannot honour."""


@dataclass(frozen=True)
class Preferences:
    """What one request asks of the mock beyond the API itself."""

    code: int | None = None
    example: str | None = None
    delay_ms: int | None = None
    fault: str | None = None


def _prefer_tokens(values: list[str]) -> dict[str, str]:
    """`Prefer` header values as name -> value; the first occurrence of a name wins (RFC 7240)."""
    tokens: dict[str, str] = {}
    for value in values:
        for item in value.split(","):
            preference = item.split(";", 1)[0].strip()
            if not preference:
                continue
            name, _, raw = preference.partition("=")
            tokens.setdefault(name.strip().lower(), raw.strip().strip('"'))
    return tokens


_NONE = Preferences()


def read_preferences(scope: Scope) -> Preferences:
    """The request's preferences: `Prefer` headers, overridden by `__name` query parameters."""
    # Most requests steer nothing: tell so from the raw bytes (ASGI header names are lower case).
    if b"__" not in scope.get("query_string", b"") and not any(
        name == b"prefer" for name, _ in scope.get("headers", ())
    ):
        return _NONE
    found = _prefer_tokens(Headers(scope=scope).getlist("prefer"))
    query_string = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        if name in ("__code", "__example", "__delay", "__fault"):
            found[name[2:]] = value
    code = delay = None
    if "code" in found:
        code = _integer("code", found["code"])
        if not 100 <= code <= 599:
            raise PreferenceError(f"code={found['code']} is not an HTTP status.")
    if "delay" in found:
        delay = _integer("delay", found["delay"])
        if not 0 <= delay <= MAX_DELAY_MS:
            raise PreferenceError(
                f"delay={found['delay']} is out of range: from 0 to {MAX_DELAY_MS} milliseconds."
            )
    fault = found.get("fault")
    if fault is not None and fault not in FAULTS:
        raise PreferenceError(f"fault={fault} is not one of {', '.join(FAULTS)}.")
    return Preferences(code=code, example=found.get("example") or None, delay_ms=delay, fault=fault)


def _integer(name: str, value: str) -> int:
    if not value.strip().isdigit():
        raise PreferenceError(f"{name}={value} is not a whole number.")
    return int(value)


class NetworkSteering:
    """ASGI middleware: latency, `delay` and connection faults on the API's operations."""

    def __init__(
        self, app: ASGIApp, *, spec: Spec, latency_ms: tuple[int, int], seed: int | None
    ) -> None:
        self.app = app
        self.spec = spec
        self.latency_ms = latency_ms
        self._random = random.Random(None if seed is None else f"{seed}:latency")

    def _delay(self, preferences: Preferences) -> float:
        if preferences.delay_ms is not None:
            return preferences.delay_ms / 1000
        low, high = self.latency_ms
        return (low if low == high else self._random.randint(low, high)) / 1000

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or operation_of(scope, self.spec) is None:
            await self.app(scope, receive, send)
            return
        try:
            preferences = read_preferences(scope)
        except PreferenceError:
            preferences = Preferences()  # AnswerSteering answers the 400
        delay = self._delay(preferences)
        if preferences.fault in ("reset", "empty"):
            await asyncio.sleep(delay)
            await _close(scope, reset=preferences.fault == "reset")
            return
        if preferences.fault == "truncate":
            await self._truncated(scope, receive, send, delay)
            return
        if delay <= 0:
            await self.app(scope, receive, send)
            return

        async def send_late(message: Message) -> None:
            if message["type"] == "http.response.start":
                await asyncio.sleep(delay)
            await send(message)

        await self.app(scope, receive, send_late)

    async def _truncated(self, scope: Scope, receive: Receive, send: Send, delay: float) -> None:
        start: Message | None = None
        body = bytearray()

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await self.app(scope, receive, capture)
        if start is None:
            return
        await asyncio.sleep(delay)
        headers = MutableHeaders(scope=start)
        headers["Content-Length"] = str(len(body))  # announce it all, then send half
        await send(start)
        await send(
            {"type": "http.response.body", "body": bytes(body[: len(body) // 2]), "more_body": True}
        )
        await _close(scope, reset=False)


CONNECTION = "mock.connection"
"""The scope's `extensions` key under which `ConnectionHandle` leaves the client's transport."""


class ConnectionHandle:
    """ASGI middleware, outermost: keeps the connection's transport where a fault can reach it.

    ASGI has no message to drop a connection. uvicorn's `receive` is a method of its request
    cycle, which holds the transport; layers that read the body (the request journal) wrap
    `receive`, so the transport is noted here, before anything wraps it. Another server gets
    its own "no answer" handling.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            transport = getattr(getattr(receive, "__self__", None), "transport", None)
            scope.setdefault("extensions", {})[CONNECTION] = transport
        await self.app(scope, receive, send)


async def _close(scope: Scope, *, reset: bool) -> None:
    """Close the client's connection without (the rest of) an answer; RST when `reset`."""
    transport: Any = scope.get("extensions", {}).get(CONNECTION)
    # Duck-typed: uvloop's transports are not asyncio.Transport subclasses.
    if not all(hasattr(transport, m) for m in ("abort", "close", "get_extra_info")):
        logger.warning("cannot reach the connection to close it; the server answers instead")
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger on, timeout 0: close() sends RST instead of FIN, as a crashed peer would.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    # Let the server see the connection lost before the app returns, so that it does not try
    # to answer on a closed connection.
    for _ in range(10):
        await asyncio.sleep(0)


class AnswerSteering:
    """ASGI middleware: forced statuses and examples, and the configured share of failures."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        spec: Spec,
        pagination: Pagination,
        fail_rate: float,
        fail_status: int,
        seed: int | None,
    ) -> None:
        self.app = app
        self.spec = spec
        self.pagination = pagination
        self.fail_rate = fail_rate
        self.fail_status = fail_status
        self._random = random.Random(None if seed is None else f"{seed}:failures")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation = operation_of(scope, self.spec) if scope["type"] == "http" else None
        if operation is None:
            await self.app(scope, receive, send)
            return
        try:
            preferences = read_preferences(scope)
        except PreferenceError as exc:
            raise HTTPException(400, f"Prefer {exc}") from exc
        if preferences.code is None and preferences.example is None:
            if self.fail_rate and self._random.random() < self.fail_rate:
                await _send_forced(send, self._failure(operation), self.pagination, applied=None)
                return
            await self.app(scope, receive, send)
            return
        status, response, name = _chosen(operation, preferences)
        applied = f"code={status}" if name is None else f"example={name}"
        if not 200 <= status < 300:
            await _send_forced(send, (status, response, name), self.pagination, applied=applied)
            return
        await self.app(
            scope, receive, _earned(send, status, response, name, applied, self.pagination)
        )

    def _failure(self, operation: Operation) -> tuple[int, Response | None, str | None]:
        return self.fail_status, operation.responses.get(str(self.fail_status)), None


def _chosen(
    operation: Operation, preferences: Preferences
) -> tuple[int, Response | None, str | None]:
    """The status, the declared response and the example name the preferences pick."""
    declared = operation.statuses()
    listed = ", ".join(str(s) for s in declared)
    if preferences.code is not None and preferences.code not in declared:
        raise HTTPException(
            400,
            f"Prefer code={preferences.code}: {operation.operation_id} does not declare it; "
            f"it declares {listed}.",
        )
    if preferences.example is None:
        assert preferences.code is not None
        return preferences.code, operation.responses[str(preferences.code)], None
    statuses = [preferences.code] if preferences.code is not None else declared
    for status in statuses:
        response = operation.responses[str(status)]
        if preferences.example in response.examples:
            return status, response, preferences.example
    names = [f"{n} ({s})" for s in statuses for n in operation.responses[str(s)].examples]
    raise HTTPException(
        400,
        f"Prefer example={preferences.example}: {operation.operation_id} has no example of "
        f"that name{' for ' + str(preferences.code) if preferences.code else ''}; its named "
        f"examples are: {', '.join(names) or 'none'}.",
    )


def _body_and_headers(
    status: int, response: Response | None, name: str | None, pagination: Pagination
) -> tuple[Any, dict[str, str]]:
    """The answer the spec gives for `status`: the named (or first) example and its headers."""
    if response is None:
        body: Any = error_body(status, f"{HTTPStatus(status).phrase}.")
        return body, {}
    body = response.examples[name] if name is not None else response.example
    if body is None:
        body = (
            [{"field": "body", "message": "The request is invalid."}]
            if status == 422
            else error_body(status, f"{HTTPStatus(status).phrase}.")
        )
    headers = {
        header: str(spec["example"])
        for header, spec in response.headers.items()
        if "example" in spec
    }
    if isinstance(body, list) and status == 200:
        # An index example: its pagination headers describe the example page itself.
        headers.update(query.paginate(body, None, None, pagination).headers())
    return body, headers


async def _send_forced(
    send: Send,
    chosen: tuple[int, Response | None, str | None],
    pagination: Pagination,
    *,
    applied: str | None,
) -> None:
    status, response, name = chosen
    body, headers = _body_and_headers(status, response, name, pagination)
    if applied is not None:
        headers[PREFERENCE_APPLIED] = applied
    await send_json(send, status, body, headers)


def _earned(
    send: Send,
    status: int,
    response: Response | None,
    name: str | None,
    applied: str,
    pagination: Pagination,
) -> Send:
    """A `send` that applies a success preference only to an answer that earned that status."""
    held: Message | None = None

    async def send_earned(message: Message) -> None:
        nonlocal held
        if message["type"] == "http.response.start":
            if message["status"] != status:
                await send(message)  # the request did not earn it: its real answer stands
                return
            if name is None:
                MutableHeaders(scope=message)[PREFERENCE_APPLIED] = applied
                await send(message)
                return
            held = message
            return
        if held is None:
            await send(message)
            return
        if message.get("more_body", False):
            return  # the real body is replaced by the example
        body, headers = _body_and_headers(status, response, name, pagination)
        kept = {
            k.decode("latin-1"): v.decode("latin-1")
            for k, v in held["headers"]
            if k.lower() not in (b"content-length", b"content-type")
            and k.decode("latin-1").lower() not in {h.lower() for h in headers}
        }
        await send_json(send, status, body, {**kept, **headers, PREFERENCE_APPLIED: applied})

    return send_earned
