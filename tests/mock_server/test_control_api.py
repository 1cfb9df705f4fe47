"""The control API under /__mock/: health, reset, snapshots, export and import, and who may call it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server.app import create_app
from mock_server.default_data import default_data
from mock_server.fixtures import fixture_format
from mock_server.generate import generate
from mock_server.resources import read_mock_api
from tests.conftest import AUTH, RunningMock, mock_settings
from tests.serving import ServerThread

KEYS = fixture_format(read_mock_api()).keys
DEFAULT_COUNTS = {key: len(default_data()[table]) for key, table in KEYS.items()}


def _control(mock: RunningMock, **headers: str) -> httpx.Client:
    return httpx.Client(base_url=f"{mock.base_url}/__mock", headers=headers, timeout=30)


@pytest.fixture
def control(mock: RunningMock) -> Iterator[httpx.Client]:
    with _control(mock) as c:
        yield c


def _view(client: httpx.Client, session_id: str) -> int:
    return client.get(f"/v2/action-session/view/{session_id}").status_code


def test_health_answers_ready_with_the_default_counts(control: httpx.Client) -> None:
    answer = control.get("/health")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "status": "ready",
        "namespace": None,
        "counts": DEFAULT_COUNTS,
        "namespaces": 0,
        "snapshots": 0,
        "journal": {"size": 0, "capacity": 1000},
    }


def test_reset_brings_back_the_default_data(client: httpx.Client, control: httpx.Client) -> None:
    assert client.delete("/v2/action-session/delete/sess-1?force=true").status_code == 204
    assert client.put("/v2/action-session/update/sess-2", json={"validity": 9}).status_code == 200
    created = client.post(
        "/v2/action-session/create",
        json={"action_id": "act-1", "subtenant_id": "s", "tenant_id": "t"},
    )
    assert created.status_code == 201

    answer = control.post("/reset")

    assert answer.status_code == 200
    assert answer.json() == {"namespace": None, "counts": DEFAULT_COUNTS}
    assert _view(client, "sess-1") == 200
    assert client.get("/v2/action-session/view/sess-2").json()["validity"] == 1
    assert _view(client, created.json()["action_session_id"]) == 404
    # The same order as a fresh start: the first page lists sess-1 first again.
    first = client.post("/v2/action-session/index", json={"per-page": 1}).json()
    assert first[0]["action_session_id"] == "sess-1"


def test_repeated_resets_give_back_exactly_the_first_state_in_its_order(
    client: httpx.Client, control: httpx.Client
) -> None:
    first = control.get("/export").json()
    subs = {"filter": {"action_session_id": "sess-1"}}
    first_subs = client.post("/v2/action-session-subscription/index", json=subs).json()
    for round_ in range(3):
        assert client.delete("/v2/action-session/delete/sess-1?force=true").status_code == 204
        assert client.delete("/v2/action-session-subscription/delete/ssub-3").status_code in (
            204,
            404,
        )
        assert client.put("/v2/action-session/update/sess-2", json={"validity": round_}).is_success
        assert control.post("/reset").status_code == 200
        assert control.get("/export").json() == first
        again = client.post("/v2/action-session-subscription/index", json=subs).json()
        assert again == first_subs


def test_reset_survives_a_restart(start_mock: Callable[..., RunningMock], tmp_path: Path) -> None:
    mock = start_mock(tmp_path / "db.json")
    with mock.client() as client, _control(mock) as control:
        assert client.delete("/v2/action-session/delete/sess-2").status_code == 204
        assert control.post("/reset").status_code == 200
        assert client.delete("/v2/action-session/delete/sess-2").status_code == 204
    mock.stop()
    again = start_mock(tmp_path / "db.json")
    with again.client() as client:
        assert _view(client, "sess-2") == 404
        assert _view(client, "sess-1") == 200


def test_snapshots_save_list_restore_delete_and_survive_a_restart(
    start_mock: Callable[..., RunningMock], tmp_path: Path
) -> None:
    mock = start_mock(tmp_path / "db.json")
    with mock.client() as client, _control(mock) as control:
        assert client.delete("/v2/action-session/delete/sess-2").status_code == 204
        saved = control.put("/snapshots/without-sess-2")
        assert saved.status_code == 201
        assert saved.json()["name"] == "without-sess-2"
        assert saved.json()["size_bytes"] > 0
        assert control.put("/snapshots/without-sess-2").status_code == 200  # replaced
        assert control.post("/reset").status_code == 200
        assert _view(client, "sess-2") == 200
    mock.stop()

    assert (tmp_path / "db.json.snapshots" / "without-sess-2.json").is_file()
    again = start_mock(tmp_path / "db.json")
    with again.client() as client, _control(again) as control:
        listed = control.get("/snapshots")
        assert listed.status_code == 200
        assert [s["name"] for s in listed.json()] == ["without-sess-2"]
        restored = control.post("/snapshots/without-sess-2/restore")
        assert restored.status_code == 200
        assert restored.json()["counts"]["action-session"] == DEFAULT_COUNTS["action-session"] - 1
        assert _view(client, "sess-2") == 404
        assert control.post("/reset", json={"snapshot": None}).status_code == 200
        assert _view(client, "sess-2") == 200
        assert control.post("/reset", json={"snapshot": "without-sess-2"}).status_code == 200
        assert _view(client, "sess-2") == 404
        assert control.delete("/snapshots/without-sess-2").status_code == 204
        assert control.get("/snapshots").json() == []
        gone = control.delete("/snapshots/without-sess-2")
        assert gone.status_code == 404
        assert gone.json() == {
            "name": "Not Found",
            "message": 'Snapshot "without-sess-2" does not exist.',
            "code": 0,
            "status": 404,
        }


@pytest.mark.parametrize(
    "name", [pytest.param("../db", id="traversal"), pytest.param(".hidden", id="dot-first")]
)
def test_a_snapshot_name_outside_the_syntax_is_refused(control: httpx.Client, name: str) -> None:
    answer = control.put(f"/snapshots/{name}")
    assert answer.status_code in (400, 404)
    assert answer.json()["status"] == answer.status_code


def test_export_answers_the_default_data_as_a_fixture(control: httpx.Client) -> None:
    answer = control.get("/export")
    assert answer.status_code == 200
    document = answer.json()
    assert document["version"] == 1
    assert {key: len(document[key]) for key in KEYS} == DEFAULT_COUNTS
    sess1 = next(s for s in document["action-session"] if s["action_session_id"] == "sess-1")
    assert sess1 == {
        "action_session_id": "sess-1",
        "action_id": "act-1",
        "validity_unit": "MONTH",
        "validity": 12,
        "subtenant_id": "sub-1",
        "tenant_id": "ten-1",
        "data": None,
        "manager": None,
        "assignee": None,
        "watcher": None,
    }
    assert any(s.get("historized") is True for s in document["action-session"])


def _tiny_fixture() -> dict[str, Any]:
    return {
        "version": 1,
        "actions": [
            {"action_id": "a-9", "action_code": "Z9", "action_name": "Tiny", "action_type": "CHECK"}
        ],
        "action-session": [
            {
                "action_session_id": "tiny-1",
                "action_id": "a-9",
                "subtenant_id": "o",
                "tenant_id": "t",
            }
        ],
        "action-session-date": [
            {
                "action_session_date_id": "tiny-day",
                "action_session_id": "tiny-1",
                "subtenant_id": "o",
                "tenant_id": "t",
                "date_begin": "2025-03-01T08:00:00Z",
                "date_end": "2025-03-01T12:00:00Z",
            }
        ],
    }


def test_import_replace_makes_the_state_the_fixture(
    client: httpx.Client, control: httpx.Client
) -> None:
    answer = control.post("/import", json=_tiny_fixture())
    assert answer.status_code == 200
    assert answer.json()["counts"] == {
        "actions": 1,
        "action-session": 1,
        "action-session-subscription": 0,
        "action-session-date": 1,
    }
    assert _view(client, "sess-1") == 404
    view = client.get("/v2/action-session/view/tiny-1")
    assert view.status_code == 200
    assert view.json()["action_name"] == "Tiny"
    assert view.json()["date_begin"] == "2025-03-01"
    exported = control.get("/export").json()
    assert exported["action-session"][0]["validity_unit"] is None
    assert control.post("/import", json=exported).status_code == 200
    assert control.get("/export").json() == exported


def test_an_import_larger_than_an_api_body_is_taken_up_to_its_own_limit(
    start_mock: Callable[..., RunningMock],
) -> None:
    # 1,500 generated sessions are about 2 MB: twice the API's 1 MiB body limit.
    document = json.dumps(generate(1500, seed=3)).encode()
    assert len(document) > 2 * (1 << 20)
    mock = start_mock(max_import_bytes=len(document) + 10)
    headers = {**AUTH, "Content-Type": "application/json"}
    with httpx.Client(base_url=mock.base_url, headers=headers, timeout=120) as client:
        imported = client.post("/__mock/import", content=document)
        assert imported.status_code == 200, imported.text[:300]
        assert imported.json()["counts"]["action-session"] == 1500
        listed = client.post("/v2/action-session/index", json={"history": True})
        assert listed.headers["X-Pagination-Total-Count"] == "1500"
        # The API's own operations keep their limit.
        huge = client.post("/v2/action-session/create", content=document)
        assert huge.status_code == 413
        assert huge.json()["message"] == f"The request body is larger than {1 << 20} bytes."
        # And the import its own: one byte more is refused, nothing changes.
        over = client.post("/__mock/import", content=document + b" " * 11)
        assert over.status_code == 413
        assert (
            over.json()["message"] == f"The request body is larger than {len(document) + 10} bytes."
        )
        assert client.get("/__mock/health").json()["counts"]["action-session"] == 1500


def test_import_merge_adds_and_replaces_records_by_id(
    client: httpx.Client, control: httpx.Client
) -> None:
    fixture = _tiny_fixture()
    fixture["action-session"].append(
        {"action_session_id": "sess-2", "action_id": "a-9", "subtenant_id": "o", "tenant_id": "t"}
    )
    answer = control.post("/import?mode=merge", json=fixture)
    assert answer.status_code == 200
    assert answer.json()["counts"]["action-session"] == DEFAULT_COUNTS["action-session"] + 1
    assert client.get("/v2/action-session/view/sess-2").json()["action_id"] == "a-9"
    assert client.get("/v2/action-session/view/sess-1").json()["count_subscribed"] == 10
    assert _view(client, "tiny-1") == 200


def test_a_bad_import_lists_every_problem_and_changes_nothing(
    client: httpx.Client, control: httpx.Client
) -> None:
    before = control.get("/export").json()
    fixture = _tiny_fixture()
    fixture["action-session"].append(
        {
            "action_session_id": "x",
            "action_id": "act-404",
            "subtenant_id": "o",
            "tenant_id": "t",
            "validty": 3,
        }
    )
    fixture["action-session-date"][0]["date_end"] = "2025-02-01T00:00:00Z"

    answer = control.post("/import?mode=merge", json=fixture)

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/json"
    problems = {(p["field"], p["message"]) for p in answer.json()}
    assert ("action-session[1].validty", "is not a field of this record (a typo?).") in problems
    assert ("action-session[1].action_id", 'Action "act-404" does not exist.') in problems
    assert any(f == "action-session[1].action_session_id" for f, _ in problems)  # too short
    assert (
        "action-session-date[0].date_end",
        "Date End must be no earlier than Date Begin.",
    ) in problems
    assert control.get("/export").json() == before
    assert _view(client, "tiny-1") == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param(b"[1", 400, id="malformed-json"),
        pytest.param(b"[]", 400, id="not-an-object"),
        pytest.param(b'{"actions": 3}', 422, id="list-expected"),
        pytest.param(b'{"version": 2}', 422, id="unknown-version"),
        pytest.param(b'{"sessions": []}', 422, id="unknown-member"),
        pytest.param(b'{"action-session": [7]}', 422, id="record-not-object"),
        pytest.param(b'{"actions": [{"action_id": 1e999}]}', 422, id="huge-number"),
    ],
)
def test_a_malformed_import_is_a_client_error(
    control: httpx.Client, body: bytes, status: int
) -> None:
    answer = control.post("/import", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == status
    if status == 400:
        assert answer.json()["status"] == 400
    else:
        assert all(set(p) == {"field", "message"} for p in answer.json())
    assert control.get("/health").json()["counts"] == DEFAULT_COUNTS


def test_a_reset_to_an_unknown_snapshot_is_404_and_changes_nothing(
    client: httpx.Client, control: httpx.Client
) -> None:
    assert client.delete("/v2/action-session/delete/sess-2").status_code == 204
    answer = control.post("/reset", json={"snapshot": "nope"})
    assert answer.status_code == 404
    assert answer.json()["message"] == 'Snapshot "nope" does not exist.'
    assert _view(client, "sess-2") == 404


def test_an_unknown_control_query_parameter_is_400(control: httpx.Client) -> None:
    answer = control.get("/requests", params={"stauts": "500"})
    assert answer.status_code == 400
    assert answer.json() == {
        "name": "Bad Request",
        "message": "Extra query parameter(s) stauts not in spec",
        "code": 0,
        "status": 400,
    }


def test_the_control_spec_is_served_and_shown_in_the_docs_ui(control: httpx.Client) -> None:
    spec = control.get("/openapi.json")
    assert spec.status_code == 200
    assert spec.json()["info"]["title"] == "ActionSession mock control API"
    assert "/reset" in spec.json()["paths"]
    ui = control.get("/ui/")
    assert ui.status_code == 200
    assert "swagger" in ui.text.lower()


# -- who may call it ---------------------------------------------------------------------------
def test_with_an_admin_token_a_request_without_it_is_401(
    start_mock: Callable[..., RunningMock],
) -> None:
    mock = start_mock(admin_token="s3cret")
    with _control(mock) as control:
        answer = control.get("/health")
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == 'ApiKey header="X-Mock-Admin-Token"'
        assert answer.json() == {
            "name": "Unauthorized",
            "message": "The control API needs the X-Mock-Admin-Token header.",
            "code": 0,
            "status": 401,
        }
        wrong = control.get("/health", headers={"X-Mock-Admin-Token": "nope"})
        assert wrong.status_code == 401
        assert wrong.json()["message"] == "The admin token is not valid."
        right = control.post("/reset", headers={"X-Mock-Admin-Token": "s3cret"})
        assert right.status_code == 200


def test_the_api_token_never_opens_the_control_api(
    start_mock: Callable[..., RunningMock],
) -> None:
    mock = start_mock(admin_token="s3cret")
    with _control(mock, **AUTH) as control:
        for headers in (AUTH, {"X-Mock-Admin-Token": "dev"}):
            answer = control.post("/reset", headers=headers)
            assert answer.status_code == 401
        assert control.get("/health", params={"access-token": "dev"}).status_code == 401


@pytest.fixture
def served_as_if_public(tmp_path: Path) -> Iterator[str]:
    """A mock whose settings say it listens on all interfaces, served on loopback for the test."""
    settings = mock_settings(tmp_path / "db.json", host="0.0.0.0")
    server = ServerThread(create_app(settings)).start()
    yield server.base_url
    server.stop()


def test_beyond_loopback_without_an_admin_token_the_control_api_is_401(
    served_as_if_public: str,
) -> None:
    answer = httpx.post(f"{served_as_if_public}/__mock/reset", timeout=30)
    assert answer.status_code == 401
    assert answer.json()["message"] == (
        "The control API is served beyond loopback only when the mock is started with "
        "--admin-token."
    )
    api = httpx.get(f"{served_as_if_public}/v2/action-session/view/sess-1", headers=AUTH)
    assert api.status_code == 200


def test_health_of_a_namespace_counts_its_own_records(
    client: httpx.Client, control: httpx.Client
) -> None:
    headers = {"X-Mock-Namespace": "w1"}
    assert client.delete("/v2/action-session/delete/sess-2", headers=headers).status_code == 204
    answer = control.get("/health", headers=headers)
    assert answer.status_code == 200
    body = answer.json()
    assert body["namespace"] == "w1"
    assert body["counts"]["action-session"] == DEFAULT_COUNTS["action-session"] - 1
    assert control.get("/health").json()["counts"] == DEFAULT_COUNTS
    assert json.loads(control.get("/namespaces").text)[0]["changed_records"] == 1


def test_a_reset_is_durable_through_a_crash_and_works_after_a_restart(tmp_path: Path) -> None:
    from mock_server.process import MockProcess

    db = tmp_path / "db.json"
    with MockProcess(db) as mock:
        headers = mock.auth_headers
        gone = httpx.delete(f"{mock.base_url}/v2/action-session/delete/sess-2", headers=headers)
        assert gone.status_code == 204
    # The restarted mock learns at start which records differ from its base, then resets.
    mock = MockProcess(db).start()
    try:
        view = f"{mock.base_url}/v2/action-session/view"
        assert httpx.get(f"{view}/sess-2", headers=headers).status_code == 404
        assert httpx.post(f"{mock.base_url}/__mock/reset", timeout=30).status_code == 200
        assert httpx.get(f"{view}/sess-2", headers=headers).status_code == 200
        forced = f"{mock.base_url}/v2/action-session/delete/sess-1?force=true"
        assert httpx.delete(forced, headers=headers).status_code == 204
        assert httpx.post(f"{mock.base_url}/__mock/reset", timeout=30).status_code == 200
    finally:
        mock.kill()  # SIGKILL right after the answer: the reset must already be on disk
    with MockProcess(db) as mock:
        view = f"{mock.base_url}/v2/action-session/view"
        assert httpx.get(f"{view}/sess-1", headers=headers).json()["count_subscribed"] == 10
        assert httpx.get(f"{view}/sess-2", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        pytest.param("/requests", "DELETE, GET, HEAD", id="requests"),
        pytest.param("/snapshots/x1", "DELETE, PUT", id="snapshot"),
        pytest.param("/reset", "POST", id="reset"),
    ],
)
def test_a_method_the_path_lacks_is_405_listing_every_method_it_has(
    control: httpx.Client, path: str, allow: str
) -> None:
    answer = control.request("PATCH", path)
    assert answer.status_code == 405
    assert answer.headers["allow"] == allow
    assert answer.json()["status"] == 405


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        pytest.param("PUT", "/snapshots/%0Aabc", 400, None, id="snapshot-name"),
        pytest.param("POST", "/snapshots/a%0Ab/restore", 400, None, id="restore-name"),
        pytest.param("DELETE", "/namespaces/%0A", 400, None, id="namespace-name"),
        pytest.param("PATCH", "/snapshots/%0Aabc", 405, "DELETE, PUT", id="method-it-lacks"),
        pytest.param("PUT", "/no-such-thing%0A", 404, None, id="no-such-path"),
    ],
)
def test_a_line_break_in_a_control_path_gets_the_answer_the_spec_documents(
    control: httpx.Client, method: str, path: str, status: int, allow: str | None
) -> None:
    # Connexion's router matched no route for these (its mount's `.*` stops at a line break)
    # and answered 404 "Page not found." even where the spec says 400 or 405.
    answer = control.request(method, path)
    assert answer.status_code == status
    assert answer.headers.get("allow") == allow
    assert answer.headers["content-type"] == "application/json"
    message = {
        400: "A name in the path holds a line break; names cannot.",
        404: "Page not found.",
        405: "Method Not Allowed. This URL can only handle the methods listed in Allow.",
    }[status]
    assert answer.json() == {
        "name": {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}[status],
        "message": message,
        "code": 0,
        "status": status,
    }
    assert control.get("/snapshots").json() == []


def test_schemathesis_finds_nothing_wrong_with_the_control_api(
    start_mock: Callable[..., RunningMock],
) -> None:
    """Every phase but stateful (a reset in the middle of a sequence is what it is for) and every
    check; the journal's long poll is left out (a wait is not a hang) and tested above."""
    import shutil
    import subprocess
    import sys

    mock = start_mock(admin_token="adm")
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    result = subprocess.run(
        [
            st,
            "run",
            "openapi/mock-control.yaml",
            "--url",
            f"{mock.base_url}/__mock",
            "-H",
            "X-Mock-Admin-Token: adm",
            "--exclude-operation-id",
            "list_requests",
            "--phases",
            "examples,coverage,fuzzing",
            "--seed",
            "1",
            "--max-examples",
            "10",
            "--no-color",
        ],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "12 selected / 13 total" in result.stdout


def test_a_snapshot_edited_into_a_bad_fixture_is_422_and_changes_nothing(
    mock: RunningMock, client: httpx.Client, control: httpx.Client
) -> None:
    assert control.put("/snapshots/edited").status_code == 201
    assert client.delete("/v2/action-session/delete/sess-2").status_code == 204
    path = mock.settings.db_path.with_name(mock.settings.db_path.name + ".snapshots")
    document = json.loads((path / "edited.json").read_text(encoding="utf-8"))
    document["action-session"][1]["action_id"] = "act-404"
    (path / "edited.json").write_text(json.dumps(document), encoding="utf-8")

    answer = control.post("/snapshots/edited/restore")

    assert answer.status_code == 422
    assert answer.json() == [
        {"field": "action-session[1].action_id", "message": 'Action "act-404" does not exist.'}
    ]
    assert _view(client, "sess-2") == 404
