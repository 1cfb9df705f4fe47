"""Shared fixtures: the real mock server, started on a free loopback port with a fresh database."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from mock_server.app import create_app
from mock_server.process import free_port
from mock_server.settings import Settings
from tests.serving import ServerThread

TOKEN = "dev"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class RunningMock:
    """A mock app served by uvicorn in a thread; every answer is validated against the spec."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._thread = ServerThread(
            create_app(settings), host=settings.host, port=settings.port, lifespan="on"
        )
        self.base_url = self._thread.base_url

    def start(self) -> RunningMock:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._thread.stop()

    def client(self, *, auth: bool = True) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers=AUTH if auth else {}, timeout=30)


def eventually(check: Callable[[], bool], seconds: float = 20) -> bool:
    """Whether `check()` comes true within `seconds` (polled every 0.1 s): for what a server does
    in the background, such as applying an edited file."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def mock_settings(db_path: Path, **overrides: object) -> Settings:
    base = Settings(host="127.0.0.1", port=free_port(), db_path=db_path, validate_responses=True)
    return replace(base, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def start_mock(tmp_path: Path) -> Iterator[Callable[..., RunningMock]]:
    """A function that starts a mock (default: fresh database in tmp_path); all are stopped after the test."""
    started: list[RunningMock] = []

    def start(db_path: Path | None = None, **overrides: object) -> RunningMock:
        mock = RunningMock(mock_settings(db_path or tmp_path / "db.json", **overrides)).start()
        started.append(mock)
        return mock

    yield start
    for mock in started:
        mock.stop()


@pytest.fixture
def mock(start_mock: Callable[..., RunningMock]) -> RunningMock:
    """A running mock on a fresh copy of the default data."""
    return start_mock()


@pytest.fixture
def client(mock: RunningMock) -> Iterator[httpx.Client]:
    """An authenticated client of a fresh mock."""
    with mock.client() as c:
        yield c


@pytest.fixture(scope="session")
def shared_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMock]:
    """One mock on the default data for the whole run; only tests that never write may use it."""
    mock = RunningMock(mock_settings(tmp_path_factory.mktemp("shared") / "db.json")).start()
    yield mock
    mock.stop()


@pytest.fixture
def ro_client(shared_mock: RunningMock) -> Iterator[httpx.Client]:
    """An authenticated client of the shared, read-only mock."""
    with shared_mock.client() as c:
        yield c


ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
NPM_TOOLS = ("spectral", "redocly", "openapi-typescript", "tsc", "dredd")


def _npm_tools_installed() -> bool:
    """Whether node_modules holds every tool, installed from the current lock file."""
    marker = NODE_MODULES / ".package-lock.json"  # written by npm at every install
    return (
        all((NODE_MODULES / ".bin" / tool).exists() for tool in NPM_TOOLS)
        and marker.exists()
        and marker.stat().st_mtime >= (ROOT / "package-lock.json").stat().st_mtime
    )


@pytest.fixture(scope="session")
def node_bin() -> Path:
    """node_modules/.bin with the pinned npm tools, installed from the lock file when needed.

    Without npm the tests that need it skip, except in CI, which must run them.
    """
    if not _npm_tools_installed():
        npm = shutil.which("npm")
        if npm is None:
            if os.environ.get("CI"):
                pytest.fail("npm is not installed, and CI must run the npm tools")
            pytest.skip("npm is not installed: the npm tools cannot run")
        completed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if completed.returncode != 0:
            pytest.fail(f"npm ci failed:\n{completed.stderr[-2000:]}")
    return NODE_MODULES / ".bin"
