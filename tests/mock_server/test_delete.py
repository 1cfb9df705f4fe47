"""Delete: blocked without force, cascade with force, nothing related, unknown and repeated ids."""

from __future__ import annotations

import httpx

ALL = {"per-page": 100, "history": True}


def _ids(client: httpx.Client, resource: str, **filter_: str) -> set[str]:
    response = client.post(f"/v2/{resource}/index", json={**ALL, "filter": filter_})
    assert response.status_code == 200
    id_field = resource.replace("-", "_") + "_id"
    return {r[id_field] for r in response.json()}


def test_blocked_delete_deletes_nothing(client: httpx.Client) -> None:
    subs = _ids(client, "action-session-subscription", action_session_id="sess-1")
    days = _ids(client, "action-session-date", action_session_id="sess-1")
    for force in ("false", None):
        params = {"force": force} if force else {}
        response = client.delete("/v2/action-session/delete/sess-1", params=params)
        assert response.status_code == 400
        related = response.json()["related"]
        assert {r["id"] for r in related if r["entity"] == "ActionSessionSubscription"} == subs
        assert {r["id"] for r in related if r["entity"] == "ActionSessionDate"} == days
    assert client.get("/v2/action-session/view/sess-1").status_code == 200
    assert _ids(client, "action-session-subscription", action_session_id="sess-1") == subs
    assert _ids(client, "action-session-date", action_session_id="sess-1") == days


def test_force_deletes_the_session_and_every_related_record(client: httpx.Client) -> None:
    subs = _ids(client, "action-session-subscription", action_session_id="sess-1")
    response = client.delete("/v2/action-session/delete/sess-1", params={"force": "true"})
    assert response.status_code == 204
    assert response.content == b""
    assert client.get("/v2/action-session/view/sess-1").status_code == 404
    assert "sess-1" not in _ids(client, "action-session")
    assert _ids(client, "action-session-subscription", action_session_id="sess-1") == set()
    assert _ids(client, "action-session-date", action_session_id="sess-1") == set()
    for sub in subs:
        assert client.get(f"/v2/action-session-subscription/view/{sub}").status_code == 404
    assert client.get("/v2/action-session-date/view/sdate-1").status_code == 404


def test_a_session_with_nothing_related_deletes_whatever_force_says(client: httpx.Client) -> None:
    assert (
        client.delete("/v2/action-session/delete/sess-2", params={"force": "false"}).status_code
        == 204
    )
    again = client.delete("/v2/action-session/delete/sess-2")
    assert again.status_code == 404
    assert again.json() == {
        "name": "Not Found",
        "message": again.json()["message"],
        "code": 0,
        "status": 404,
    }


def test_subscriptions_and_days_have_no_dependents(client: httpx.Client) -> None:
    assert client.delete("/v2/action-session-subscription/delete/ssub-1").status_code == 204
    assert (
        client.delete(
            "/v2/action-session-date/delete/sdate-1", params={"force": "true"}
        ).status_code
        == 204
    )
    session = client.get("/v2/action-session/view/sess-1").json()
    assert (session["count_subscribed"], session["date_begin"]) == (9, None)


def test_unknown_ids_are_404_for_every_resource(client: httpx.Client) -> None:
    for resource in ("action-session", "action-session-subscription", "action-session-date"):
        response = client.delete(f"/v2/{resource}/delete/nope-404")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/json"
        assert response.json()["name"] == "Not Found"


def test_a_force_value_that_is_not_a_boolean_is_400_and_deletes_nothing(
    client: httpx.Client,
) -> None:
    response = client.delete("/v2/action-session/delete/sess-2", params={"force": "yes"})
    assert response.status_code == 400
    assert set(response.json()) == {"name", "message", "code", "status"}
    assert client.get("/v2/action-session/view/sess-2").status_code == 200
