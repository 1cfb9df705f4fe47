"""Steered answers: Prism's Prefer conventions, delays, faults, latency and the fail rate."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import RunningMock

VIEW = "/v2/action-session/view/sess-1"
INDEX = "/v2/action-session/index"
CREATE = "/v2/action-session/create"
NEW_SESSION = {"action_id": "act-1", "subtenant_id": "sub-1", "tenant_id": "ten-1"}


def _total(client: httpx.Client) -> int:
    return int(client.post(INDEX, json={}).headers["X-Pagination-Total-Count"])


@pytest.mark.parametrize(
    ("how", "status", "body"),
    [
        pytest.param(
            {"headers": {"Prefer": "code=403"}},
            403,
            {
                "name": "Forbidden",
                "message": "You are not allowed to perform this action.",
                "code": 0,
                "status": 403,
            },
            id="header-403",
        ),
        pytest.param(
            {"params": {"__code": "500"}},
            500,
            {
                "name": "Internal Server Error",
                "message": "An internal server error occurred.",
                "code": 0,
                "status": 500,
            },
            id="query-500",
        ),
        pytest.param(
            {"headers": {"Prefer": "respond-async, code=409"}},
            409,
            {
                "name": "Conflict",
                "message": "The id sess-1 is already taken.",
                "code": 0,
                "status": 409,
            },
            id="unknown-preferences-ignored",
        ),
    ],
)
def test_a_forced_error_status_answers_the_spec_example_and_changes_nothing(
    client: httpx.Client, how: dict[str, Any], status: int, body: dict[str, Any]
) -> None:
    before = _total(client)
    response = client.post(CREATE, json=NEW_SESSION, **how)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Preference-Applied"] == f"code={status}"
    assert response.json() == body
    assert _total(client) == before


def test_a_forced_401_carries_its_challenge_and_a_forced_503_its_retry_after(
    ro_client: httpx.Client,
) -> None:
    unauthorized = ro_client.get(VIEW, headers={"Prefer": "code=401"})
    assert unauthorized.status_code == 401
    assert unauthorized.headers["WWW-Authenticate"] == 'Bearer realm="ActionSession"'
    assert unauthorized.json()["name"] == "Unauthorized"
    unavailable = ro_client.get(VIEW, headers={"Prefer": "code=503"})
    assert unavailable.status_code == 503
    assert unavailable.headers["Retry-After"] == "30"
    assert unavailable.json()["name"] == "Service Unavailable"


def test_credentials_are_checked_before_a_forced_status(shared_mock: RunningMock) -> None:
    with shared_mock.client(auth=False) as client:
        response = client.get(VIEW, headers={"Prefer": "code=403"})
    assert response.status_code == 401
    assert "Preference-Applied" not in response.headers
    assert response.json()["name"] == "Unauthorized"


def test_a_status_the_operation_does_not_declare_is_a_400_listing_those_it_does(
    ro_client: httpx.Client,
) -> None:
    response = ro_client.get(VIEW, headers={"Prefer": "code=418"})
    assert response.status_code == 400
    assert response.json() == {
        "name": "Bad Request",
        "message": "Prefer code=418: action_session.view does not declare it; "
        "it declares 200, 401, 403, 404, 500, 503.",
        "code": 0,
        "status": 400,
    }


def test_a_forced_success_is_applied_only_when_the_request_earns_it(client: httpx.Client) -> None:
    refused = client.post(CREATE, json={"action_id": "act-1"}, headers={"Prefer": "code=201"})
    assert refused.status_code == 422
    assert "Preference-Applied" not in refused.headers
    created = client.post(CREATE, json=NEW_SESSION, headers={"Prefer": "code=201"})
    assert created.status_code == 201
    assert created.headers["Preference-Applied"] == "code=201"
    assert client.get(created.headers["Location"]).status_code == 200


def test_a_named_example_replaces_the_body_of_an_earned_success(ro_client: httpx.Client) -> None:
    empty = ro_client.post(INDEX, json={}, headers={"Prefer": "example=empty"})
    assert empty.status_code == 200
    assert empty.json() == []
    assert empty.headers["Preference-Applied"] == "example=empty"
    assert empty.headers["X-Pagination-Total-Count"] == "0"
    assert empty.headers["X-Pagination-Page-Count"] == "0"
    assert empty.headers["X-Pagination-Current-Page"] == "1"
    page = ro_client.post(INDEX, json={}, params={"__example": "page"})
    assert [r["action_session_id"] for r in page.json()] == ["sess-1"]
    assert page.headers["X-Pagination-Total-Count"] == "1"
    invalid = ro_client.post(INDEX, json={"per-page": 0}, headers={"Prefer": "example=empty"})
    assert invalid.status_code == 422
    assert "Preference-Applied" not in invalid.headers


def test_an_unknown_example_is_a_400_listing_the_named_ones(ro_client: httpx.Client) -> None:
    response = ro_client.post(INDEX, json={}, headers={"Prefer": "example=full"})
    assert response.status_code == 400
    assert response.json()["message"] == (
        "Prefer example=full: action_session.index has no example of that name; "
        "its named examples are: page (200), empty (200)."
    )


@pytest.mark.parametrize(
    ("prefer", "message"),
    [
        ("delay=60001", "Prefer delay=60001 is out of range: from 0 to 60000 milliseconds."),
        ("delay=soon", "Prefer delay=soon is not a whole number."),
        ("fault=explode", "Prefer fault=explode is not one of reset, empty, truncate."),
        ("code=abc", "Prefer code=abc is not a whole number."),
    ],
)
def test_a_bad_preference_value_is_a_400_saying_what_is_allowed(
    ro_client: httpx.Client, prefer: str, message: str
) -> None:
    response = ro_client.get(VIEW, headers={"Prefer": prefer})
    assert response.status_code == 400
    assert response.json() == {"name": "Bad Request", "message": message, "code": 0, "status": 400}


def test_a_delay_holds_one_answer_and_never_the_others(ro_client: httpx.Client) -> None:
    slow: dict[str, Any] = {}

    def slow_view() -> None:
        started = time.monotonic()
        response = ro_client.get(VIEW, headers={"Prefer": "delay=1500"})
        slow.update(status=response.status_code, seconds=time.monotonic() - started)

    thread = threading.Thread(target=slow_view)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    for _ in range(10):
        assert ro_client.get(VIEW).status_code == 200
        assert ro_client.post(CREATE.replace("create", "index"), json={}).status_code == 200
    fast = time.monotonic() - started
    thread.join()
    assert slow["status"] == 200
    assert slow["seconds"] >= 1.5
    assert fast < 1.0, f"20 requests took {fast:.2f} s beside a delayed one"


def test_configured_latency_delays_every_answer_within_its_range(
    start_mock: Callable[..., RunningMock],
) -> None:
    mock = start_mock(latency_ms=(200, 300), seed=7)
    with mock.client() as client:
        times = []
        for _ in range(5):
            started = time.monotonic()
            assert client.get(VIEW).status_code == 200
            times.append(time.monotonic() - started)
        started = time.monotonic()
        assert client.get(VIEW, headers={"Prefer": "delay=0"}).status_code == 200
        instant = time.monotonic() - started
    assert all(0.2 <= t < 0.6 for t in times), times
    assert instant < 0.15


def _raw_exchange(base_url: str, request: bytes) -> tuple[bytes, str]:
    """Send `request` on a fresh connection; what came back and how the connection ended."""
    host, port = base_url.removeprefix("http://").split(":")
    received = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            return received, "reset"
    return received, "closed"


def _request(path: str, prefer: str, body: bytes = b"", method: str = "GET") -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer dev\r\n"
        f"Prefer: {prefer}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def test_fault_reset_resets_the_connection_without_an_answer_or_a_change(
    client: httpx.Client, mock: RunningMock
) -> None:
    before = _total(client)
    received, ending = _raw_exchange(
        mock.base_url,
        _request(CREATE, "fault=reset", json.dumps(NEW_SESSION).encode(), method="POST"),
    )
    assert (received, ending) == (b"", "reset")
    assert _total(client) == before
    # The request reached the mock: the journal shows it, answered with nothing (status 0).
    journal = client.get("/__mock/requests", params={"path": CREATE}).json()
    assert [(r["path"], r["status"], r["headers"]["prefer"]) for r in journal] == [
        (CREATE, 0, "fault=reset")
    ]
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(VIEW, headers={"Prefer": "fault=empty"})
    assert client.get(VIEW).status_code == 200


def test_fault_truncate_sends_half_of_the_body_then_closes(ro_client: httpx.Client) -> None:
    whole = ro_client.get(VIEW).content
    with pytest.raises(httpx.RemoteProtocolError):
        ro_client.get(VIEW, params={"__fault": "truncate"})
    host = str(ro_client.base_url)
    received, ending = _raw_exchange(host.rstrip("/"), _request(VIEW, "fault=truncate"))
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert f"content-length: {len(whole)}".encode() in head.lower()
    assert body == whole[: len(whole) // 2]
    assert ending == "closed"


def test_the_fail_rate_answers_the_configured_status_for_its_share_reproducibly(
    start_mock: Callable[..., RunningMock],
) -> None:
    def statuses(seed: int) -> list[int]:
        mock = start_mock(fail_rate=0.3, fail_status=503, seed=seed)
        with mock.client() as client:
            answers = [client.get(VIEW) for _ in range(60)]
        for answer in answers:
            if answer.status_code == 503:
                assert answer.json()["name"] == "Service Unavailable"
                assert answer.headers["Retry-After"] == "30"
        return [a.status_code for a in answers]

    first, again = statuses(11), statuses(11)
    assert first == again
    assert set(first) == {200, 503}
    assert 8 <= first.count(503) <= 30
