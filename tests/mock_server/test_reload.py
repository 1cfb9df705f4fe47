"""`--reload`: an edited fixture file is applied without losing the state; a bad edit is not."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import RunningMock, eventually


def _fixture(name: str) -> dict[str, Any]:
    return {
        "actions": [
            {"action_id": "a-1", "action_code": "A", "action_name": name, "action_type": "PER"}
        ],
        "action-session": [
            {"action_session_id": "f-1", "action_id": "a-1", "subtenant_id": "o", "tenant_id": "t"},
            {"action_session_id": "f-2", "action_id": "a-1", "subtenant_id": "o", "tenant_id": "t"},
        ],
    }


def test_an_edited_fixture_is_applied_and_the_clients_changes_are_kept(
    start_mock: Callable[..., RunningMock], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "team.json"
    data.write_text(json.dumps(_fixture("Before")), encoding="utf-8")
    mock = start_mock(data_paths=(data,), reload=True)
    with mock.client() as client:
        created = client.post(
            "/v2/action-session/create",
            json={
                "action_session_id": "mine",
                "action_id": "a-1",
                "subtenant_id": "o",
                "tenant_id": "t",
            },
        )
        assert created.status_code == 201
        assert client.delete("/v2/action-session/delete/f-2").status_code == 204

        edited = _fixture("After")
        edited["action-session"][0]["tenant_id"] = "t2"
        data.write_text(json.dumps(edited), encoding="utf-8")

        def applied() -> bool:
            return bool(client.get("/v2/action-session/view/f-1").json()["tenant_id"] == "t2")

        assert eventually(applied)
        assert client.get("/v2/action-session/view/f-1").json()["action_name"] == "After"
        assert client.get("/v2/action-session/view/mine").status_code == 200  # kept
        assert client.get("/v2/action-session/view/f-2").status_code == 404  # kept deleted

        # An edit the state would break (the action the client's session names) is not applied.
        broken = _fixture("After")
        broken["actions"][0]["action_id"] = "a-2"
        broken["action-session"] = []
        data.write_text(json.dumps(broken), encoding="utf-8")
        refused = "the edited fixture files were not applied (1 problems)"
        assert eventually(lambda: refused in caplog.text)
        assert 'action-session[0] (mine) action_id: Action "a-1" does not exist.' in caplog.text
        assert client.get("/v2/action-session/view/f-1").json()["tenant_id"] == "t2"
        assert client.get("/v2/action-session/view/mine").json()["action_name"] == "After"

        # A reset goes back to the last good edit.
        data.write_text(json.dumps(edited), encoding="utf-8")
        time.sleep(1)
        assert httpx.post(f"{mock.base_url}/__mock/reset", timeout=30).status_code == 200
        assert client.get("/v2/action-session/view/f-2").status_code == 200
        assert client.get("/v2/action-session/view/mine").status_code == 404
        assert client.get("/v2/action-session/view/f-1").json()["tenant_id"] == "t2"
