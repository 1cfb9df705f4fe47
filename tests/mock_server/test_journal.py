"""The request journal: what each API request sent and got, credentials masked, filtered, bounded."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import RunningMock


@pytest.fixture
def control(mock: RunningMock) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{mock.base_url}/__mock", timeout=30) as c:
        yield c


def _journal(control: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    answer = control.get("/requests", params=params)
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()
    return entries


def test_a_wrong_payload_is_visible_in_the_journal(
    mock: RunningMock, control: httpx.Client
) -> None:
    # The form sends `perPage`; the API ignores unknown members and answers the default page.
    with httpx.Client(base_url=mock.base_url, timeout=30) as raw:
        answer = raw.post(
            "/v2/action-session/index?access-token=dev&trace=1",
            content=b'{"perPage": 5}',
            headers={"Content-Type": "application/json", "Cookie": "session=abc"},
        )
    assert answer.status_code == 200
    assert answer.headers["X-Pagination-Per-Page"] == "100"

    [entry] = _journal(control)
    assert entry["method"] == "POST"
    assert entry["path"] == "/v2/action-session/index"
    assert entry["query"] == {"access-token": ["***"], "trace": ["1"]}
    assert entry["body"] == '{"perPage": 5}'
    assert entry["body_truncated"] is False
    assert entry["status"] == 200
    assert entry["response_headers"]["x-pagination-per-page"] == "100"
    assert entry["headers"]["cookie"] == "***"
    assert entry["headers"]["content-type"] == "application/json"
    assert entry["namespace"] is None
    assert entry["duration_ms"] > 0
    assert entry["id"] == 1
    assert entry["time"].endswith("Z")


def test_the_authorization_header_keeps_its_scheme_and_loses_its_credential(
    client: httpx.Client, control: httpx.Client
) -> None:
    assert client.get("/v2/action-session/view/sess-1").status_code == 200
    [entry] = _journal(control)
    assert entry["headers"]["authorization"] == "Bearer ***"
    assert "dev" not in str(entry)


def test_filters_by_method_path_status_namespace_and_time(
    client: httpx.Client, control: httpx.Client
) -> None:
    started = time.time()
    client.get("/v2/action-session/view/sess-1")
    client.get("/v2/action-session/view/nope")
    client.post("/v2/action-session-date/index", json={}, headers={"X-Mock-Namespace": "w3"})
    client.delete("/v2/action-session/delete/sess-1")

    assert [e["path"] for e in _journal(control, method="get")] == [
        "/v2/action-session/view/sess-1",
        "/v2/action-session/view/nope",
    ]
    assert [e["status"] for e in _journal(control, path="/v2/action-session/*")] == [200, 404, 400]
    assert [e["path"] for e in _journal(control, status="404")] == ["/v2/action-session/view/nope"]
    assert [e["status"] for e in _journal(control, status="4xx")] == [404, 400]
    [ns] = _journal(control, namespace="w3")
    assert ns["namespace"] == "w3"
    assert ns["path"] == "/v2/action-session-date/index"
    assert len(_journal(control, limit=2)) == 2
    assert _journal(control, limit=1)[0]["method"] == "DELETE"
    first = _journal(control)[0]["id"]
    assert len(_journal(control, after=first)) == 3
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started - 60))
    assert len(_journal(control, since=since)) == 4
    assert _journal(control, until=since) == []


def test_control_requests_are_not_journaled_and_clear_empties_it(
    client: httpx.Client, control: httpx.Client
) -> None:
    client.get("/v2/action-session/view/sess-1")
    control.get("/health")
    assert len(_journal(control)) == 1
    cleared = control.delete("/requests")
    assert cleared.status_code == 204
    assert _journal(control) == []
    client.get("/v2/action-session/view/sess-2")
    assert [e["id"] for e in _journal(control)] == [2]  # ids keep counting


def test_the_journal_keeps_only_the_last_n(start_mock: Callable[..., RunningMock]) -> None:
    mock = start_mock(journal_size=3)
    with mock.client() as client, httpx.Client(base_url=f"{mock.base_url}/__mock") as control:
        for n in range(5):
            client.get(f"/v2/action-session/view/x{n}")
        assert [e["path"][-2:] for e in _journal(control)] == ["x2", "x3", "x4"]
        assert control.get("/health").json()["journal"] == {"size": 3, "capacity": 3}


def test_a_long_poll_answers_when_a_matching_request_arrives(
    client: httpx.Client, control: httpx.Client
) -> None:
    def later() -> None:
        time.sleep(0.5)
        client.get("/v2/action-session/view/sess-2")

    thread = threading.Thread(target=later)
    began = time.monotonic()
    thread.start()
    entries = _journal(control, wait=10, path="/v2/action-session/view/*")
    waited = time.monotonic() - began
    thread.join()
    assert [e["path"] for e in entries] == ["/v2/action-session/view/sess-2"]
    assert 0.4 < waited < 8


def test_a_long_poll_with_nothing_arriving_answers_empty_after_the_wait(
    control: httpx.Client,
) -> None:
    began = time.monotonic()
    assert _journal(control, wait=0.3) == []
    assert time.monotonic() - began >= 0.3


def test_a_large_body_is_kept_truncated(client: httpx.Client, control: httpx.Client) -> None:
    big = {"filter": {"tenant_id": "t" * 70_000}}
    assert client.post("/v2/action-session/index", json=big).status_code == 200
    [entry] = _journal(control)
    assert entry["body_truncated"] is True
    assert len(entry["body"]) == 64 * 1024


def test_a_request_refused_before_its_body_is_read_still_shows_the_body(
    mock: RunningMock, control: httpx.Client
) -> None:
    with httpx.Client(base_url=mock.base_url, timeout=30) as anonymous:
        answer = anonymous.post(
            "/v2/action-session/create",
            content=b'{"action_id": "act-1"}',
            headers={"Content-Type": "application/json", "Authorization": "Bearer wrong"},
        )
    assert answer.status_code == 401
    [entry] = _journal(control)
    assert entry["status"] == 401
    assert entry["body"] == '{"action_id": "act-1"}'
    assert entry["headers"]["authorization"] == "Bearer ***"
