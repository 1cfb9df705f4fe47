"""The suite passes the project's mock (started as a subprocess), in both profiles, and leaves the
mock's own records exactly as they were."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from conformance.config import Profile
from conformance.runner import run
from tests.conformance_suite.conftest import SMALL, free_port, settings_for
from tests.conformance_suite.test_safety import snapshot

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def mock_url(tmp_path: Path) -> Iterator[str]:
    """The mock on a free port with fresh default data; stopped at teardown."""
    if not (REPO / "mock_server" / "__main__.py").exists():
        pytest.skip("the mock server is not in this checkout")
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "mock_server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--db",
        str(tmp_path / "mock.json"),
        "--auth",
        "on",
        "--token",
        "dev",
    ]
    process = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if (
                    httpx.post(
                        f"{url}/v2/action-session/index",
                        json={},
                        headers={"Authorization": "Bearer dev"},
                    ).status_code
                    == 200
                ):
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the mock did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_full_run_passes_the_mock_and_leaves_its_records_unchanged(mock_url: str) -> None:
    before = {sid: snapshot(mock_url, sid) for sid in ("sess-1", "sess-2")}
    settings = settings_for(
        mock_url, budget=replace(SMALL, phases=("examples", "coverage", "fuzzing", "stateful"))
    )
    result = run(settings)
    assert result.ok, [f"{f.title}: {f.detail}" for f in result.findings]
    assert {sid: snapshot(mock_url, sid) for sid in before} == before


def test_safe_run_passes_the_mock(mock_url: str) -> None:
    result = run(settings_for(mock_url, profile=Profile.SAFE))
    assert result.ok, [f"{f.title}: {f.detail}" for f in result.findings]
