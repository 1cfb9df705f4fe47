"""The mock serves what the spec says: members, paging limits and header names come from the
document it is started with (`--spec`), and an edited spec is served without a restart
(`--reload`), over the same state. No Python changes in any of these tests."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from mock_server import file_identity
from openapi import SPEC_PATH
from openapi.document import load_document
from tests.conftest import RunningMock, eventually

SESSION = {"action_id": "act-1", "subtenant_id": "sub-1", "tenant_id": "ten-1"}
PRIORITY = {"type": "integer", "nullable": True, "description": "How urgent the session is."}
SESSION_SCHEMAS = (
    "ActionSessionCreate",
    "ActionSessionUpdate",
    "ActionSessionRecord",
    "ActionSession",
)


def _write(path: Path, document: dict[str, Any]) -> None:
    # Through a rename, so that a watcher never reads a half-written file.
    partial = path.with_suffix(".partial")
    partial.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    partial.replace(path)


def _with_priority(document: dict[str, Any]) -> dict[str, Any]:
    for name in SESSION_SCHEMAS:
        document["components"]["schemas"][name]["properties"]["priority"] = dict(PRIORITY)
    return document


def test_a_member_added_to_a_record_schema_is_stored_answered_sorted_and_exported(
    start_mock: Callable[..., RunningMock], tmp_path: Path
) -> None:
    spec = tmp_path / "draft.yaml"
    _write(spec, _with_priority(load_document(SPEC_PATH)))
    # Every answer is validated against the draft (validate_responses): a member the mock left
    # out, or answered with the wrong type, fails the request.
    mock = start_mock(spec_path=spec)
    with mock.client() as client:
        created = client.post("/v2/action-session/create", json={**SESSION, "priority": 3})
        assert created.status_code == 201, created.text
        assert created.json()["priority"] == 3
        session_id = created.json()["action_session_id"]

        viewed = client.get(f"/v2/action-session/view/{session_id}")
        assert viewed.status_code == 200
        assert viewed.json()["priority"] == 3
        assert viewed.json()["action_name"] == "Safety Training"  # the joined members still join

        updated = client.put(f"/v2/action-session/update/{session_id}", json={"priority": 9})
        assert updated.status_code == 200
        assert updated.json()["priority"] == 9

        # Records stored before the member existed answer it as null.
        assert client.get("/v2/action-session/view/sess-1").json()["priority"] is None

        listed = client.post("/v2/action-session/index", json={"sort": "-priority", "per-page": 2})
        assert listed.status_code == 200
        assert [s["action_session_id"] for s in listed.json()][:1] == [session_id]

        bad = client.post("/v2/action-session/create", json={**SESSION, "priority": "high"})
        assert bad.status_code == 422
        assert [p["field"] for p in bad.json()] == ["priority"]

        exported = client.get("/__mock/export")
        assert exported.status_code == 200
        mine = [
            s for s in exported.json()["action-session"] if s["action_session_id"] == session_id
        ]
        assert mine[0]["priority"] == 9


def test_paging_limits_and_header_names_are_the_specs(
    start_mock: Callable[..., RunningMock], tmp_path: Path
) -> None:
    document = load_document(SPEC_PATH)
    schemas = document["components"]["schemas"]
    schemas["PerPage"]["default"] = 5
    document["components"]["headers"]["X-Pagination-Per-Page"]["schema"]["maximum"] = 7
    spec = tmp_path / "draft.yaml"
    _write(spec, document)
    mock = start_mock(spec_path=spec)
    with mock.client() as client:
        default = client.post("/v2/action-session/index", json={})
        assert default.status_code == 200
        assert len(default.json()) == 5
        assert default.headers["X-Pagination-Per-Page"] == "5"
        capped = client.post("/v2/action-session/index", json={"per-page": 50})
        assert len(capped.json()) == 7
        assert capped.headers["X-Pagination-Per-Page"] == "7"
        total = int(capped.headers["X-Pagination-Total-Count"])
        assert capped.headers["X-Pagination-Page-Count"] == str(-(-total // 7))


def test_an_edited_spec_is_served_without_a_restart_and_the_state_is_kept(
    start_mock: Callable[..., RunningMock], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mock_server.reload")
    spec = tmp_path / "draft.yaml"
    _write(spec, load_document(SPEC_PATH))
    mock = start_mock(spec_path=spec, reload=True, validate_responses=False)
    with mock.client() as client:
        before = client.post("/v2/action-session/create", json=SESSION)
        assert before.status_code == 201
        old_id = before.json()["action_session_id"]
        assert "priority" not in before.json()
        namespaced = client.post(
            "/v2/action-session/create", json=SESSION, headers={"X-Mock-Namespace": "w1"}
        )
        assert namespaced.status_code == 201

        _write(spec, _with_priority(load_document(SPEC_PATH)))

        def has_priority() -> bool:
            return "priority" in client.get(f"/v2/action-session/view/{old_id}").json()

        assert eventually(has_priority)
        # The records answer through the new API (`use_api`) a moment before the reloader logs
        # and swaps in the new app: wait for both.
        assert eventually(lambda: "applied the edited spec" in caplog.text)
        stamp = tmp_path / ".mock-spec-checked"

        def noted() -> int:
            return len((file_identity.recall(stamp) or {}).get("passed", []))

        # The edited document passed Connexion's check: the next start does not check it again.
        assert eventually(lambda: noted() == 3)  # the draft, the control API, the edit
        created = client.post("/v2/action-session/create", json={**SESSION, "priority": 2})
        assert created.status_code == 201
        assert created.json()["priority"] == 2
        # The new validation is in force: a wrong type for the new member is a 422.
        wrong = client.post("/v2/action-session/create", json={**SESSION, "priority": "x"})
        assert wrong.status_code == 422
        # The state and the namespace carried over.
        assert client.get(f"/v2/action-session/view/{old_id}").json()["priority"] is None
        in_namespace = client.get(
            f"/v2/action-session/view/{namespaced.json()['action_session_id']}",
            headers={"X-Mock-Namespace": "w1"},
        )
        assert in_namespace.status_code == 200
        assert in_namespace.json()["priority"] is None

        # A broken edit is logged and not applied: the last good spec is still served.
        spec.write_text("openapi: 3.0.3\npaths: [\n", encoding="utf-8")
        assert eventually(lambda: "was not applied" in caplog.text)
        still = client.post("/v2/action-session/create", json={**SESSION, "priority": 4})
        assert still.status_code == 201
        assert still.json()["priority"] == 4

        # An edit that renames an id field is refused: the stored records are keyed by it.
        caplog.clear()
        renamed = _with_priority(load_document(SPEC_PATH))
        create_ok = renamed["paths"]["/v2/action-session/create"]["post"]["responses"]["201"]
        view_link = create_ok["links"]["ViewCreatedSession"]
        view_link["parameters"]["id"] = "$response.body#/session_id"
        _write(spec, renamed)
        assert eventually(lambda: "changes a table's id field" in caplog.text)
        assert client.get(f"/v2/action-session/view/{old_id}").status_code == 200


def test_an_edited_spec_the_stored_records_would_break_is_reported_not_applied(
    start_mock: Callable[..., RunningMock], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spec = tmp_path / "draft.yaml"
    _write(spec, load_document(SPEC_PATH))
    mock = start_mock(spec_path=spec, reload=True, validate_responses=False)
    with mock.client() as client:
        week = client.post(
            "/v2/action-session/create",
            json={**SESSION, "action_session_id": "in-ns", "validity_unit": "DAY"},
            headers={"X-Mock-Namespace": "w1"},
        )
        assert week.status_code == 201
        # DAY leaves the enum: the namespace's record (and default records) would break.
        narrowed = load_document(SPEC_PATH)
        narrowed["components"]["schemas"]["ValidityUnit"]["enum"] = ["YEAR", "MONTH", None]
        _write(spec, narrowed)
        assert eventually(lambda: "was not applied" in caplog.text)
        assert "stored records would not be valid under it" in caplog.text
        assert "namespace w1: action-session" in caplog.text
        assert "(in-ns) validity_unit" in caplog.text
        # The old spec is still in force: DAY is still accepted.
        still = client.post("/v2/action-session/create", json={**SESSION, "validity_unit": "DAY"})
        assert still.status_code == 201

        # A new member that may not be null, which every stored record lacks, is refused the
        # same way: those records would answer it as null.
        caplog.clear()
        required = _with_priority(load_document(SPEC_PATH))
        for name in SESSION_SCHEMAS:
            required["components"]["schemas"][name]["properties"]["priority"]["nullable"] = False
        _write(spec, required)
        assert eventually(lambda: "was not applied" in caplog.text)
        assert "priority: None is not of type 'integer'." in caplog.text
        created = client.post("/v2/action-session/create", json=SESSION)
        assert created.status_code == 201
        assert "priority" not in created.json()
