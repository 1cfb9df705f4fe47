"""The README's end-to-end recipe works as printed: a namespace per worker, a reset between tests,
and the journal printed under a failing test."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TESTS = """
def test_creates_a_session(api):
    answer = api.post("/v2/action-session/create",
                      json={"action_id": "t-act", "subtenant_id": "o", "tenant_id": "t"})
    assert answer.status_code == 201

def test_starts_from_the_fixture_again(api):
    assert api.post("/v2/action-session/index", json={}).headers["X-Pagination-Total-Count"] == "1"

def test_a_wrong_payload_fails(api):
    answer = api.post("/v2/action-session/index", json={"perPage": 5})
    assert answer.headers["X-Pagination-Per-Page"] == "5"
"""


def _recipe() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Recipe: pytest + httpx") :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_the_readme_recipe_runs(tmp_path: Path) -> None:
    (tmp_path / "tests" / "fixtures").mkdir(parents=True)
    fixture = {
        "actions": [
            {"action_id": "t-act", "action_code": "T", "action_name": "T", "action_type": "PER"}
        ],
        "action-session": [
            {
                "action_session_id": "t-1",
                "action_id": "t-act",
                "subtenant_id": "o",
                "tenant_id": "t",
            }
        ],
    }
    (tmp_path / "tests" / "fixtures" / "team.json").write_text(json.dumps(fixture))
    worker = '\n\n@pytest.fixture\ndef worker_id():\n    return "master"\n'
    (tmp_path / "conftest.py").write_text(_recipe() + worker, encoding="utf-8")
    (tmp_path / "test_e2e.py").write_text(TESTS, encoding="utf-8")

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "test_e2e.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )

    assert "1 failed, 2 passed" in done.stdout, done.stdout[-3000:]
    assert 'POST /v2/action-session/index {} {"perPage":5} -> 200' in done.stdout, done.stdout[
        -3000:
    ]
