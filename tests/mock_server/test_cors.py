"""CORS: preflights on any path, and every answer to an allowed origin readable by the page."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.conftest import AUTH, RunningMock

ORIGIN = "http://localhost:5173"
EXPOSED = {
    "X-Pagination-Total-Count",
    "X-Pagination-Page-Count",
    "X-Pagination-Current-Page",
    "X-Pagination-Per-Page",
    "Location",
    "WWW-Authenticate",
    "Allow",
    "Retry-After",
    "Preference-Applied",
}


def _exposed(response: httpx.Response) -> set[str]:
    return {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/v2/action-session/index", id="declared"),
        pytest.param("/v2/action-session/view/sess-1", id="declared-with-id"),
        pytest.param("/v2/nowhere/at/all", id="undeclared"),
    ],
)
def test_a_preflight_on_any_path_answers_204_without_credentials(
    shared_mock: RunningMock, path: str
) -> None:
    with shared_mock.client(auth=False) as client:
        response = client.options(
            path,
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type, prefer",
            },
        )
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Allow-Methods"] == "DELETE, GET, OPTIONS, POST, PUT"
    assert response.headers["Access-Control-Allow-Headers"] == "authorization, content-type, prefer"
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert "Origin" in response.headers["Vary"]


def test_answers_echo_the_origin_vary_on_it_and_expose_the_headers_a_page_needs(
    ro_client: httpx.Client,
) -> None:
    response = ro_client.post("/v2/action-session/index", json={}, headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Vary"] == "Origin"
    assert _exposed(response) == EXPOSED
    assert int(response.headers["X-Pagination-Total-Count"]) == len(response.json())


@pytest.mark.parametrize(
    ("method", "path", "auth", "status"),
    [
        pytest.param("GET", "/v2/action-session/view/sess-1", False, 401, id="401"),
        pytest.param("GET", "/v2/action-session/view/sess-404", True, 404, id="404"),
        pytest.param("PATCH", "/v2/action-session/view/sess-1", True, 405, id="405"),
        pytest.param("POST", "/v2/action-session/create", True, 422, id="422"),
    ],
)
def test_error_answers_carry_the_cors_headers_too(
    shared_mock: RunningMock, method: str, path: str, auth: bool, status: int
) -> None:
    with shared_mock.client(auth=auth) as client:
        response = client.request(method, path, json={}, headers={"Origin": ORIGIN})
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert _exposed(response) == EXPOSED
    body = response.json()
    if status == 422:
        assert body and all(set(problem) == {"field", "message"} for problem in body)
    else:
        assert body["status"] == status


def test_a_request_without_origin_gets_no_cors_headers(ro_client: httpx.Client) -> None:
    response = ro_client.get("/v2/action-session/view/sess-1")
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_listed_origins_only(start_mock: Callable[..., RunningMock]) -> None:
    mock = start_mock(cors_origins=(ORIGIN, "https://app.example"))
    preflight = {"Access-Control-Request-Method": "GET"}
    with mock.client() as client:
        allowed = client.get("/v2/action-session/view/sess-1", headers={"Origin": ORIGIN})
        other = client.get(
            "/v2/action-session/view/sess-1", headers={"Origin": "http://evil.example"}
        )
        refused = client.options(
            "/v2/action-session/index", headers={"Origin": "http://evil.example", **preflight}
        )
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert other.status_code == 200
    assert "Access-Control-Allow-Origin" not in other.headers
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert refused.json() == {
        "name": "Forbidden",
        "message": "The origin http://evil.example may not call this mock; start it with "
        "--cors-origin http://evil.example (or leave --cors-origin out to allow every origin).",
        "code": 0,
        "status": 403,
    }


def test_no_cors_leaves_preflights_to_the_api(start_mock: Callable[..., RunningMock]) -> None:
    mock = start_mock(cors=False)
    with httpx.Client(base_url=mock.base_url, headers=AUTH) as client:
        preflight = client.options(
            "/v2/action-session/index",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
        )
        answer = client.post("/v2/action-session/index", json={}, headers={"Origin": ORIGIN})
    assert preflight.status_code == 405
    assert preflight.json()["status"] == 405
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert answer.status_code == 200
    assert "Access-Control-Allow-Origin" not in answer.headers
