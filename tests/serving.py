"""Serve an ASGI app with uvicorn on a loopback port in a thread: the one way the tests do it.

`ServerThread` starts and stops one server; `serving` is the same as a context manager that
yields the base URL (HTTPS when given a certificate). The port comes from the product's own
`free_port`, the one `MockProcess` uses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import uvicorn

from mock_server.process import free_port

__all__ = ["ServerThread", "free_port", "serving"]

Lifespan = Literal["auto", "on", "off"]


class ServerThread:
    """One uvicorn server in a daemon thread."""

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        lifespan: Lifespan = "auto",
        log_level: str = "warning",
        certfile: Path | None = None,
        keyfile: Path | None = None,
    ) -> None:
        self.host = host
        self.port = port if port is not None else free_port()
        self.scheme = "https" if certfile else "http"
        config = uvicorn.Config(
            app,
            host=host,
            port=self.port,
            log_level=log_level,
            access_log=False,
            lifespan=lifespan,
            ssl_certfile=str(certfile) if certfile else None,
            ssl_keyfile=str(keyfile) if keyfile else None,
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def start(self, timeout: float = 20) -> ServerThread:
        """Start, and return once the socket listens (RuntimeError if it does not in time)."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 20) -> None:
        """Ask the server to exit and wait for it; a client that holds a connection open (a TLS
        one, say) can hold the graceful shutdown, so the wait is bounded."""
        self.server.should_exit = True
        self._thread.join(timeout=timeout)


@contextmanager
def serving(
    app: Any,
    *,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    lifespan: Lifespan = "off",
) -> Iterator[str]:
    """The app's base URL while the block runs (https when a certificate is given)."""
    thread = ServerThread(
        app, lifespan=lifespan, log_level="critical", certfile=certfile, keyfile=keyfile
    ).start(timeout=10)
    try:
        yield thread.base_url
    finally:
        thread.stop(timeout=10)
