"""Durability: a restart keeps every change, a crash loses nothing acknowledged, the file is never torn."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from mock_server.process import MockProcess, free_port
from tests.conftest import AUTH, RunningMock

SESSION = {"action_id": "act-1", "subtenant_id": "sub-1", "tenant_id": "ten-1"}


def test_a_restart_on_the_same_file_keeps_every_change(
    start_mock: Callable[..., RunningMock], tmp_path: Path
) -> None:
    db = tmp_path / "persist.json"
    first = start_mock(db)
    with first.client() as client:
        created = client.post(
            "/v2/action-session/create", json={**SESSION, "action_session_id": "keep-me"}
        ).json()
        assert (
            client.put("/v2/action-session/update/sess-1", json={"validity": 99}).status_code == 200
        )
        assert client.delete("/v2/action-session/delete/sess-2").status_code == 204
        assert client.delete("/v2/action-session-subscription/delete/ssub-1").status_code == 204
    first.stop()
    second = start_mock(db)
    with second.client() as client:
        assert client.get("/v2/action-session/view/keep-me").json().items() >= created.items()
        session = client.get("/v2/action-session/view/sess-1").json()
        assert (session["validity"], session["count_subscribed"]) == (99, 9)
        assert client.get("/v2/action-session/view/sess-2").status_code == 404


def test_a_killed_server_loses_no_acknowledged_write(tmp_path: Path) -> None:
    db = tmp_path / "crash.json"
    acknowledged = []
    crashed = MockProcess(db).start()
    try:
        with httpx.Client(base_url=crashed.base_url, headers=AUTH) as client:
            for n in range(300):
                response = client.post(
                    "/v2/action-session/create", json={**SESSION, "action_session_id": f"crash-{n}"}
                )
                assert response.status_code == 201
                acknowledged.append(f"crash-{n}")
    finally:
        crashed.kill()
    with (
        MockProcess(db) as restarted,
        httpx.Client(base_url=restarted.base_url, headers=AUTH) as client,
    ):
        for record_id in acknowledged:
            assert client.get(f"/v2/action-session/view/{record_id}").status_code == 200
    # A clean stop compacts: the file is one valid TinyDB JSON document holding everything.
    tables = json.loads(db.read_text())
    assert set(acknowledged) <= set(tables["action_session"])


def test_an_unreadable_database_is_a_one_line_error_and_exit_2(tmp_path: Path) -> None:
    db = tmp_path / "broken.json"
    db.write_text("{not json")
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "--db", str(db), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("mock_server: cannot read the database")
    assert len(result.stderr.strip().splitlines()) == 1
    assert db.read_text() == "{not json"
