"""The seed document's examples, verbatim, against the mock's default data."""

from __future__ import annotations

import httpx

SEED_VIEW = {
    "action_session_id": "sess-1",
    "action_id": "act-1",
    "validity_unit": "MONTH",
    "validity": 12,
    "subtenant_id": "sub-1",
    "tenant_id": "ten-1",
    "action_code": "A001",
    "action_name": "Safety Training",
    "action_type": "TRAINING",
    "count_subscribed": 10,
    "count_done": 8,
    "count_fail": 1,
    "count_unknown": 1,
    "date_begin": "2024-01-10",
    "date_end": "2024-01-10",
}
SEED_CREATE_BODY = {
    "action_id": "act-1",
    "validity_unit": "MONTH",
    "validity": 6,
    "subtenant_id": "sub-1",
    "tenant_id": "ten-1",
}
SEED_UPDATE_BODY = {"validity_unit": "YEAR", "validity": 2}
SEED_UPDATE_ANSWER = {
    "action_session_id": "sess-1",
    "action_id": "act-1",
    "validity_unit": "YEAR",
    "validity": 2,
    "subtenant_id": "sub-1",
    "tenant_id": "ten-1",
}


def test_seed_index_example_returns_sess_1_first_with_pagination_headers(
    client: httpx.Client,
) -> None:
    response = client.post(
        "/v2/action-session/index",
        json={"filter": {"action_type": "TRAINING"}, "per-page": 10, "page": 1, "sort": "name"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body[0].items() >= SEED_VIEW.items()
    assert all(r["action_type"] == "TRAINING" for r in body)
    total = int(response.headers["X-Pagination-Total-Count"])
    assert response.headers["X-Pagination-Per-Page"] == "10"
    assert response.headers["X-Pagination-Current-Page"] == "1"
    assert int(response.headers["X-Pagination-Page-Count"]) == -(-total // 10)
    assert len(body) == min(10, total)


def test_seed_view_example_is_answered_verbatim_with_every_declared_field(
    client: httpx.Client,
) -> None:
    response = client.get("/v2/action-session/view/sess-1")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body.items() >= SEED_VIEW.items()
    assert body == {**SEED_VIEW, "data": None, "manager": None, "assignee": None, "watcher": None}


def test_seed_create_example_answers_201_stored_fields_and_location(client: httpx.Client) -> None:
    response = client.post("/v2/action-session/create", json=SEED_CREATE_BODY)
    assert response.status_code == 201
    body = response.json()
    new_id = body.pop("action_session_id")
    assert body == {
        **SEED_CREATE_BODY,
        "data": None,
        "manager": None,
        "assignee": None,
        "watcher": None,
    }
    assert response.headers["Location"] == f"/v2/action-session/view/{new_id}"
    assert client.get(response.headers["Location"]).json()["count_subscribed"] == 0


def test_seed_update_example_answers_the_seed_update_result(client: httpx.Client) -> None:
    response = client.put("/v2/action-session/update/sess-1", json=SEED_UPDATE_BODY)
    assert response.status_code == 200
    assert response.json() == {
        **SEED_UPDATE_ANSWER,
        "data": None,
        "manager": None,
        "assignee": None,
        "watcher": None,
    }
    assert client.get("/v2/action-session/view/sess-1").json()["validity_unit"] == "YEAR"


def test_seed_delete_without_force_is_400_listing_ten_subscriptions_and_the_day(
    client: httpx.Client,
) -> None:
    response = client.delete("/v2/action-session/delete/sess-1")
    assert response.status_code == 400
    body = response.json()
    assert {k: body[k] for k in ("name", "code", "status")} == {
        "name": "Bad Request",
        "code": 0,
        "status": 400,
    }
    assert isinstance(body["message"], str) and body["message"]
    related = body["related"]
    assert sorted(r["id"] for r in related if r["entity"] == "ActionSessionSubscription") == sorted(
        f"ssub-{n}" for n in range(1, 11)
    )
    assert [r["id"] for r in related if r["entity"] == "ActionSessionDate"] == ["sdate-1"]
    assert len(related) == 11
    assert client.get("/v2/action-session/view/sess-1").status_code == 200
