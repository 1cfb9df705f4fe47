"""Create and update: stored answers, computed fields, references, read-only and unknown members."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

SESSION = {
    "action_id": "act-3",
    "validity_unit": "YEAR",
    "validity": 1,
    "subtenant_id": "sub-3",
    "tenant_id": "ten-2",
}
NULLS = {"data": None, "manager": None, "assignee": None, "watcher": None}


def _create(client: httpx.Client, resource: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/v2/{resource}/create", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _view(client: httpx.Client, resource: str, record_id: str) -> dict[str, Any]:
    response = client.get(f"/v2/{resource}/view/{record_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_create_without_id_makes_a_uuid_and_answers_stored_fields_only(
    client: httpx.Client,
) -> None:
    response = client.post("/v2/action-session/create", json=SESSION)
    assert response.status_code == 201
    body = response.json()
    new_id = body.pop("action_session_id")
    assert len(new_id) == 36 and new_id.count("-") == 4
    assert body == {**SESSION, **NULLS}
    assert response.headers["Location"] == f"/v2/action-session/view/{new_id}"


def test_view_of_a_new_session_joins_the_action_and_computes_empty_counts(
    client: httpx.Client,
) -> None:
    created = _create(
        client, "action-session", {**SESSION, "action_session_id": "mine-1", "data": {"k": [1, 2]}}
    )
    assert _view(client, "action-session", "mine-1") == {
        **created,
        "action_code": "H001",
        "action_name": "Periodic Medical Visit",
        "action_type": "HEALTH",
        "count_subscribed": 0,
        "count_done": 0,
        "count_fail": 0,
        "count_unknown": 0,
        "date_begin": None,
        "date_end": None,
    }


def test_a_taken_id_is_409_and_changes_nothing(client: httpx.Client) -> None:
    before = _view(client, "action-session", "sess-1")
    response = client.post(
        "/v2/action-session/create", json={**SESSION, "action_session_id": "sess-1"}
    )
    assert response.status_code == 409
    assert response.json() == {
        "name": "Conflict",
        "message": response.json()["message"],
        "code": 0,
        "status": 409,
    }
    assert _view(client, "action-session", "sess-1") == before


def test_read_only_and_unknown_members_are_ignored_on_create_and_update(
    client: httpx.Client,
) -> None:
    created = _create(
        client, "action-session", {**SESSION, "count_done": 99, "action_code": "X", "colour": "red"}
    )
    assert "colour" not in created and "count_done" not in created
    updated = client.put(
        f"/v2/action-session/update/{created['action_session_id']}",
        json={
            "count_done": 5,
            "action_type": "PER",
            "colour": "blue",
            "action_session_id": "renamed",
        },
    )
    assert updated.status_code == 200
    assert updated.json() == created
    view = _view(client, "action-session", created["action_session_id"])
    assert (view["count_done"], view["action_type"], view["action_code"]) == (0, "HEALTH", "H001")


def test_update_is_partial(client: httpx.Client) -> None:
    created = _create(
        client, "action-session", {**SESSION, "data": {"a": 1}, "manager": '{"id": "u1"}'}
    )
    response = client.put(
        f"/v2/action-session/update/{created['action_session_id']}", json={"validity": 3}
    )
    assert response.status_code == 200
    assert response.json() == {**created, "validity": 3}


def test_update_can_set_nullable_fields_to_null(client: httpx.Client) -> None:
    response = client.put(
        "/v2/action-session/update/sess-1", json={"validity_unit": None, "validity": None}
    )
    assert response.status_code == 200
    assert (response.json()["validity_unit"], response.json()["validity"]) == (None, None)


@pytest.mark.parametrize(
    ("resource", "body", "fields"),
    [
        pytest.param(
            "action-session",
            {**SESSION, "action_id": "act-404"},
            ["action_id"],
            id="unknown-action",
        ),
        pytest.param(
            "action-session-subscription",
            {
                "action_session_id": "sess-404",
                "action_subscription_id": "a",
                "subtenant_id": "s",
                "tenant_id": "t",
            },
            ["action_session_id"],
            id="unknown-session",
        ),
        pytest.param(
            "action-session-date",
            {
                "action_session_id": "sess-404",
                "subtenant_id": "s",
                "tenant_id": "t",
                "date_begin": "2024-05-02T10:00:00Z",
                "date_end": "2024-05-01T10:00:00Z",
            },
            ["action_session_id", "date_end"],
            id="unknown-session-and-end-before-begin",
        ),
    ],
)
def test_broken_references_and_rules_are_422_with_every_problem(
    client: httpx.Client, resource: str, body: dict[str, Any], fields: list[str]
) -> None:
    before = client.post(f"/v2/{resource}/index", json={}).headers["X-Pagination-Total-Count"]
    response = client.post(f"/v2/{resource}/create", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert [e["field"] for e in response.json()] == fields
    assert all(isinstance(e["message"], str) and e["message"] for e in response.json())
    assert (
        client.post(f"/v2/{resource}/index", json={}).headers["X-Pagination-Total-Count"] == before
    )


def test_update_to_an_unknown_action_is_422_and_keeps_the_record(client: httpx.Client) -> None:
    before = _view(client, "action-session", "sess-1")
    response = client.put("/v2/action-session/update/sess-1", json={"action_id": "act-404"})
    assert response.status_code == 422
    assert response.json()[0]["field"] == "action_id"
    assert _view(client, "action-session", "sess-1") == before


def test_update_of_an_unknown_id_is_404(client: httpx.Client) -> None:
    response = client.put("/v2/action-session/update/sess-404", json={"validity": 1})
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_subscriptions_move_the_parent_counts_at_once(client: httpx.Client) -> None:
    session = _create(client, "action-session", SESSION)["action_session_id"]
    base = {"action_session_id": session, "subtenant_id": "sub-3", "tenant_id": "ten-2"}
    first = _create(client, "action-session-subscription", {**base, "action_subscription_id": "p1"})
    assert (first["done"], first["warning"]) == (-1, 0)
    _create(
        client, "action-session-subscription", {**base, "action_subscription_id": "p2", "done": 1}
    )

    def counts() -> tuple[int, ...]:
        view = _view(client, "action-session", session)
        return tuple(
            view[k] for k in ("count_subscribed", "count_done", "count_fail", "count_unknown")
        )

    assert counts() == (2, 1, 0, 1)
    assert (
        client.put(
            f"/v2/action-session-subscription/update/{first['action_session_subscription_id']}",
            json={"done": 0},
        ).status_code
        == 200
    )
    assert counts() == (2, 1, 1, 0)
    assert (
        client.delete(
            f"/v2/action-session-subscription/delete/{first['action_session_subscription_id']}"
        ).status_code
        == 204
    )
    assert counts() == (1, 1, 0, 0)
    moved = client.put(
        f"/v2/action-session-subscription/update/{first['action_session_subscription_id']}",
        json={"done": 1},
    )
    assert moved.status_code == 404


def test_moving_a_subscription_moves_both_parents_counts(client: httpx.Client) -> None:
    response = client.put(
        "/v2/action-session-subscription/update/ssub-1", json={"action_session_id": "sess-2"}
    )
    assert response.status_code == 200
    assert _view(client, "action-session", "sess-1")["count_subscribed"] == 9
    assert _view(client, "action-session", "sess-2")["count_subscribed"] == 1


def test_days_move_the_parent_dates_and_join_the_action(client: httpx.Client) -> None:
    base = {"action_session_id": "sess-1", "subtenant_id": "sub-1", "tenant_id": "ten-1"}
    later = _create(
        client,
        "action-session-date",
        {**base, "date_begin": "2024-03-01T08:00:00Z", "date_end": "2024-03-02T18:00:00Z"},
    )
    assert later == {
        **base,
        "action_session_date_id": later["action_session_date_id"],
        "date_begin": "2024-03-01T08:00:00Z",
        "date_end": "2024-03-02T18:00:00Z",
        "data": None,
    }
    _create(
        client,
        "action-session-date",
        {**base, "date_begin": "2023-12-30T08:00:00Z", "date_end": "2023-12-30T12:00:00Z"},
    )
    session = _view(client, "action-session", "sess-1")
    assert (session["date_begin"], session["date_end"]) == ("2023-12-30", "2024-03-02")
    day = _view(client, "action-session-date", later["action_session_date_id"])
    assert {k: day[k] for k in ("action_id", "action_code", "action_name", "action_type")} == {
        "action_id": "act-1",
        "action_code": "A001",
        "action_name": "Safety Training",
        "action_type": "TRAINING",
    }
    bad = client.put(
        f"/v2/action-session-date/update/{later['action_session_date_id']}",
        json={"date_end": "2024-02-01T00:00:00Z"},
    )
    assert bad.status_code == 422 and bad.json()[0]["field"] == "date_end"


def test_any_rfc3339_spelling_of_a_day_is_accepted_and_counted(client: httpx.Client) -> None:
    base = {"action_session_id": "sess-2", "subtenant_id": "sub-2", "tenant_id": "ten-1"}
    for begin, end in (
        ("2024-05-01t09:00:00z", "2024-05-01t10:00:00.123456789z"),
        ("2024-04-30T23:00:00-02:00", "2024-05-02T08:00:00+00:00"),
    ):
        _create(client, "action-session-date", {**base, "date_begin": begin, "date_end": end})
    session = _view(client, "action-session", "sess-2")
    assert (session["date_begin"], session["date_end"]) == ("2024-04-30", "2024-05-02")
