"""The mock as a separate process on a free loopback port, for test suites, benchmarks and tools.

    with MockProcess(tmp_path / "db.json") as mock:
        httpx.get(f"{mock.base_url}/v2/action-session/view/sess-1", headers=mock.auth_headers)

It starts `python -m mock_server` with the given database and token, waits until the server
answers an authenticated request, and stops it cleanly (SIGINT, so the database is compacted) on
exit. `kill()` ends it the hard way, as a crash would.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MockProcess:
    """A running `python -m mock_server` child process."""

    def __init__(
        self,
        db_path: str | Path,
        *,
        token: str = "dev",
        port: int | None = None,
        args: Sequence[str] = ("--no-access-log", "--log-level", "warning"),
        startup_seconds: float = 60,
    ) -> None:
        self.db_path = Path(db_path)
        self.token = token
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._args = list(args)
        self._startup_seconds = startup_seconds
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    def start(self) -> MockProcess:
        command = [
            sys.executable, "-m", "mock_server", "--host", "127.0.0.1", "--port", str(self.port),
            "--db", str(self.db_path), "--token", self.token, *self._args,
        ]  # fmt: skip
        # A file, not a pipe: a pipe nobody reads fills up and blocks a chatty server.
        self._stderr = tempfile.TemporaryFile()
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self._stderr)
        deadline = time.monotonic() + self._startup_seconds
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._stderr.seek(0)
                stderr = self._stderr.read().decode(errors="replace").strip()
                self._close()
                raise RuntimeError(f"the mock exited with {self._process.returncode}: {stderr}")
            try:
                httpx.post(
                    f"{self.base_url}/v2/action-session/index",
                    json={},
                    headers=self.auth_headers,
                    timeout=2,
                )
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the mock did not answer within {self._startup_seconds} s")

    def stop(self) -> None:
        """Stop as Ctrl-C would: the server finishes, compacts the database and exits."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._close()

    def kill(self) -> None:
        """End the process at once (SIGKILL), as a crash would."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._close()

    def _close(self) -> None:
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> MockProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
