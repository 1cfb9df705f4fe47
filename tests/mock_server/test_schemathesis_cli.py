"""Schemathesis' own command line, every phase and check, finds nothing wrong with the live mock.

The same command as `make schemathesis`, with a fixed seed and a smaller budget so that it fits in
the test run; the full default budget is `make schemathesis` against `make serve`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import RunningMock

ROOT = Path(__file__).resolve().parents[2]


def test_schemathesis_cli_all_phases_and_checks_pass_against_the_mock(mock: RunningMock) -> None:
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    result = subprocess.run(
        [
            st,
            "run",
            "openapi/openapi.yaml",
            "--url",
            mock.base_url,
            "-H",
            "Authorization: Bearer dev",
            "--seed",
            "1",
            "--max-examples",
            "25",
            "--no-color",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    assert "15 selected / 15 total" in result.stdout
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in result.stdout, summary
