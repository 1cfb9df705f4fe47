"""The suite passes the project's mock (started as a subprocess), in both profiles, and leaves the
mock's own records exactly as they were."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from conformance.config import Profile
from conformance.runner import run
from mock_server.process import MockProcess
from tests.conformance.conftest import SMALL, settings_for
from tests.conformance.test_safety import snapshot


@pytest.fixture
def mock_url(tmp_path: Path) -> Iterator[str]:
    """The mock on a free port with fresh default data; stopped at teardown."""
    with MockProcess(tmp_path / "mock.json") as mock:
        yield mock.base_url


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
