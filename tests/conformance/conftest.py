"""Fixtures: the reference server on a free loopback port, and small run settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from conformance.config import Budget, Network, Profile, Settings
from tests.conformance_servers.reference import create_app
from tests.serving import ServerThread

SMALL = Budget(max_examples=2, stateful_steps=4, property_examples=4, phases=("examples",))


@dataclass
class Served:
    """A reference server running in a thread."""

    url: str
    app: Any
    requests: list[tuple[str, str, bytes]]

    @property
    def store(self) -> Any:
        """The reference's in-memory state."""
        return self.app.reference.store


def _recording(app: Any, log: list[tuple[str, str, bytes]]) -> Any:
    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def replay() -> Any:
            message = await receive()
            chunks.append(message.get("body", b""))
            return message

        await app(scope, replay, send)
        log.append((scope["method"], scope["path"], b"".join(chunks)))

    return wrapper


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    """Start reference servers (`serve(bug=None, tokens=...)`); all stop at teardown."""
    servers: list[ServerThread] = []

    def start(
        bug: str | None = None,
        tokens: frozenset[str] | None = frozenset({"dev"}),
        variant: str | None = None,
    ) -> Served:
        app = create_app(bug, tokens, variant)
        log: list[tuple[str, str, bytes]] = []
        server = ServerThread(_recording(app, log), lifespan="off", log_level="critical")
        servers.append(server.start(timeout=10))
        return Served(server.base_url, app, log)

    yield start
    for server in servers:
        server.stop(timeout=10)


def settings_for(url: str, **kwargs: Any) -> Settings:
    """Settings for a quick, deterministic run against `url` with token `dev`.

    One thread unless a test asks for more: CPython 3.11's parser is not thread-safe, and
    Hypothesis parses source while describing strategies, so parallel checks and Schemathesis
    workers can stop an operation at random ("AST constructor recursion depth mismatch"). The
    suite copes with that in a user's run; a test's assertions must not depend on it.
    """
    defaults: dict[str, Any] = {
        "seed": 12345,
        "token": "dev",
        "budget": SMALL,
        "profile": Profile.FULL,
        "workers": 1,
        "network": Network(concurrency=1),
    }
    defaults.update(kwargs)
    return Settings.create(url, **defaults)
