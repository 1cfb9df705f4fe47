"""Every error has the brief's shape for its status, framework-made errors included; no input is a 500."""

from __future__ import annotations

import httpx
import pytest

ERROR_KEYS = {"name", "message", "code", "status"}
JSON = {"Content-Type": "application/json"}


def _assert_error(response: httpx.Response, status: int, name: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert (body["name"], body["code"], body["status"]) == (name, 0, status)
    assert isinstance(body["message"], str) and body["message"]
    return dict(body)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"{bad", id="malformed"),
        pytest.param(b'{"action_id": "\xff"}', id="not-utf8"),
        pytest.param(b"[]", id="array"),
        pytest.param(b"null", id="null"),
        pytest.param(b'{"validity": NaN}', id="nan"),
        pytest.param(b"[" * 100_000, id="deeply-nested"),
        pytest.param(b'{"validity": ' + b"9" * 5000 + b"}", id="huge-number"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(ro_client: httpx.Client, content: bytes) -> None:
    response = ro_client.post("/v2/action-session/create", content=content, headers=JSON)
    _assert_error(response, 400, "Bad Request")


def test_create_without_a_body_is_400(ro_client: httpx.Client) -> None:
    _assert_error(ro_client.post("/v2/action-session/create", headers=JSON), 400, "Bad Request")


def test_a_query_parameter_of_the_wrong_type_is_400(ro_client: httpx.Client) -> None:
    _assert_error(
        ro_client.delete("/v2/action-session/delete/sess-1", params={"force": "yes"}),
        400,
        "Bad Request",
    )


def test_422_lists_every_problem_not_only_the_first(ro_client: httpx.Client) -> None:
    response = ro_client.post(
        "/v2/action-session/create",
        json={"validity": -1, "validity_unit": "WEEK", "data": [1], "manager": 3},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    fields = [e["field"] for e in response.json()]
    assert sorted(fields) == sorted(
        ["action_id", "subtenant_id", "tenant_id", "validity", "validity_unit", "data", "manager"]
    )
    assert all(set(e) == {"field", "message"} for e in response.json())


def test_null_where_the_field_is_not_nullable_is_422(ro_client: httpx.Client) -> None:
    response = ro_client.put("/v2/action-session/update/sess-1", json={"tenant_id": None})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()] == ["tenant_id"]


def test_unknown_record_is_404(ro_client: httpx.Client) -> None:
    _assert_error(ro_client.get("/v2/action-session-date/view/nope"), 404, "Not Found")


def test_unknown_path_is_404_in_the_same_shape(ro_client: httpx.Client) -> None:
    _assert_error(ro_client.get("/v2/no-such-resource/view/1"), 404, "Not Found")


def test_a_method_the_path_does_not_serve_is_405_with_allow(ro_client: httpx.Client) -> None:
    response = ro_client.get("/v2/action-session/index")
    _assert_error(response, 405, "Method Not Allowed")
    assert response.headers["Allow"] == "POST"
    allow = ro_client.patch("/v2/action-session/view/sess-1").headers["Allow"]
    assert {m.strip() for m in allow.split(",")} == {"GET", "HEAD"}


def test_a_body_over_1_mib_is_413(ro_client: httpx.Client) -> None:
    big = b'{"data": {"x": "' + b"a" * (1 << 20) + b'"}}'
    _assert_error(
        ro_client.post("/v2/action-session/create", content=big, headers=JSON),
        413,
        "Request Entity Too Large",
    )


def test_a_chunked_body_over_1_mib_is_413(ro_client: httpx.Client) -> None:
    def chunks() -> object:
        yield b'{"data": "'
        for _ in range(20):
            yield b"a" * 65536
        yield b'"}'

    response = ro_client.post("/v2/action-session/create", content=chunks(), headers=JSON)  # type: ignore[arg-type]
    _assert_error(response, 413, "Request Entity Too Large")


def test_a_body_that_is_not_json_is_415(ro_client: httpx.Client) -> None:
    response = ro_client.post(
        "/v2/action-session/create",
        content=b"action_id=act-1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _assert_error(response, 415, "Unsupported Media Type")


def test_a_client_id_with_characters_a_path_cannot_carry_is_422(ro_client: httpx.Client) -> None:
    response = ro_client.post(
        "/v2/action-session/create",
        json={
            "action_session_id": "a/b é",
            "action_id": "act-1",
            "subtenant_id": "s",
            "tenant_id": "t",
        },
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()] == ["action_session_id"]


def test_422_lists_schema_and_reference_problems_together(ro_client: httpx.Client) -> None:
    response = ro_client.put(
        "/v2/action-session-date/update/sdate-1",
        json={"action_session_id": "sess-404", "date_end": "2020-01-01T00:00:00Z", "data": 3},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert [e["field"] for e in response.json()] == ["data", "action_session_id", "date_end"]
    assert (
        ro_client.get("/v2/action-session-date/view/sdate-1").json()["date_end"]
        == "2024-01-10T17:00:00Z"
    )


def test_422_messages_are_plain_sentences_for_people(ro_client: httpx.Client) -> None:
    response = ro_client.post(
        "/v2/action-session/create",
        json={
            "action_id": "act-404",
            "tenant_id": "ten-1",
            "validity_unit": "WEEK",
            "validity": -1,
            "data": 5,
            "manager": 3,
            "subtenant_id": None,
        },
    )
    assert response.status_code == 422
    assert response.json() == [
        {"field": "data", "message": "Data must be an object."},
        {"field": "manager", "message": "Manager must be a string."},
        {"field": "subtenant_id", "message": "Subtenant Id cannot be blank."},
        {"field": "validity", "message": "Validity must be no less than 0."},
        {"field": "validity_unit", "message": "Validity Unit is invalid."},
        {"field": "action_id", "message": 'Action "act-404" does not exist.'},
    ]


def test_index_422_messages_name_the_member_without_python_reprs(ro_client: httpx.Client) -> None:
    response = ro_client.post(
        "/v2/action-session/index",
        json={"filter": {"validity_unit": "WEEK", "date_begin": "AAA"}, "per-page": 0, "page": "x"},
    )
    assert response.status_code == 422
    assert response.json() == [
        {"field": "filter.date_begin", "message": "Date Begin is invalid."},
        {"field": "filter.validity_unit", "message": "Validity Unit is invalid."},
        {"field": "page", "message": "Page must be an integer."},
        {"field": "per-page", "message": "Per Page must be no less than 1."},
    ]
    for problem in response.json():
        assert "None" not in problem["message"] and "[" not in problem["message"]


def test_a_day_ending_before_it_begins_says_so_in_words(client: httpx.Client) -> None:
    response = client.post(
        "/v2/action-session-date/create",
        json={
            "action_session_id": "sess-2",
            "subtenant_id": "sub-2",
            "tenant_id": "ten-1",
            "date_begin": "2024-01-02T09:00:00Z",
            "date_end": "2024-01-01T17:00:00Z",
        },
    )
    assert response.status_code == 422
    assert response.json() == [
        {"field": "date_end", "message": "Date End must be no earlier than Date Begin."}
    ]
