"""Request media types: read case-insensitively, refused clearly when absent or encoded; nosniff."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import RunningMock

BODY = b'{"per-page": 5}'
OPERATIONS = [
    pytest.param("POST", "/v2/action-session/index", id="index"),
    pytest.param("POST", "/v2/action-session/create", id="create"),
    pytest.param("PUT", "/v2/action-session/update/sess-2", id="update"),
]


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_a_body_without_content_type_is_415_not_a_500(
    ro_client: httpx.Client, method: str, path: str
) -> None:
    # httpx adds no Content-Type for raw bytes; this is curl's `-H 'Content-Type:'`.
    response = ro_client.request(method, path, content=BODY)
    assert response.status_code == 415
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {
        "name": "Unsupported Media Type",
        "message": "The request body has no Content-Type; send it with "
        "Content-Type: application/json.",
        "code": 0,
        "status": 415,
    }


def test_a_chunked_body_without_content_type_is_415(ro_client: httpx.Client) -> None:
    response = ro_client.post("/v2/action-session/index", content=iter([BODY]))
    assert response.status_code == 415
    assert response.json()["name"] == "Unsupported Media Type"


@pytest.mark.parametrize(
    "content_type",
    ["APPLICATION/JSON", "Application/Json; charset=utf-8", "application/JSON;charset=UTF-8"],
)
def test_media_types_are_case_insensitive(ro_client: httpx.Client, content_type: str) -> None:
    index = ro_client.post(
        "/v2/action-session/index", content=BODY, headers={"Content-Type": content_type}
    )
    assert index.status_code == 200
    assert index.headers["X-Pagination-Per-Page"] == "5"
    assert len(index.json()) == 5
    invalid = ro_client.post(
        "/v2/action-session/create", content=b"{}", headers={"Content-Type": content_type}
    )
    assert invalid.status_code == 422
    assert {p["field"] for p in invalid.json()} == {"action_id", "subtenant_id", "tenant_id"}


def test_another_media_type_is_415_without_a_python_list_in_the_message(
    ro_client: httpx.Client,
) -> None:
    response = ro_client.post(
        "/v2/action-session/index", content=BODY, headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.json()["message"] == "The request body must be sent as application/json."


def test_a_content_encoding_the_server_does_not_decode_is_415(ro_client: httpx.Client) -> None:
    response = ro_client.post(
        "/v2/action-session/index",
        content=b"\x1f\x8b\x08\x00",
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 415
    assert response.json()["message"] == (
        "The request body is in Content-Encoding gzip, which this server does not decode; "
        "send it uncompressed."
    )


def test_an_empty_body_without_content_type_is_no_body(ro_client: httpx.Client) -> None:
    response = ro_client.post("/v2/action-session/index")
    assert response.status_code == 200
    assert response.headers["X-Pagination-Per-Page"] == "100"


@pytest.mark.parametrize(
    ("path", "status"),
    [("/v2/action-session/view/sess-1", 200), ("/v2/action-session/view/none", 404), ("/x", 404)],
)
def test_every_answer_says_nosniff(shared_mock: RunningMock, path: str, status: int) -> None:
    with shared_mock.client() as client:
        response = client.get(path)
    assert response.status_code == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"
