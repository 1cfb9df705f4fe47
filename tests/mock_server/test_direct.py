"""Plain requests skip Connexion's last layers (`mock_server.direct`) and answer the same bytes.

Every other test of the mock goes through the direct path too (their servers validate every
answer against the spec, which the direct path does not skip). These tests prove what only a
comparison can: the answers are byte for byte those Connexion's handler decorators build, and the
requests the direct path must not take still reach Connexion's handlers.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from mock_server import handlers
from mock_server.direct import DirectOperations
from tests.conftest import RunningMock

SESSION = {
    "action_id": "act-3",
    "validity_unit": "YEAR",
    "validity": 1,
    "subtenant_id": "sub-3",
    "tenant_id": "ten-2",
}
Exchange = tuple[str, str, dict[str, Any]]


def _script() -> list[Exchange]:
    """Requests that cover every operation, answered and refused, in an order whose state matters."""
    search = {"filter": {"tenant_id": "ten-1"}, "sort": "-validity", "per-page": 3, "page": 2}
    return [
        ("GET", "/v2/action-session/view/sess-1", {}),
        ("GET", "/v2/action-session/view/no-such-session", {}),
        ("GET", "/v2/action-session/view/sess%201", {}),
        ("POST", "/v2/action-session/index", {"json": search}),
        ("POST", "/v2/action-session-date/index", {"json": {}}),
        ("POST", "/v2/action-session/create", {"json": {**SESSION, "action_session_id": "d-1"}}),
        ("POST", "/v2/action-session/create", {"json": {**SESSION, "action_session_id": "d-1"}}),
        ("POST", "/v2/action-session/create", {"json": {**SESSION, "action_id": "no-such"}}),
        ("PUT", "/v2/action-session/update/d-1", {"json": {"validity": 7, "watcher": "w"}}),
        ("PUT", "/v2/action-session/update/no-such-session", {"json": {"validity": 7}}),
        ("GET", "/v2/action-session/view/d-1", {}),
        ("DELETE", "/v2/action-session/delete/sess-1", {}),
        ("DELETE", "/v2/action-session/delete/d-1", {}),
        ("DELETE", "/v2/action-session/delete/d-1", {}),
        ("POST", "/v2/action-session/index", {"json": {"filter": {"action_session_id": "d-1"}}}),
    ]


def _answers(mock: RunningMock) -> list[tuple[int, list[tuple[str, str]], bytes]]:
    answers = []
    with mock.client() as client:
        for method, url, options in _script():
            response = client.request(method, url, **options)
            headers = [(k, v) for k, v in response.headers.multi_items() if k != "date"]
            answers.append((response.status_code, headers, response.content))
    return answers


@pytest.fixture
def whole_way(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Makes every `DirectOperations` pass every request on, from the moment it is called."""

    def switch() -> None:
        async def pass_on(
            self: DirectOperations, scope: Scope, receive: Receive, send: Send
        ) -> None:
            await self.app(scope, receive, send)

        monkeypatch.setattr(DirectOperations, "__call__", pass_on)

    return switch


def test_direct_answers_are_byte_for_byte_those_of_connexions_handlers(
    start_mock: Callable[..., RunningMock], tmp_path: Any, whole_way: Callable[[], None]
) -> None:
    direct = _answers(start_mock(tmp_path / "direct.json"))
    whole_way()
    connexion = _answers(start_mock(tmp_path / "whole.json"))

    assert [status for status, _, _ in direct] == [
        200, 404, 404, 200, 200, 201, 409, 422, 200, 404, 200, 400, 204, 404, 200,
    ]  # fmt: skip
    assert direct == connexion
    created = dict(direct[5][1])
    assert created["location"] == "/v2/action-session/view/d-1"
    assert created["content-type"] == "application/json"
    assert json.loads(direct[10][2])["validity"] == 7
    assert json.loads(direct[14][2]) == []


@pytest.fixture
def handler_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The Connexion entry points (`ResourceHandlers`) called, by name, while still answering.

    Requested before the mock: Connexion takes the entry points when the app is built."""
    calls: list[str] = []

    def noting(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        # Same signature and kind (async or not) as the entry point: Connexion reads both.
        if inspect.iscoroutinefunction(original):

            @functools.wraps(original)
            async def noted_async(*args: Any, **kwargs: Any) -> Any:
                calls.append(name)
                return await original(*args, **kwargs)

            return noted_async

        @functools.wraps(original)
        def noted(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return original(*args, **kwargs)

        return noted

    for name in ("index", "create", "view", "update", "delete"):
        original = getattr(handlers.ResourceHandlers, name)
        monkeypatch.setattr(handlers.ResourceHandlers, name, noting(name, original))
    yield calls


def test_plain_requests_do_not_reach_connexions_handlers(
    handler_calls: list[str], client: httpx.Client
) -> None:
    created = client.post("/v2/action-session/create", json={**SESSION, "action_session_id": "p-1"})
    viewed = client.get("/v2/action-session/view/p-1?unknown=ignored")
    updated = client.put("/v2/action-session/update/p-1", json={"validity": 3})
    listed = client.post("/v2/action-session/index", json={"filter": {"action_session_id": "p-1"}})
    deleted = client.delete("/v2/action-session/delete/p-1")

    assert (created.status_code, created.headers["location"]) == (
        201,
        "/v2/action-session/view/p-1",
    )
    assert (viewed.status_code, viewed.json()["action_session_id"]) == (200, "p-1")
    assert (updated.status_code, updated.json()["validity"]) == (200, 3)
    assert listed.status_code == 200
    assert [r["validity"] for r in listed.json()] == [3]
    assert listed.headers["x-pagination-total-count"] == "1"
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert handler_calls == []


def test_requests_the_direct_path_cannot_read_as_connexion_does_reach_its_handlers(
    handler_calls: list[str], client: httpx.Client
) -> None:
    # A content type written in a way the direct path does not parse, a query parameter the
    # operation declares, and no body: each is read by Connexion, with its own conversions.
    session = {**SESSION, "action_session_id": "w-1", "data": {"note": "café"}}
    created = client.post(
        "/v2/action-session/create",
        content=json.dumps(session, ensure_ascii=False).encode(),
        headers={"Content-Type": 'application/json; charset="utf-8"'},
    )
    forced = client.delete("/v2/action-session/delete/w-1?force=true")
    listed = client.post("/v2/action-session/index")

    assert created.status_code == 201, created.text
    assert created.json()["data"] == {"note": "café"}
    assert (forced.status_code, forced.content) == (204, b"")
    assert client.get("/v2/action-session/view/w-1").status_code == 404
    assert listed.status_code == 200
    assert listed.headers["x-pagination-total-count"] == "44"
    assert handler_calls == ["create", "delete", "index"]


def test_a_body_sent_in_chunks_is_read_whole(client: httpx.Client) -> None:
    body = json.dumps({**SESSION, "action_session_id": "c-1"}).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 7):
            yield body[start : start + 7]

    created = client.post(
        "/v2/action-session/create",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )

    assert created.status_code == 201, created.text
    assert created.json() == {
        **SESSION,
        "action_session_id": "c-1",
        "data": None,
        "manager": None,
        "assignee": None,
        "watcher": None,
    }
    assert client.get("/v2/action-session/view/c-1").json()["validity"] == 1


def test_a_string_utf8_cannot_hold_is_answered_escaped_by_every_operation(
    client: httpx.Client,
) -> None:
    # JSON may carry a lone surrogate ("\ud800"); Python reads it into a str that UTF-8 cannot
    # encode. msgspec refuses to write it, so such an answer is written as json.dumps would.
    lone = "\ud800x"
    body = {**SESSION, "action_session_id": "u-1", "subtenant_id": lone, "data": {"k": "\udfff"}}
    created = client.post(
        "/v2/action-session/create",
        content=json.dumps(body).encode("ascii"),
        headers={"Content-Type": "application/json"},
    )
    viewed = client.get("/v2/action-session/view/u-1")
    listed = client.post("/v2/action-session/index", json={"filter": {"tenant_id": "ten-2"}})

    assert (created.status_code, viewed.status_code, listed.status_code) == (201, 200, 200)
    for answer in (created, viewed):
        assert answer.headers["content-type"] == "application/json"
        assert '"subtenant_id": "\\ud800x"' in answer.text  # escaped, as json.dumps writes it
        assert json.loads(answer.text)["subtenant_id"] == lone
        assert json.loads(answer.text)["data"] == {"k": "\udfff"}
    assert [s for s in listed.json() if s["action_session_id"] == "u-1"][0]["subtenant_id"] == lone
