"""Which `Host` names the mock answers to, so that a web page cannot reach it by DNS rebinding.

A page on `evil.example` whose name is made to resolve to 127.0.0.1 talks to a loopback mock as
its own origin: no CORS check applies. Such a request still says `Host: evil.example`, so a mock
listening on loopback answers only requests addressed to a loopback name (or the names given with
`--allowed-host`); the rest get a 400 naming the flag. A mock listening on another interface is
reachable by anyone there anyway, and answers every name unless `--allowed-host` narrows it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.error_responses import send_error

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or name the server listens on) is reachable only locally."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The name of a `Host` header value, without port or IPv6 brackets, lower-cased."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    return value.rpartition(":")[0] if value.count(":") == 1 else value


class AllowedHosts:
    """ASGI middleware: 400 for a request addressed to a name the mock does not answer to."""

    def __init__(self, app: ASGIApp, *, names: Iterable[str]) -> None:
        self.app = app
        self.names = frozenset(n.lower() for n in names)

    def allows(self, name: str) -> bool:
        return (
            "*" in self.names
            or name in self.names
            or name.endswith(".localhost")
            or name.startswith("127.")
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = Headers(scope=scope).get("host", "")
        name = host_name(header)
        if self.allows(name):
            await self.app(scope, receive, send)
            return
        message = (
            f"This mock does not answer to the host name {name or '(none)'}; "
            f"start it with --allowed-host {name or 'NAME'} to allow it."
        )
        await send_error(send, 400, message)
