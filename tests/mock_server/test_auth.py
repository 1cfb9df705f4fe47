"""Authentication: any one of the three schemes with a recognised token; checked before anything else."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.conftest import RunningMock

UNAUTHORIZED = {"name": "Unauthorized", "code": 0, "status": 401}


def _assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert {k: body[k] for k in UNAUTHORIZED} == UNAUTHORIZED and body["message"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": "Bearer wrong"}, id="unrecognised"),
        pytest.param({"Authorization": "Basic ZGV2OmRldg=="}, id="other-scheme"),
        pytest.param({"Authorization": "Bearer"}, id="empty-bearer"),
    ],
)
def test_missing_or_unrecognised_credentials_are_401(
    shared_mock: RunningMock, headers: dict[str, str]
) -> None:
    with shared_mock.client(auth=False) as client:
        _assert_401(client.get("/v2/action-session/view/sess-1", headers=headers))


def test_401_comes_before_404_and_before_validation(shared_mock: RunningMock) -> None:
    with shared_mock.client(auth=False) as client:
        _assert_401(client.get("/v2/action-session/view/no-such-id"))
        _assert_401(
            client.post(
                "/v2/action-session/create",
                content=b"{bad",
                headers={"Content-Type": "application/json"},
            )
        )
        _assert_401(client.delete("/v2/action-session/delete/sess-1", params={"force": "yes"}))


def test_the_access_token_query_parameter_is_accepted(shared_mock: RunningMock) -> None:
    with shared_mock.client(auth=False) as client:
        assert (
            client.get("/v2/action-session/view/sess-1", params={"access-token": "dev"}).status_code
            == 200
        )
        _assert_401(client.get("/v2/action-session/view/sess-1", params={"access-token": "nope"}))


def test_configured_tokens_replace_the_default(start_mock: Callable[..., RunningMock]) -> None:
    mock = start_mock(tokens=("alpha", "beta"))
    with mock.client(auth=False) as client:
        for token in ("alpha", "beta"):
            assert (
                client.get(
                    "/v2/action-session/view/sess-1", headers={"Authorization": f"Bearer {token}"}
                ).status_code
                == 200
            )
        _assert_401(
            client.get("/v2/action-session/view/sess-1", headers={"Authorization": "Bearer dev"})
        )


def test_auth_off_lets_every_request_through(start_mock: Callable[..., RunningMock]) -> None:
    mock = start_mock(auth="off")
    with mock.client(auth=False) as client:
        assert client.get("/v2/action-session/view/sess-1").status_code == 200
        assert (
            client.get(
                "/v2/action-session/view/sess-1", headers={"Authorization": "Bearer anything"}
            ).status_code
            == 200
        )


def test_auth_any_accepts_any_token_the_identity_provider_could_issue_but_not_none(
    start_mock: Callable[..., RunningMock],
) -> None:
    mock = start_mock(auth="any")
    view = "/v2/action-session/view/sess-1"
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbm5hIn0.c2lnbmF0dXJl"
    with mock.client(auth=False) as client:
        bearer = client.get(view, headers={"Authorization": f"Bearer {jwt}"})
        assert bearer.status_code == 200
        assert bearer.json()["action_session_id"] == "sess-1"
        assert client.get(view, params={"access-token": "whatever"}).status_code == 200
        _assert_401(client.get(view))
        _assert_401(client.get(view, headers={"Authorization": "Bearer"}))
        _assert_401(client.get(view, params={"access-token": ""}))
